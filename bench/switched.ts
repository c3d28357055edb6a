import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Row } from './benchmark.js';
import { freePort, nodeEntry, startChildServer, type ChildServer } from './child.js';
import { SIDECAR_NODE_FLAG } from './proxies.js';
import type { Phase } from './serve-switched.js';
import { formatCount, formatSmall } from './table.js';
import { runWrk } from './wrk.js';

/** Seconds of continuous wrk -t1 -c32 load, after a 2 s warm-up: 120 phases of 250 ms. */
const LOAD_SECONDS = 30;
const WARMUP_SECONDS = 2;
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
    const [tracked, untracked] = phases[i]!.tracked ? [phases[i]!, phases[i + 1]!] : [phases[i + 1]!, phases[i]!];
    if (tracked.tracked !== untracked.tracked) ratios.push(cpuPerRequest([tracked]) / cpuPerRequest([untracked]));
  }
  return ratios.sort((a, b) => a - b);
}

/** The phases under full load: drops idle ones (start-up, after the load) and those wrk started or stopped in. */
function loadedPhases(phases: readonly Phase[]): Phase[] {
  const busiest = Math.max(...phases.map((phase) => phase.requests));
  return phases.filter((phase) => phase.requests >= busiest / 2);
}

/**
 * Runs bench/serve-switched.ts (the proxy in front of a hello-world app, or
 * that app itself) under one continuous wrk load with its tracker switched
 * on and off every 250 ms, and compares the CPU time per request of the two
 * kinds of phase. Alternating this fast cancels the drift and the
 * neighbours that make separate processes, measured in turn, differ by ±5 %
 * even when identical.
 *
 * @param target - `proxy`: our proxy (stats-off path when off); `app`: the app wrapped by `RequestTracker.wrap()`
 * @returns the table rows, the last one with the goal
 */
export async function measureSwitched(target: 'proxy' | 'app'): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-switched-'));
  const resultsFile = join(dir, 'phases.json');
  const servers: ChildServer[] = [];
  try {
    let upstream = 'app';
    if (target === 'proxy') {
      const appPort = await freePort();
      servers.push(await startChildServer('app', nodeEntry('./serve-app.js', [String(appPort), 'plain']), `http://127.0.0.1:${appPort}/`));
      upstream = `http://127.0.0.1:${appPort}`;
    }
    const port = await freePort();
    const entry = nodeEntry('./serve-switched.js', [String(port), upstream, resultsFile]);
    // The sidecar runs with its V8 flag; an app using the tracker as a library runs with Node's defaults.
    const flags = target === 'proxy' ? [SIDECAR_NODE_FLAG] : [];
    const switched = await startChildServer(`switched ${target}`, { command: entry.command, args: [...flags, ...entry.args] }, `http://127.0.0.1:${port}/`);
    servers.push(switched);
    const url = `http://127.0.0.1:${port}/`;
    await runWrk({ url, connections: 32, durationSeconds: WARMUP_SECONDS });
    const load = await runWrk({ url, connections: 32, durationSeconds: LOAD_SECONDS });
    await switched.stop();
    const phases = loadedPhases(JSON.parse(readFileSync(resultsFile, 'utf8')) as Phase[]);
    const tracked = phases.filter((phase) => phase.tracked);
    const untracked = phases.filter((phase) => !phase.tracked);
    const ratio = cpuPerRequest(tracked) / cpuPerRequest(untracked);
    const pairs = pairRatios(phases);
    const at = (fraction: number): number => pairs[Math.round(fraction * (pairs.length - 1))]!;
    return [
      { subject: `load: wrk -t1 -c32 for ${LOAD_SECONDS} s on the switched ${target} (${flags.join(' ') || 'V8 defaults'})`, result: `${formatCount(load.requestsPerSecond)} req/s` },
      { subject: `tracker on: ${tracked.length} phases of 250 ms`, result: `CPU ${formatSmall(cpuPerRequest(tracked))} µs/req` },
      { subject: `tracker off${target === 'proxy' ? " (startProxy's stats-off path)" : ''}: ${untracked.length} phases`, result: `CPU ${formatSmall(cpuPerRequest(untracked))} µs/req` },
      {
        subject: 'tracker on ÷ off (CPU µs/req over all phases)',
        result: `${pairs.length} adjacent pairs: median ${formatSmall(at(0.5))}, quartiles ${formatSmall(at(0.25))}–${formatSmall(at(0.75))}`,
        ratio,
        goal: `<= ${GOAL_CPU_RATIO.toFixed(2)}`,
        met: ratio <= GOAL_CPU_RATIO,
      },
    ];
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
}
