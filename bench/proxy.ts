import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Benchmark, Row } from './benchmark.js';
import { freePort, nodeEntry, startChildServer, type ChildCommand, type ChildServer } from './child.js';
import { pairedRatio, type CompareOptions, type TargetResult } from './compare.js';
import { describeMeasured, measureTargets, megabytes, type Measured } from './measure-targets.js';
import { nginxProxy, nginxVersion, NGINX_PATH } from './nginx.js';
import { scrapeRegularly, type Scraper } from './poll-metrics.js';
import { formatCount } from './table.js';

/** wrk -t1 -c32, seven rotated 2 s runs per target after a 1 s warm-up. */
const LOAD: CompareOptions = { rounds: 7, durationSeconds: 2, connections: 32, warmupSeconds: 1 };
const GOAL_STATS_RATIO = 0.97;
const GOAL_NGINX_RATIO = 0.6;
/** Peak RSS goal of the CLI process, in MB (10^6 bytes). */
const GOAL_RSS_MB = 80;
const CLI_PATH = fileURLToPath(new URL('../src/cli.js', import.meta.url));
/** The start-up flag `npm start` and the Dockerfile give the CLI (see src/v8-tuning.ts). */
export const SIDECAR_NODE_FLAG = '--max-semi-space-size=1';

/** How to start one proxy in front of the app. */
interface ProxyKind {
  name: string;
  subject: string;
  /** The command serving on 127.0.0.1:`port` and forwarding to the app on `appPort`; `remove` cleans up after it stopped. */
  launch(port: number, appPort: number): { command: ChildCommand; remove?: () => void };
}

function cliKind(metricsPort: number): ProxyKind {
  return {
    name: 'ours, stats on',
    subject: 'ours, stats on: the CLI (proxy + tracker + metrics server + OTel SDK, /metrics scraped 1/s)',
    // Under guard.js, because the CLI does not exit when the runner's pipe closes.
    launch: (port, appPort) => ({
      command: nodeEntry('./guard.js', [
        process.execPath,
        SIDECAR_NODE_FLAG,
        CLI_PATH,
        ...['--upstream', `http://127.0.0.1:${appPort}`, '--port', String(port), '--metrics-port', String(metricsPort)],
        ...['--host', '127.0.0.1', '--namespace', 'bench', '--config', 'hello', '--revision', 'hello-1', '--pod', 'hello-1-bench'],
      ]),
    }),
  };
}

const STATS_OFF: ProxyKind = {
  name: 'ours, stats off',
  subject: 'ours, stats off: startProxy without tracker',
  launch: (port, appPort) => {
    const entry = nodeEntry('./serve-proxy.js', [String(port), `http://127.0.0.1:${appPort}`]);
    // The same V8 settings as the CLI, so the ratio isolates the cost of the stats.
    return { command: { command: entry.command, args: [SIDECAR_NODE_FLAG, ...entry.args] } };
  },
};

function nginxKind(version: string, workers: 1 | 'auto'): ProxyKind {
  return {
    name: `nginx ${workers}`,
    subject: `nginx ${version}, worker_processes ${workers === 'auto' ? `auto (${cpus().length})` : workers}, upstream keepalive`,
    launch: (port, appPort) => nginxProxy({ port, upstreamPort: appPort, workers }),
  };
}

/** A req/s ratio row; `name` says which over which, e.g. `stats on ÷ stats off`. */
function ratioRow(name: string, numerator: TargetResult, denominator: TargetResult, goal?: number): Row {
  const ratio = pairedRatio(numerator, denominator);
  const subject = `${name} (req/s, median of per-round ratios)`;
  return goal === undefined ? { subject, ratio } : { subject, ratio, goal: `>= ${goal.toFixed(2)}`, met: ratio >= goal };
}

/**
 * The table rows: one per target, then the ratios and the RSS goal.
 *
 * @param direct - the app loaded directly
 * @param proxies - one per kind, in the order of `kinds`
 * @param peakCounted - the CLI's highest `queue_requests_per_second` seen on /metrics
 */
