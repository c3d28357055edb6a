/**
 * Tracking switched on and off every 250 ms in one server process under one continuous load: the server side records
 * each phase's CPU time and requests ({@link recordSwitchedPhases}); the suite side runs such a server under load and
 * compares the CPU time per request of the two kinds of phase ({@link runSwitched}, {@link cpuPerRequest},
 * {@link pairRatios}). Alternating this fast cancels the drift and the neighbours that make separate processes,
 * measured in turn, differ by ±5 % even when identical.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exitWithParent } from './serve-process.js';
import { freePort, startChildServer, type ChildCommand, type ChildServer } from './child.js';
import { runWrk } from './wrk.js';

/** One phase of the run, as written to the results file: tracking on or off, the process's CPU time and the requests that arrived. */
export interface Phase {
  tracked: boolean;
  cpuUs: number;
  requests: number;
}

/** What a switched server lets {@link recordSwitchedPhases} do: switch tracking and count every request, tracked or not. */
export interface Switch {
  setTracked(tracked: boolean): void;
  requests(): number;
}

/** How long each phase is measured, in milliseconds. */
const PHASE_MS = 250;

/**
 * Switches tracking every 250 ms (each pair of phases in random order) and writes every phase's CPU time (user +
 * system, all threads, from `process.cpuUsage()`) and request count as JSON to `resultsFile` when the process is
 * stopped (SIGTERM, or its parent's pipe closing). With `settleMs`, each phase is measured only from `settleMs` after
 * its switch: for a switch that itself costs CPU production never pays, such as subscribing to a diagnostics channel,
 * which deoptimizes the Node code that publishes on it (V8 then compiles it again, for several milliseconds).
 */
export function recordSwitchedPhases(control: Switch, resultsFile: string, settleMs = 0): void {
  const phases: Phase[] = [];
  let tracked = false;
  let cpuBefore = process.cpuUsage();
  let requestsBefore = 0;
  const startPhase = (): void => {
    cpuBefore = process.cpuUsage();
    requestsBefore = control.requests();
    setTimeout(endPhase, PHASE_MS);
  };
  const endPhase = (): void => {
    const cpu = process.cpuUsage(cpuBefore);
    phases.push({ tracked, cpuUs: cpu.user + cpu.system, requests: control.requests() - requestsBefore });
    // Pairs of one phase of each mode, in random order: with strict alternation anything with a period of an even
    // number of phases (the 1 s reporting tick is four) would always fall into the same mode.
    tracked = phases.length % 2 === 0 ? Math.random() < 0.5 : !tracked;
    control.setTracked(tracked);
    if (settleMs === 0) startPhase();
    else setTimeout(startPhase, settleMs);
  };
  startPhase();
  const finish = (): void => {
    writeFileSync(resultsFile, JSON.stringify(phases));
    process.exit(0);
  };
  process.on('SIGTERM', finish);
  exitWithParent(finish);
}

/** CPU microseconds per request over `phases`. */
export function cpuPerRequest(phases: readonly Phase[]): number {
  return phases.reduce((sum, phase) => sum + phase.cpuUs, 0) / phases.reduce((sum, phase) => sum + phase.requests, 0);
}

/** The sorted ratios tracked ÷ untracked CPU per request of each pair of loaded phases (one of each mode). */
export function pairRatios(phases: readonly Phase[]): number[] {
  const ratios: number[] = [];
  for (let i = 0; i + 1 < phases.length; i += 2) {
    const [a, b] = [phases[i]!, phases[i + 1]!];
    if (a.tracked !== b.tracked) ratios.push(a.tracked ? cpuPerRequest([a]) / cpuPerRequest([b]) : cpuPerRequest([b]) / cpuPerRequest([a]));
  }
  return ratios.sort((x, y) => x - y);
}

/** Loads `url` for `seconds` and resolves with the request rate: wrk -t1 -c32 by default. */
export type SwitchedLoad = (url: string, seconds: number) => Promise<{ requestsPerSecond: number }>;

const wrkLoad: SwitchedLoad = (url, seconds) => runWrk({ url, connections: 32, durationSeconds: seconds });

/** Options of {@link runSwitched}. */
export interface SwitchedRunOptions {
  /** Servers started before it (e.g. the app it forwards to), stopped with it. Default none. */
  before?: ChildServer[];
  /** The load. Default wrk -t1 -c32. */
  load?: SwitchedLoad;
  /** Whether the server is ready at its URL. Default: a GET over HTTP/1.1 answers 200. */
  ready?: (url: string) => Promise<boolean>;
}

/**
 * Starts the switched server `command(port, resultsFile)` (after `options.before`), loads it with `options.load` for
 * 2 s of warm-up and then `loadSeconds`, stops it, and resolves with its phases under full load and the load's req/s.
 */
export async function runSwitched(
  name: string,
  command: (port: number, resultsFile: string) => ChildCommand,
  loadSeconds: number,
  { before = [], load = wrkLoad, ready }: SwitchedRunOptions = {},
): Promise<{ phases: Phase[]; requestsPerSecond: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-switched-'));
  const resultsFile = join(dir, 'phases.json');
  const servers = [...before];
  try {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/`;
    const switched = await startChildServer(name, command(port, resultsFile), url, ready);
    servers.push(switched);
    await load(url, 2);
    const { requestsPerSecond } = await load(url, loadSeconds);
    await switched.stop();
    const phases = JSON.parse(readFileSync(resultsFile, 'utf8')) as Phase[];
    // Drop idle phases (start-up, after the load) and those wrk started or stopped in, or a neighbour's burst slowed.
    const busiest = Math.max(...phases.map((phase) => phase.requests));
    return { phases: phases.filter((phase) => phase.requests >= busiest / 2), requestsPerSecond };
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
}
