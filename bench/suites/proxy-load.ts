import { cpuRatioRow, p99RatioRow } from '../lib/compare.js';
import { openFilesLimit } from '../lib/proc.js';
import { GO_QUEUE_PROXY_MISSING, GO_QUEUE_PROXY_SUBJECT, measureProxies } from '../lib/proxies.js';
import { formatCount, formatSmall, medianBy, type Benchmark, type Row } from '../lib/table.js';

/** wrk connections (`-c`) of the three sizes. */
const SIZES = [32, 256, 1024];
/** Per size: wrk -t2, seven rotated 2 s rounds per target after a 1 s warm-up; about 3 minutes of load in all. */
const LOAD = { rounds: 7, durationSeconds: 2, warmupSeconds: 1, threads: 2 };
/** Per size, after the wrk rounds and in the same processes: three rotated h2load rounds over warm connections. */
const WARM = { rounds: 3, durationSeconds: 4, warmupSeconds: 2 };
/** Goal: our p99 over warm connections at most the Go anchor's, at every size. */
const GOAL_GO_P99_RATIO = 1;
/** Why wrk's p99 at this size is information, not the goal. */
const BURST_NOTE = "wrk opens every connection at once at the start of each round; libuv's accept loop takes one connection per loop turn, so those first requests queue behind the accepts";

/** One size: the targets in fresh processes (so peak RSS is this size's), their rows and the Go comparison. */
async function measureSize(connections: number): Promise<Row[]> {
  const size = `c=${formatCount(connections)}`;
  const { rows, ours, anchor, oursWarm, anchorWarm } = await measureProxies(`${size}: `, 'app answering after a 5 ms timer, plain node:http', false, { ...LOAD, connections }, 'sleep5', WARM);
  if (anchor === undefined || oursWarm === undefined || anchorWarm === undefined) {
    rows.push(
      { subject: `${size}: ${GO_QUEUE_PROXY_SUBJECT}`, result: GO_QUEUE_PROXY_MISSING },
      { subject: `${size}: stats on ÷ Go queue-proxy anchor (p99 over warm connections)`, result: GO_QUEUE_PROXY_MISSING, goal: '<= 1.00' },
    );
  } else {
    const warmRatios = oursWarm.map((round, index) => round.p99Ms / anchorWarm[index]!.p99Ms).sort((a, b) => a - b);
    const warmRatio = medianBy(warmRatios, (ratio) => ratio);
    const burst = p99RatioRow(`${size}: stats on ÷ Go queue-proxy anchor, wrk (connections opened at the start of each round)`, ours.load, anchor.load, GOAL_GO_P99_RATIO);
    rows.push(
      {
        subject: `${size}: stats on ÷ Go queue-proxy anchor (p99 over warm connections, h2load --h1, median of per-round ratios)`,
        result: `${warmRatios.length} rounds ${formatSmall(warmRatios[0]!)}–${formatSmall(warmRatios.at(-1)!)}`,
        ratio: warmRatio,
        goal: `<= ${GOAL_GO_P99_RATIO.toFixed(2)}`,
        met: warmRatio <= GOAL_GO_P99_RATIO,
      },
      { subject: burst.subject, result: `${burst.result ?? ''}; information: ${BURST_NOTE}`, ratio: burst.ratio },
      cpuRatioRow(`${size}: stats on ÷ Go queue-proxy anchor`, ours, anchor),
    );
  }
  return rows;
}

/**
 * `proxy-load`: growth with load. An app that answers after a 5 ms timer, loaded directly and through our CLI
 * (stats on), nginx with one worker and the Go queue-proxy anchor at 32, 256 and 1,024 wrk connections, each size
 * with fresh processes. A proxy holds every client connection and one upstream connection each: a size that the
 * open-files limit (inherited from this process) cannot serve gets an `n/a` row.
 */
export const proxyLoad: Benchmark = {
  description: 'growth with load: 5 ms app direct vs our CLI vs nginx vs the Go queue-proxy anchor at 32, 256 and 1,024 connections',
  async run(): Promise<Row[]> {
    const limit = openFilesLimit();
    const rows: Row[] = [];
    for (const connections of SIZES) {
      const needed = 2 * connections + 100;
      if (limit < needed) {
        const reason = `open files limit (ulimit -n) ${formatCount(limit)} < ${formatCount(needed)} needed; Node already raised its soft limit to the hard one`;
        rows.push({ subject: `c=${formatCount(connections)}: every target`, result: `n/a (${reason})` });
        continue;
      }
      console.error(`proxy-load: ${connections} connections ...`);
      rows.push(...(await measureSize(connections)));
    }
    return rows;
  },
};
