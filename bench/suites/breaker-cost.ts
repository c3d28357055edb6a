import { freePort, nodeEntry, startChildServer, type ChildServer } from '../lib/child.js';
import { cpuTimeMs, listeningPids } from '../lib/proc.js';
import { SIDECAR_NODE_FLAG } from '../lib/proxies.js';
import { describeRatioSpread, formatCount, formatSmall, type Benchmark, type Row } from '../lib/table.js';
import { runWrk } from '../lib/wrk.js';

/** The limit of the limited proxy: far above wrk's 32 connections, so no request ever waits and only the breaker's bookkeeping is measured. */
const LIMIT = 1000;
/** Measured rounds per proxy, and seconds of wrk -t1 -c32 load per round (`BREAKER_COST_ROUNDS`, `BREAKER_COST_SECONDS` for a smoke run). */
const ROUNDS = Number(process.env['BREAKER_COST_ROUNDS'] ?? 20);
const ROUND_SECONDS = Number(process.env['BREAKER_COST_SECONDS'] ?? 2);
/** Breaker cost goal: CPU per request with N = 1000 at most 3 % over N = 0. */
const GOAL_CPU_RATIO = 1.03;

/** One proxy under test and what its rounds measured. */
interface Side {
  concurrency: number;
  url: string;
  pids: number[];
  cpuMs: number[];
  requests: number[];
}

/** CPU microseconds per request over the given rounds of `side` (all of them by default). */
function cpuPerRequest(side: Side, rounds: readonly number[] = side.cpuMs.map((_, i) => i)): number {
  const cpuMs = rounds.reduce((sum, i) => sum + side.cpuMs[i]!, 0);
  const requests = rounds.reduce((sum, i) => sum + side.requests[i]!, 0);
  return (cpuMs * 1000) / requests;
}

/** One round of load on `side`: its CPU time from /proc and wrk's completed requests. */
async function loadRound(side: Side, seconds: number): Promise<void> {
  const before = cpuTimeMs(side.pids);
  const { requests } = await runWrk({ url: side.url, connections: 32, durationSeconds: seconds });
  side.cpuMs.push(cpuTimeMs(side.pids) - before);
  side.requests.push(requests);
}

/**
 * `breaker-cost`: what the breaker costs a proxied request that does not wait: two proxies (stats off, the same app)
 * in one process, one with `containerConcurrency` 1000 and one with 0 (no breaker), loaded in turn for short rounds
 * in alternating order (AB, BA, ...), the process's CPU time read from /proc around each round (the idle proxy costs
 * nothing). One process, as `stats-cost` switches one process, shares heap, JIT state and CPU placement between the
 * sides; the alternation spreads the machine's drift over both, and the per-round ratios show what is left of it.
 */
export const breakerCost: Benchmark = {
  description: `CPU per proxied request with containerConcurrency ${LIMIT} against 0, two proxies in one process loaded in alternating rounds`,
  async run(): Promise<Row[]> {
    const servers: ChildServer[] = [];
    try {
      const appPort = await freePort();
      servers.push(await startChildServer('app', nodeEntry('serve-app.js', [String(appPort), 'plain']), `http://127.0.0.1:${appPort}/`));
      // Both proxies in one process: the one started second is what startChildServer waits for.
      const [limitedPort, unlimitedPort] = [await freePort(), await freePort()];
      const upstream = `http://127.0.0.1:${appPort}`;
      const args = [String(unlimitedPort), upstream, '0', String(limitedPort), String(LIMIT)];
      servers.push(await startChildServer('proxies N=1000 and N=0', nodeEntry('serve-proxy.js', args, [SIDECAR_NODE_FLAG]), `http://127.0.0.1:${unlimitedPort}/`));
      const pids = listeningPids(unlimitedPort);
      const sides: Side[] = [
        { concurrency: LIMIT, url: `http://127.0.0.1:${limitedPort}/`, pids, cpuMs: [], requests: [] },
        { concurrency: 0, url: `http://127.0.0.1:${unlimitedPort}/`, pids, cpuMs: [], requests: [] },
      ];
      // Warm-up: one unmeasured round each, so both run optimised code.
      for (const side of sides) await runWrk({ url: side.url, connections: 32, durationSeconds: Math.max(1, Math.min(2, ROUND_SECONDS)) });
      for (let round = 0; round < ROUNDS; round++) {
        for (const side of round % 2 === 0 ? sides : [...sides].reverse()) await loadRound(side, ROUND_SECONDS);
      }
      const [limited, unlimited] = sides as [Side, Side];
      const ratio = cpuPerRequest(limited) / cpuPerRequest(unlimited);
      const pairs = limited.cpuMs.map((_, i) => cpuPerRequest(limited, [i]) / cpuPerRequest(unlimited, [i])).sort((x, y) => x - y);
      const total = (side: Side): number => side.requests.reduce((sum, n) => sum + n, 0);
      const row = (side: Side): Row => ({
        subject: `N=${side.concurrency}${side.concurrency === 0 ? ' (no breaker)' : ''}: ${ROUNDS} rounds of wrk -t1 -c32 for ${ROUND_SECONDS} s`,
        result: `${formatCount(total(side) / (ROUNDS * ROUND_SECONDS))} req/s, CPU ${formatSmall(cpuPerRequest(side))} µs/req`,
      });
      return [
        row(limited),
        row(unlimited),
        {
          subject: `N=${LIMIT} ÷ N=0 (CPU µs/req over all rounds)`,
          result: describeRatioSpread(pairs, 'rounds'),
          ratio,
          goal: `<= ${GOAL_CPU_RATIO.toFixed(2)}`,
          met: ratio <= GOAL_CPU_RATIO,
        },
      ];
    } finally {
      await Promise.all(servers.map((server) => server.stop()));
    }
  },
};
