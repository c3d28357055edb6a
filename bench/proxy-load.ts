import type { Benchmark, Row } from './benchmark.js';
import { freePort } from './child.js';
import { GO_QUEUE_PROXY_MISSING, GO_QUEUE_PROXY_SUBJECT, goQueueProxyKind } from './go-queue-proxy.js';
import { describeMeasured, type Measured } from './measure-targets.js';
import { nginxVersion, NGINX_PATH } from './nginx.js';
import { openFilesLimit } from './proc.js';
import { cliKind, measureProxies, nginxKind, type ProxyKind } from './proxies.js';
import { cpuRatioRow, p99RatioRow } from './ratio-rows.js';
import { formatCount } from './table.js';

/** wrk connections (`-c`) of the three sizes. */
const SIZES = [32, 256, 1024];
/** Per size: wrk -t2, seven rotated 2 s rounds per target after a 1 s warm-up; 4 targets × 15 s × 3 sizes is about 3 minutes of load. */
const LOAD = { rounds: 7, durationSeconds: 2, warmupSeconds: 1, threads: 2 };
/** Goal: our p99 at most the Go anchor's, at every size. */
const GOAL_GO_P99_RATIO = 1;

/** Open files one process needs at `connections`: a proxy holds every client connection and up to one upstream connection each, plus a few of its own. */
function openFilesNeeded(connections: number): number {
  return 2 * connections + 100;
}

/** One size: the four targets in fresh processes (so peak RSS is this size's), their rows and the Go comparison. */
async function measureSize(connections: number, nginx: string | undefined): Promise<Row[]> {
  const size = `c=${formatCount(connections)}`;
  const metricsPort = await freePort();
  const onKind = cliKind(metricsPort);
  const nginxOne = nginx === undefined ? undefined : nginxKind(nginx, 1);
  const goKind = goQueueProxyKind(await freePort());
  const kinds = [onKind, nginxOne, goKind].filter((kind): kind is ProxyKind => kind !== undefined);
  const { direct, proxies } = await measureProxies(kinds, { ...LOAD, connections }, `http://127.0.0.1:${metricsPort}/metrics`, 'sleep5');
  const rows: Row[] = [
    { subject: `${size}: direct: app answering after a 5 ms timer, plain node:http`, result: describeMeasured(direct) },
    ...kinds.map((kind, index) => ({ subject: `${size}: ${kind.subject}`, result: describeMeasured(proxies[index]!) })),
  ];
  if (nginxOne === undefined) rows.push({ subject: `${size}: nginx, worker_processes 1`, result: `n/a (${NGINX_PATH} not installed)` });
  const ours = proxies[0]!;
  const go: Measured | undefined = goKind === undefined ? undefined : proxies[kinds.indexOf(goKind)];
  if (go === undefined) {
    rows.push(
      { subject: `${size}: ${GO_QUEUE_PROXY_SUBJECT}`, result: GO_QUEUE_PROXY_MISSING },
      { subject: `${size}: stats on ÷ Go queue-proxy anchor (p99)`, result: GO_QUEUE_PROXY_MISSING, goal: `<= ${GOAL_GO_P99_RATIO.toFixed(2)}` },
    );
  } else {
    rows.push(p99RatioRow(`${size}: stats on ÷ Go queue-proxy anchor`, ours.load, go.load, GOAL_GO_P99_RATIO), cpuRatioRow(`${size}: stats on ÷ Go queue-proxy anchor`, ours, go));
  }
  return rows;
}

/**
 * `proxy-load`: growth with load. An app that answers after a 5 ms timer,
 * loaded directly and through our CLI (stats on), nginx with one worker and
 * the Go queue-proxy anchor, at 32, 256 and 1,024 wrk connections (`-t2`),
 * each size with fresh processes: req/s, p50, p99, CPU per request and peak
 * RSS per target, and our p99 against the anchor's. A size whose open-files
 * limit (inherited from this process) is too low gets an `n/a` row.
 */
export const proxyLoad: Benchmark = {
  description: 'growth with load: 5 ms app direct vs our CLI vs nginx vs the Go queue-proxy anchor at 32, 256 and 1,024 connections',
  async run(): Promise<Row[]> {
    const nginx = nginxVersion();
    const limit = openFilesLimit();
    const rows: Row[] = [];
    for (const connections of SIZES) {
      if (limit < openFilesNeeded(connections)) {
        const reason = `open files limit (ulimit -n) ${formatCount(limit)} < ${formatCount(openFilesNeeded(connections))} needed; Node already raised its soft limit to the hard one`;
        rows.push({ subject: `c=${formatCount(connections)}: every target`, result: `n/a (${reason})` });
        continue;
      }
      console.error(`proxy-load: ${connections} connections ...`);
      rows.push(...(await measureSize(connections, nginx)));
    }
    return rows;
  },
};
