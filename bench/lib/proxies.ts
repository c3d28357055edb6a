import { fileURLToPath } from 'node:url';
import { freePort, guarded, isExecutable, nodeEntry, startChildServer, type ChildCommand, type ChildServer } from './child.js';
import { compareTargets, describeMeasured, type CompareOptions, type Measured } from './compare.js';
import { nginxProxy, nginxVersion, NGINX_PATH } from './nginx.js';
import { cpuTimeMs, listeningPids, peakRssBytes } from './proc.js';
import { runWarmLatency, type WarmLatency } from './h2load.js';
import { formatSmall, medianBy, type Row } from './table.js';

/** The V8 flag `npm start`, the bin's shebang and the Dockerfile give the CLI: a 4 MB cap on each young-generation semi-space. */
export const SIDECAR_NODE_FLAG = '--max-semi-space-size=4';
/** The shipped bin, the bundle `npm run bench` builds into dist/, started with the flags its shebang gives Node. */
const CLI_PATH = fileURLToPath(new URL('../../../dist/bundle/cli/bin.js', import.meta.url));
const CLI_NODE_FLAGS = [SIDECAR_NODE_FLAG, '--liftoff-only', '--no-maglev', '--expose-gc'];
/** The Go queue-proxy anchor, built by hand outside this repository as shared/anchors/go-queue-proxy/README.md says. */
const GO_QUEUE_PROXY_PATH = '/tmp/go-queue-proxy';
/** The result cell of the anchor's rows when it is not built. */
export const GO_QUEUE_PROXY_MISSING = `n/a (build ${GO_QUEUE_PROXY_PATH} as shared/anchors/go-queue-proxy/README.md says)`;
export const GO_QUEUE_PROXY_SUBJECT = 'Go queue-proxy anchor: httputil.ReverseProxy + RequestStats + client_golang, GOMAXPROCS=1';

/**
 * How to start one reverse proxy in front of the app: a short name for errors, the table's description, and the
 * command serving on 127.0.0.1:`port` and forwarding to the app on `appPort` (`remove` cleans up after it stopped).
 */
interface ProxyKind {
  name: string;
  subject: string;
  launch(port: number, appPort: number): { command: ChildCommand; remove?: () => void };
}

/**
 * Our CLI, stats on: proxy, tracker, reporter, metrics server on `metricsPort`, request metrics and admin server on
 * free ports, OTel SDK, with the shipped V8 flags and `extraFlags` after them.
 */
export async function cliKind(metricsPort: number, extraFlags: readonly string[] = []): Promise<ProxyKind> {
  const ports = ['--metrics-port', String(metricsPort), '--request-metrics-port', String(await freePort()), '--admin-port', String(await freePort())];
  const args = (port: number, appPort: number): string[] => [
    ...[...CLI_NODE_FLAGS, ...extraFlags, CLI_PATH, '--upstream', `http://127.0.0.1:${appPort}`, '--port', String(port), ...ports, '--host', '127.0.0.1'],
    ...['--namespace', 'bench', '--config', 'hello', '--revision', 'hello-1', '--pod', 'hello-1-bench'],
  ];
  return {
    name: ['ours, stats on', ...extraFlags].join(' '),
    subject: `ours, stats on: the shipped bin (proxy + tracker + metrics server + request metrics + OTel SDK), ${[...CLI_NODE_FLAGS, ...extraFlags].join(' ')}`,
    launch: (port, appPort) => ({ command: guarded(process.execPath, args(port, appPort)) }),
  };
}

/** Our proxy, stats off (startProxy without tracker), with the CLI's V8 flag. */
const STATS_OFF: ProxyKind = {
  name: 'ours, stats off',
  subject: `ours, stats off: startProxy without tracker, ${SIDECAR_NODE_FLAG}`,
  launch: (port, appPort) => ({ command: nodeEntry('serve-proxy.js', [String(port), `http://127.0.0.1:${appPort}`], [SIDECAR_NODE_FLAG]) }),
};