function resultRows(direct: Measured, kinds: readonly ProxyKind[], proxies: readonly Measured[], peakCounted: number): Row[] {
  const [statsOn, statsOff, nginxOne, nginxAuto] = proxies;
  const rows: Row[] = [{ subject: 'direct: hello world, plain node:http', result: describeMeasured(direct) }];
  kinds.forEach((kind, index) => {
    const counted = index === 0 ? `, its own peak queue_requests_per_second ${formatCount(peakCounted)}` : '';
    rows.push({ subject: kind.subject, result: `${describeMeasured(proxies[index]!)}${counted}` });
  });
  if (nginxOne === undefined || nginxAuto === undefined) {
    rows.push({ subject: 'nginx, worker_processes 1 and auto', result: `n/a (${NGINX_PATH} not installed)` });
  }
  rows.push(
    ratioRow('stats on ÷ stats off', statsOn!.load, statsOff!.load, GOAL_STATS_RATIO),
    ratioRow('stats on ÷ direct', statsOn!.load, direct.load),
    ratioRow('stats off ÷ direct', statsOff!.load, direct.load),
    { subject: 'stats on ÷ stats off (CPU µs/req over all rounds)', ratio: statsOn!.cpuUsPerRequest / statsOff!.cpuUsPerRequest },
  );
  if (nginxOne !== undefined && nginxAuto !== undefined) {
    rows.push(
      ratioRow('stats on ÷ nginx 1 worker', statsOn!.load, nginxOne.load, GOAL_NGINX_RATIO),
      ratioRow('stats off ÷ nginx 1 worker', statsOff!.load, nginxOne.load),
      ratioRow('stats on ÷ nginx auto workers', statsOn!.load, nginxAuto.load),
      ratioRow('nginx 1 worker ÷ direct', nginxOne.load, direct.load),
      { subject: 'stats on ÷ nginx 1 worker (CPU µs/req over all rounds)', ratio: statsOn!.cpuUsPerRequest / nginxOne.cpuUsPerRequest },
    );
  } else {
    rows.push({ subject: 'stats on ÷ nginx 1 worker', result: 'n/a', goal: `>= ${GOAL_NGINX_RATIO.toFixed(2)}` });
  }
  const cliRss = statsOn!.peakRssBytes;
  rows.push({ subject: 'stats on: peak RSS of the CLI process (VmHWM)', result: megabytes(cliRss), goal: `<= ${GOAL_RSS_MB} MB`, met: cliRss <= GOAL_RSS_MB * 1e6 });
  return rows;
}

/**
 * `proxy`: a hello-world node:http app loaded directly and through four
 * reverse proxies, each in its own process: our CLI with stats on, our
 * proxy with stats off, and nginx with one worker and with one per CPU.
 * The CPU time and peak RSS of every server process are read from /proc.
 */
export const proxy: Benchmark = {
  description: 'hello-world app req/s direct vs through our proxy (stats on/off) vs nginx',
  async run(): Promise<Row[]> {
    const version = nginxVersion();
    const metricsPort = await freePort();
    const kinds = [cliKind(metricsPort), STATS_OFF, ...(version === undefined ? [] : [nginxKind(version, 1), nginxKind(version, 'auto')])];
    const servers: ChildServer[] = [];
    const removals: (() => void)[] = [];
    let scraper: Scraper | undefined;
    try {
      const appPort = await freePort();
      servers.push(await startChildServer('app', nodeEntry('./serve-app.js', [String(appPort), 'plain']), `http://127.0.0.1:${appPort}/`));
      for (const kind of kinds) {
        const port = await freePort();
        const { command, remove } = kind.launch(port, appPort);
        if (remove !== undefined) removals.push(remove);
        servers.push(await startChildServer(kind.name, command, `http://127.0.0.1:${port}/`));
      }
      scraper = scrapeRegularly(`http://127.0.0.1:${metricsPort}/metrics`);
      const measured = await measureTargets(servers, ['direct', ...kinds.map((kind) => kind.name)], LOAD);
      scraper.stop();
      const peakCounted = scraper.peak();
      if (peakCounted === 0) throw new Error('the CLI never reported a request on /metrics: stats were not counted');
      return resultRows(measured[0]!, kinds, measured.slice(1), peakCounted);
    } finally {
      scraper?.stop();
      await Promise.all(servers.map((server) => server.stop()));
      for (const remove of removals) remove();
    }
  },
};
