import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, nodeEntry, startChildServer, type ChildServer } from '../lib/child.js';
import { SIDECAR_NODE_FLAG } from '../lib/proxies.js';
import { formatCount, formatSmall, type Benchmark, type Row } from '../lib/table.js';
import { runWrk } from '../lib/wrk.js';
import type { Phase } from '../servers/serve-switched.js';

/** Seconds of continuous wrk -t1 -c32 load, after a 2 s warm-up: 120 phases of 250 ms. */
const LOAD_SECONDS = 30;
/** Stats cost goal: tracked CPU per request at most 3 % over untracked, i.e. stats on ÷ off >= 0.97 in req/s. */
const GOAL_CPU_RATIO = 1.03;

/** CPU microseconds per request over `phases`. */
function cpuPerRequest(phases: readonly Phase[]): number {
  return phases.reduce((sum, phase) => sum + phase.cpuUs, 0) / phases.reduce((sum, phase) => sum + phase.requests, 0);
}

/** The sorted ratios tracked ÷ untracked CPU per request of each pair of loaded phases (one of each mode). */
function pairRatios(phases: readonly Phase[]): number[] {
  const ratios: number[] = [];
  for (let i = 0; i + 1 < phases.length; i += 2) {
    const [a, b] = [phases[i]!, phases[i + 1]!];
    if (a.tracked !== b.tracked) ratios.push(a.tracked ? cpuPerRequest([a]) / cpuPerRequest([b]) : cpuPerRequest([b]) / cpuPerRequest([a]));
  }
  return ratios.sort((x, y) => x - y);
}

/** Runs the switched proxy under one continuous load; resolves with its phases under full load and wrk's req/s. */
async function switchedPhases(): Promise<{ phases: Phase[]; requestsPerSecond: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-switched-'));
  const resultsFile = join(dir, 'phases.json');
  const servers: ChildServer[] = [];
  try {
    const appPort = await freePort();
    servers.push(await startChildServer('app', nodeEntry('serve-app.js', [String(appPort), 'plain']), `http://127.0.0.1:${appPort}/`));
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/`;
    const switched = await startChildServer('switched proxy', nodeEntry('serve-switched.js', [String(port), `http://127.0.0.1:${appPort}`, resultsFile], [SIDECAR_NODE_FLAG]), url);
    servers.push(switched);
    await runWrk({ url, connections: 32, durationSeconds: 2 });
    const load = await runWrk({ url, connections: 32, durationSeconds: LOAD_SECONDS });
    await switched.stop();
    const phases = JSON.parse(readFileSync(resultsFile, 'utf8')) as Phase[];
    // Drop idle phases (start-up, after the load) and those wrk started or stopped in, or a neighbour's burst slowed.
    const busiest = Math.max(...phases.map((phase) => phase.requests));
    return { phases: phases.filter((phase) => phase.requests >= busiest / 2), requestsPerSecond: load.requestsPerSecond };
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
}

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
    const { phases, requestsPerSecond } = await switchedPhases();
    const tracked = phases.filter((phase) => phase.tracked);
    const untracked = phases.filter((phase) => !phase.tracked);
    const ratio = cpuPerRequest(tracked) / cpuPerRequest(untracked);
    const pairs = pairRatios(phases);
    const at = (fraction: number): string => formatSmall(pairs[Math.round(fraction * (pairs.length - 1))]!);
    return [
      { subject: `load: wrk -t1 -c32 for ${LOAD_SECONDS} s on the switched proxy (${SIDECAR_NODE_FLAG})`, result: `${formatCount(requestsPerSecond)} req/s` },
      { subject: `tracker on: ${tracked.length} phases of 250 ms`, result: `CPU ${formatSmall(cpuPerRequest(tracked))} µs/req` },
      { subject: `tracker off (startProxy's stats-off path): ${untracked.length} phases`, result: `CPU ${formatSmall(cpuPerRequest(untracked))} µs/req` },
      {
        subject: 'tracker on ÷ off (CPU µs/req over all phases)',
        result: `${pairs.length} adjacent pairs: median ${at(0.5)}, quartiles ${at(0.25)}–${at(0.75)}`,
        ratio,
        goal: `<= ${GOAL_CPU_RATIO.toFixed(2)}`,
        met: ratio <= GOAL_CPU_RATIO,
      },
    ];
  },
};