/** nginx `version` as a reverse proxy with one worker and upstream keep-alive (bench/lib/nginx.ts). */
function nginxKind(version: string): ProxyKind {
  return { name: 'nginx', subject: `nginx ${version}, worker_processes 1, upstream keepalive`, launch: nginxProxy };
}

/**
 * The Go queue-proxy anchor with its metrics on 127.0.0.1:`metricsPort`, or `undefined` when it is not built.
 * GOMAXPROCS=1, as its README says: Knative gives the queue-proxy a small CPU request, and two Go threads on a
 * 2-core machine fight the load client for the cores.
 */
function goQueueProxyKind(metricsPort: number): ProxyKind | undefined {
  if (!isExecutable(GO_QUEUE_PROXY_PATH)) return undefined;
  const listen = (port: number, appPort: number): string[] => ['-listen', `127.0.0.1:${port}`, '-metrics', `127.0.0.1:${metricsPort}`, '-upstream', `http://127.0.0.1:${appPort}`];
  // env(1) execs the binary, which therefore holds the port itself.
  return {
    name: 'go queue-proxy',
    subject: GO_QUEUE_PROXY_SUBJECT,
    launch: (port, appPort) => ({ command: guarded('/usr/bin/env', ['GOMAXPROCS=1', GO_QUEUE_PROXY_PATH, ...listen(port, appPort)]) }),
  };
}

/** What {@link measureProxies} measured: the table's rows for the app and every proxy, and our CLI, our proxy with stats off, the Go anchor (when run). */
export interface ProxyMeasurements {
  rows: Row[];
  ours: Measured;
  statsOff?: Measured;
  anchor?: Measured;
  /** The highest `queue_requests_per_second` the CLI's /metrics reported. */
  peakCounted: number;
  /** The CLI run with each of `variantFlags`, in that order. */
  variants: Measured[];
  /** With `warm`: each round's latency over warm connections, of our CLI and of the Go anchor (when run). */
  oursWarm?: WarmLatency[];
  anchorWarm?: WarmLatency[];
}

/** Rounds of {@link runWarmLatency} after the wrk comparison, rotated across the targets as wrk's rounds are. */
export interface WarmOptions {
  rounds: number;
  durationSeconds: number;
  warmupSeconds: number;
}

/** One target's warm rounds in a cell: median p50 and p99 with the p99's range. */
function describeWarm(rounds: readonly WarmLatency[]): string {
  const p99s = rounds.map((round) => round.p99Ms);
  const median = medianBy(rounds, (round) => round.p99Ms);
  return `warm connections (h2load --h1): p50 ${formatSmall(median.p50Ms)} ms, p99 ${formatSmall(median.p99Ms)} ms (${rounds.length} rounds ${formatSmall(Math.min(...p99s))}–${formatSmall(Math.max(...p99s))})`;
}

/**
 * Starts the app (bench/servers/serve-app.ts in `appMode`) and, each in its own process in front of it, our CLI, our
 * proxy with stats off (with `statsOff`), nginx and the Go anchor when installed; loads them all with rotated wrk
 * rounds and reads, for the processes listening on each port (not wrappers such as guard.js), CPU time per request
 * over the whole comparison and peak RSS. Meanwhile it scrapes the CLI's /metrics once a second, as Knative's
 * autoscaler does: its peak `queue_requests_per_second` proves the requests were counted. Row subjects start with
 * `prefix`; the app's row says `direct: ${appSubject}`.
 *
 * @throws Error when a server does not start, a wrk run fails, or the CLI never reported a request
 */
