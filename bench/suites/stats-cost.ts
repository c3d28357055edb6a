import { freePort, nodeEntry, startChildServer } from '../lib/child.js';
import { SIDECAR_NODE_FLAG } from '../lib/proxies.js';
import { cpuPerRequest, pairRatios, runSwitched } from '../lib/switched-phases.js';
import { describeRatioSpread, formatCount, formatSmall, type Benchmark, type Row } from '../lib/table.js';

/** Seconds of continuous wrk -t1 -c32 load, after a 2 s warm-up: 120 phases of 250 ms. */
const LOAD_SECONDS = 30;
/** Stats cost goal: tracked CPU per request at most 3 % over untracked, i.e. stats on ÷ off >= 0.97 in req/s. */
export const GOAL_CPU_RATIO = 1.03;

/**
 * `stats-cost`: what the statistics cost a proxied request, in one proxy process (bench/servers/serve-switched.ts)
 * whose tracker is switched on and off every 250 ms under one continuous load, comparing the CPU time per request of
 * the two kinds of phase. Alternating this fast cancels the drift and the neighbours that make separate processes,
 * measured in turn, differ by ±5 % even when identical. The reporting tick and scrapes run once a second whatever the
 * load; `scrape` measures the latter.
 */
export const statsCost: Benchmark = {
  description: 'CPU per proxied request with the tracker switched on and off every 250 ms in one process',
  async run(): Promise<Row[]> {
    const appPort = await freePort();
    const app = await startChildServer('app', nodeEntry('serve-app.js', [String(appPort), 'plain']), `http://127.0.0.1:${appPort}/`);
    const { phases, requestsPerSecond } = await runSwitched(
      'switched proxy',
      (port, resultsFile) => nodeEntry('serve-switched.js', [String(port), `http://127.0.0.1:${appPort}`, resultsFile], [SIDECAR_NODE_FLAG]),
      LOAD_SECONDS,
      { before: [app] },
    );
    const tracked = phases.filter((phase) => phase.tracked);
    const untracked = phases.filter((phase) => !phase.tracked);
    const ratio = cpuPerRequest(tracked) / cpuPerRequest(untracked);
    const pairs = pairRatios(phases);
    return [
      { subject: `load: wrk -t1 -c32 for ${LOAD_SECONDS} s on the switched proxy (${SIDECAR_NODE_FLAG})`, result: `${formatCount(requestsPerSecond)} req/s` },
      { subject: `tracker on: ${tracked.length} phases of 250 ms`, result: `CPU ${formatSmall(cpuPerRequest(tracked))} µs/req` },
      { subject: `tracker off (startProxy's stats-off path): ${untracked.length} phases`, result: `CPU ${formatSmall(cpuPerRequest(untracked))} µs/req` },
      {
        subject: 'tracker on ÷ off (CPU µs/req over all phases)',
        result: describeRatioSpread(pairs, 'adjacent pairs'),
        ratio,
        goal: `<= ${GOAL_CPU_RATIO.toFixed(2)}`,
        met: ratio <= GOAL_CPU_RATIO,
      },
    ];
  },
};
