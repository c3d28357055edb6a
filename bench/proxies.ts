import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { freePort, nodeEntry, startChildServer, type ChildCommand, type ChildServer } from './child.js';
import type { CompareOptions } from './compare.js';
import { measureTargets, type Measured } from './measure-targets.js';
import { nginxProxy } from './nginx.js';
import { scrapeRegularly, type Scraper } from './poll-metrics.js';

/**
 * The V8 flag `npm start`, the bin's shebang and the Dockerfile give the CLI:
 * a 4 MB cap on each young-generation semi-space (see BENCHMARKS.md).
 */
export const SIDECAR_NODE_FLAG = '--max-semi-space-size=4';
const CLI_PATH = fileURLToPath(new URL('../src/cli/cli.js', import.meta.url));

/** How to start one reverse proxy in front of the app. */
export interface ProxyKind {
  /** Short name, used in errors and as the key of its results. */
  name: string;
  /** The table's description of it. */
  subject: string;
  /** The command serving on 127.0.0.1:`port` and forwarding to the app on `appPort`; `remove` cleans up after it stopped. */
  launch(port: number, appPort: number): { command: ChildCommand; remove?: () => void };
}

/**
 * Our CLI, stats on: proxy, tracker, reporter, metrics server on `metricsPort`, OTel SDK.
 *
 * @param nodeFlags - Node flags before the script, by default the shipped {@link SIDECAR_NODE_FLAG}
 */
export function cliKind(metricsPort: number, nodeFlags: readonly string[] = [SIDECAR_NODE_FLAG]): ProxyKind {
  const flags = nodeFlags.length === 0 ? 'V8 defaults' : nodeFlags.join(' ');
  return {
    name: `ours, stats on (${flags})`,
    subject: `ours, stats on: the CLI (proxy + tracker + metrics server + OTel SDK), ${flags}`,
    // Under guard.js, because the CLI does not exit when the runner's pipe closes.
    launch: (port, appPort) => ({
      command: nodeEntry('./guard.js', [
        process.execPath,
        ...nodeFlags,
        CLI_PATH,
        ...['--upstream', `http://127.0.0.1:${appPort}`, '--port', String(port), '--metrics-port', String(metricsPort)],
        ...['--host', '127.0.0.1', '--namespace', 'bench', '--config', 'hello', '--revision', 'hello-1', '--pod', 'hello-1-bench'],
      ]),
    }),
  };
}

/** Our proxy, stats off (startProxy without tracker), with the CLI's V8 flag; `copy` tells apart identical ones. */
export function statsOffKind(copy = ''): ProxyKind {
  const name = `ours, stats off${copy}`;
  return {
    name,
    subject: `${name}: startProxy without tracker, ${SIDECAR_NODE_FLAG}`,
    launch: (port, appPort) => {
      const entry = nodeEntry('./serve-proxy.js', [String(port), `http://127.0.0.1:${appPort}`]);
      return { command: { command: entry.command, args: [SIDECAR_NODE_FLAG, ...entry.args] } };
    },
  };
}

/** nginx as a reverse proxy with upstream keep-alive, one worker or one per CPU. */
export function nginxKind(version: string, workers: 1 | 'auto'): ProxyKind {
  return {
    name: `nginx ${workers}`,
    subject: `nginx ${version}, worker_processes ${workers === 'auto' ? `auto (${cpus().length})` : workers}, upstream keepalive`,
    launch: (port, appPort) => nginxProxy({ port, upstreamPort: appPort, workers }),
  };
}

/** What {@link measureProxies} measured. */
export interface ProxyMeasurements {
  /** The app loaded directly. */
  direct: Measured;
  /** One per kind, in the order given. */
  proxies: Measured[];
  /** The highest `queue_requests_per_second` read from `metricsUrl` during the run; 0 without one. */
  peakCounted: number;
}

/**
 * Starts a hello-world node:http app and each proxy kind in front of it,
 * each in its own process, loads them all with rotated wrk rounds, and
 * stops them. With `metricsUrl`, scrapes it once a second meanwhile.
 *
 * @param appMode - `plain` answers at once; `sleep5` after a 5 ms timer (bench/serve-app.ts)
 * @throws Error when a server does not start, a wrk run fails, or `metricsUrl` never reported a request
 */
export async function measureProxies(kinds: readonly ProxyKind[], load: CompareOptions, metricsUrl?: string, appMode: 'plain' | 'sleep5' = 'plain'): Promise<ProxyMeasurements> {
  const servers: ChildServer[] = [];
  const removals: (() => void)[] = [];
  let scraper: Scraper | undefined;
  try {
    const appPort = await freePort();
    servers.push(await startChildServer('app', nodeEntry('./serve-app.js', [String(appPort), appMode]), `http://127.0.0.1:${appPort}/`));
    for (const kind of kinds) {
      const port = await freePort();
      const { command, remove } = kind.launch(port, appPort);
      if (remove !== undefined) removals.push(remove);
      servers.push(await startChildServer(kind.name, command, `http://127.0.0.1:${port}/`));
    }
    if (metricsUrl !== undefined) scraper = scrapeRegularly(metricsUrl);
    const [direct, ...proxies] = await measureTargets(servers, ['direct', ...kinds.map((kind) => kind.name)], load);
    scraper?.stop();
    const peakCounted = scraper?.peak() ?? 0;
    if (scraper !== undefined && peakCounted === 0) throw new Error('the CLI never reported a request on /metrics: stats were not counted');
    return { direct: direct!, proxies, peakCounted };
  } finally {
    scraper?.stop();
    await Promise.all(servers.map((server) => server.stop()));
    for (const remove of removals) remove();
  }
}