export async function measureProxies(
  prefix: string,
  appSubject: string,
  statsOff: boolean,
  load: CompareOptions,
  appMode: 'plain' | 'sleep5',
  warm?: WarmOptions,
  variantFlags: ReadonlyArray<readonly string[]> = [],
): Promise<ProxyMeasurements> {
  const nginx = nginxVersion();
  const metricsUrl = `http://127.0.0.1:${await freePort()}/metrics`;
  const go = goQueueProxyKind(await freePort());
  const variants = await Promise.all(variantFlags.map(async (flags) => cliKind(await freePort(), flags)));
  const kinds = [await cliKind(Number(new URL(metricsUrl).port)), ...(statsOff ? [STATS_OFF] : []), ...variants, ...(nginx === undefined ? [] : [nginxKind(nginx)]), ...(go === undefined ? [] : [go])];
  const servers: ChildServer[] = [];
  const removals: (() => void)[] = [];
  let scraper: NodeJS.Timeout | undefined;
  try {
    const appPort = await freePort();
    servers.push(await startChildServer('app', nodeEntry('serve-app.js', [String(appPort), appMode]), `http://127.0.0.1:${appPort}/`));
    for (const kind of kinds) {
      const port = await freePort();
      const { command, remove } = kind.launch(port, appPort);
      if (remove !== undefined) removals.push(remove);
      servers.push(await startChildServer(kind.name, command, `http://127.0.0.1:${port}/`));
    }
    let peakCounted = 0;
    let scrapeError: unknown;
    scraper = setInterval(() => {
      fetch(metricsUrl)
        .then((response) => response.text())
        .then((body) => (peakCounted = Math.max(peakCounted, Number(/^queue_requests_per_second\{[^}]*\} (\S+)$/m.exec(body)?.[1] ?? 0))))
        .catch((error: unknown) => (scrapeError ??= error));
    }, 1000);
    const pids = servers.map((server) => listeningPids(Number(new URL(server.url).port)));
    const cpuBefore = pids.map(cpuTimeMs);
    const loads = await compareTargets(
      servers.map((server, index) => ({ name: ['direct', ...kinds.map((kind) => kind.name)][index]!, url: server.url })),
      load,
    );
    clearInterval(scraper);
    if (scrapeError !== undefined) throw new Error(`scraping ${metricsUrl} failed`, { cause: scrapeError });
    if (peakCounted === 0) throw new Error('the CLI never reported a request on /metrics: stats were not counted');
    const requests = loads.map((result) => result.runs.reduce((sum, run) => sum + run.requests, 0));
    // Every request, direct or proxied, reaches the app.
    requests[0] = requests.reduce((sum, count) => sum + count, 0);
    const measured: Measured[] = loads.map((result, index) => ({
      load: result,
      cpuUsPerRequest: ((cpuTimeMs(pids[index]!) - cpuBefore[index]!) * 1000) / requests[index]!,
      peakRssBytes: peakRssBytes(pids[index]!),
    }));
    const warmRounds: WarmLatency[][] = servers.map(() => []);
    for (let round = 0; round < (warm?.rounds ?? 0); round++) {
      for (let step = 0; step < servers.length; step++) {
        const index = (round + step) % servers.length;
        warmRounds[index]!.push(await runWarmLatency(servers[index]!.url, load.connections, warm!.durationSeconds, warm!.warmupSeconds));
      }
    }
    const cell = (index: number): string => [describeMeasured(measured[index]!), ...(warm === undefined ? [] : [describeWarm(warmRounds[index]!)])].join('; ');
    const rows: Row[] = [{ subject: `${prefix}direct: ${appSubject}`, result: cell(0) }, ...kinds.map((kind, index) => ({ subject: `${prefix}${kind.subject}`, result: cell(index + 1) }))];
    if (nginx === undefined) rows.push({ subject: `${prefix}nginx, worker_processes 1`, result: `n/a (${NGINX_PATH} not installed)` });
    return {
      rows,
      ours: measured[1]!,
      statsOff: statsOff ? measured[2] : undefined,
      anchor: go === undefined ? undefined : measured.at(-1),
      peakCounted,
      variants: measured.slice(statsOff ? 3 : 2, (statsOff ? 3 : 2) + variants.length),
      ...(warm === undefined ? {} : { oursWarm: warmRounds[1], anchorWarm: go === undefined ? undefined : warmRounds.at(-1) }),
    };
  } finally {
    clearInterval(scraper);
    await Promise.all(servers.map((server) => server.stop()));
    for (const remove of removals) remove();
  }
}
