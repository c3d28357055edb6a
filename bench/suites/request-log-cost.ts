import { freePort, nodeEntry, startChildServer, type ChildServer } from '../lib/child.js';
import { compareUnderWrk, side } from '../lib/alternating.js';
import { listeningPids } from '../lib/proc.js';
import { SIDECAR_NODE_FLAG } from '../lib/proxies.js';
import type { Benchmark, Row } from '../lib/table.js';

/** Measured rounds per proxy, and seconds of wrk -t1 -c32 load per round (`REQUEST_LOG_COST_ROUNDS`, `REQUEST_LOG_COST_SECONDS` for a smoke run). */
const ROUNDS = Number(process.env['REQUEST_LOG_COST_ROUNDS'] ?? 20);
const ROUND_SECONDS = Number(process.env['REQUEST_LOG_COST_SECONDS'] ?? 2);
/** Request log cost goal: CPU per request with the log on at most 5 % over off. */
const GOAL_CPU_RATIO = 1.05;

/**
 * `request-log-cost`: what the request log costs a proxied request: two proxies (stats off, the same app) in one
 * process, one writing Knative's default JSON line per request to /dev/null (in batches, as to stdout), one without a
 * log, loaded in turn for short rounds in alternating order as `breaker-cost` does.
 */
export const requestLogCost: Benchmark = {
  description: "CPU per proxied request with the request log on (Knative's default template, to /dev/null) against off, two proxies in one process loaded in alternating rounds",
  async run(): Promise<Row[]> {
    const servers: ChildServer[] = [];
    try {
      const appPort = await freePort();
      servers.push(await startChildServer('app', nodeEntry('serve-app.js', [String(appPort), 'plain']), `http://127.0.0.1:${appPort}/`));
      // Both proxies in one process: the one started second (no log) is what startChildServer waits for.
      const [loggedPort, unloggedPort] = [await freePort(), await freePort()];
      const args = [String(unloggedPort), `http://127.0.0.1:${appPort}`, '0', String(loggedPort), '0', 'request-log'];
      servers.push(await startChildServer('proxies logged and not', nodeEntry('serve-proxy.js', args, [SIDECAR_NODE_FLAG]), `http://127.0.0.1:${unloggedPort}/`));
      const pids = listeningPids(unloggedPort);
      const logged = side('request log on', `http://127.0.0.1:${loggedPort}/`, pids);
      const unlogged = side('request log off', `http://127.0.0.1:${unloggedPort}/`, pids);
      const { rows, ratio } = await compareUnderWrk(logged, unlogged, ROUNDS, ROUND_SECONDS);
      return [...rows, { ...ratio, subject: 'request log on ÷ off (CPU µs/req over all rounds)', goal: `<= ${GOAL_CPU_RATIO.toFixed(2)}`, met: ratio.ratio <= GOAL_CPU_RATIO }];
    } finally {
      await Promise.all(servers.map((server) => server.stop()));
    }
  },
};
