import { freePort, nodeEntry, startChildServer, type ChildServer } from '../lib/child.js';
import { compareUnderWrk, side } from '../lib/alternating.js';
import { listeningPids } from '../lib/proc.js';
import { SIDECAR_NODE_FLAG } from '../lib/proxies.js';
import type { Benchmark, Row } from '../lib/table.js';

/** The limit of the limited proxy: far above wrk's 32 connections, so no request ever waits and only the breaker's bookkeeping is measured. */
const LIMIT = 1000;
/** Measured rounds per proxy, and seconds of wrk -t1 -c32 load per round (`BREAKER_COST_ROUNDS`, `BREAKER_COST_SECONDS` for a smoke run). */
const ROUNDS = Number(process.env['BREAKER_COST_ROUNDS'] ?? 20);
const ROUND_SECONDS = Number(process.env['BREAKER_COST_SECONDS'] ?? 2);
/** Breaker cost goal: CPU per request with N = 1000 at most 3 % over N = 0. */
const GOAL_CPU_RATIO = 1.03;

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
      const limited = side(`N=${LIMIT}`, `http://127.0.0.1:${limitedPort}/`, pids);
      const unlimited = side('N=0 (no breaker)', `http://127.0.0.1:${unlimitedPort}/`, pids);
      const { rows, ratio } = await compareUnderWrk(limited, unlimited, ROUNDS, ROUND_SECONDS);
      return [...rows, { ...ratio, subject: `N=${LIMIT} ÷ N=0 (CPU µs/req over all rounds)`, goal: `<= ${GOAL_CPU_RATIO.toFixed(2)}`, met: ratio.ratio <= GOAL_CPU_RATIO }];
    } finally {
      await Promise.all(servers.map((server) => server.stop()));
    }
  },
};
