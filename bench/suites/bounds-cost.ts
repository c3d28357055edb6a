import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { alternate, cpuPerRequest, side, type Side } from '../lib/alternating.js';
import { freePort, nodeEntry, startChildServer, type ChildServer } from '../lib/child.js';
import { answers200OverH2c, h2loadVersion, runH2load } from '../lib/h2load.js';
import { listeningPids } from '../lib/proc.js';
import { SIDECAR_NODE_FLAG } from '../lib/proxies.js';
import { describeRatioSpread, formatCount, formatSmall, type Benchmark, type Row } from '../lib/table.js';
import { runWrk } from '../lib/wrk.js';

/**
 * The baseline: `serve-proxy.js` of another compiled tree, e.g. the commit before issue 23's bounds
 * (`git worktree add /tmp/before <commit> && cd /tmp/before && npm ci && npx tsc -p .`, then
 * `BOUNDS_COST_BASELINE=/tmp/before/build/bench/servers/serve-proxy.js`).
 */
const BASELINE = process.env['BOUNDS_COST_BASELINE'];
/** Measured rounds per proxy and load, and seconds of load per round (`BOUNDS_COST_ROUNDS`, `BOUNDS_COST_SECONDS` for a smoke run). */
const ROUNDS = Number(process.env['BOUNDS_COST_ROUNDS'] ?? 20);
const ROUND_SECONDS = Number(process.env['BOUNDS_COST_SECONDS'] ?? 2);
/** Goal: CPU per request at most 2 % over the baseline's, on either path. */
const GOAL_CPU_RATIO = 1.02;
const OURS = fileURLToPath(new URL('../servers/serve-proxy.js', import.meta.url));

/** One load of both proxies: a name for the table and one round of it on a URL, returning the requests completed. */
interface Load {
  name: string;
  run: (url: string) => Promise<number>;
}

/**
 * `bounds-cost`: what issue 23's bounds cost a request on the hot path (the count of requests waiting for an upstream
 * connection, the HTTP/2 stream counts and the PING-based header-block deadline): this tree's proxy (stats off)
 * against a baseline tree's, both in front of the same app, loaded in alternating rounds over HTTP/1.1 (wrk -c32) and
 * HTTP/2 (h2load, 4 connections x 8 streams), CPU per request from /proc. Without `BOUNDS_COST_BASELINE` it says how
 * to get one; pointing it at this tree's own serve-proxy.js measures the method's noise.
 */
export const boundsCost: Benchmark = {
  description: 'CPU per request of the proxy with issue 23 bounds against a baseline build, HTTP/1.1 and HTTP/2, alternating rounds',
  async run(): Promise<Row[]> {
    if (BASELINE === undefined || !existsSync(BASELINE)) {
      return [{ subject: 'baseline', result: 'n/a (set BOUNDS_COST_BASELINE to the serve-proxy.js of a compiled baseline tree)' }];
    }
    const servers: ChildServer[] = [];
    try {
      const appPort = await freePort();
      servers.push(await startChildServer('app', nodeEntry('serve-app.js', [String(appPort), 'both']), `http://127.0.0.1:${appPort}/`));
      const upstream = `http://127.0.0.1:${appPort}`;
      const start = async (label: string, entry: string): Promise<Side> => {
        const port = await freePort();
        const url = `http://127.0.0.1:${port}/`;
        servers.push(await startChildServer(label, [process.execPath, SIDECAR_NODE_FLAG, entry, String(port), upstream], url));
        return side(label, url, listeningPids(port));
      };
      const ours = await start('with the bounds', OURS);
      const baseline = await start('baseline', BASELINE);
      const loads: Load[] = [{ name: 'HTTP/1.1, wrk -t1 -c32', run: async (url) => (await runWrk({ url, connections: 32, durationSeconds: ROUND_SECONDS })).requests }];
      if ((await h2loadVersion()) !== undefined && (await answers200OverH2c(ours.url))) {
        loads.push({ name: 'HTTP/2, h2load -c4 -m8', run: async (url) => (await runH2load({ url, durationSeconds: ROUND_SECONDS, clients: 4, streams: 8 })).requests });
      }
      const rows: Row[] = [];
      for (const load of loads) {
        const a = side(ours.label, ours.url, ours.pids);
        const b = side(baseline.label, baseline.url, baseline.pids);
        // Warm-up: one unmeasured round each, so both run optimised code.
        for (const warmed of [a, b]) await load.run(warmed.url);
        const pairs = await alternate(a, b, ROUNDS, load.run);
        const ratio = cpuPerRequest(a) / cpuPerRequest(b);
        for (const measured of [a, b]) {
          const total = measured.requests.reduce((sum, n) => sum + n, 0);
          rows.push({
            subject: `${load.name}, ${measured.label}: ${ROUNDS} rounds of ${ROUND_SECONDS} s`,
            result: `${formatCount(total / (ROUNDS * ROUND_SECONDS))} req/s, CPU ${formatSmall(cpuPerRequest(measured))} µs/req`,
          });
        }
        rows.push({
          subject: `${load.name}: with the bounds ÷ baseline (CPU µs/req over all rounds)`,
          result: describeRatioSpread(pairs, 'rounds'),
          ratio,
          goal: `<= ${GOAL_CPU_RATIO.toFixed(2)}`,
          met: ratio <= GOAL_CPU_RATIO,
        });
      }
      return rows;
    } finally {
      await Promise.all(servers.map((server) => server.stop()));
    }
  },
};
