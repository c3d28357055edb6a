import { formatCount, formatSmall, medianBy, megabytes, type Row } from './table.js';
import { runWrk, type WrkResult } from './wrk.js';

/** One server to load: a short name for errors and the 127.0.0.1 URL wrk loads. */
export interface Target {
  name: string;
  url: string;
}

/**
 * How {@link compareTargets} loads the targets: one unmeasured warm-up run per target (so its code is optimised),
 * then `rounds` measured runs each (odd counts give a true median), with wrk's `-c`, `-d` and `-t` (default 1).
 */
export interface CompareOptions {
  rounds: number;
  durationSeconds: number;
  connections: number;
  warmupSeconds: number;
  threads?: number;
}

/** The runs of one target, in the order made, and the one with the median request rate. */
export interface TargetResult {
  median: WrkResult;
  runs: WrkResult[];
}

/**
 * Loads every target with wrk in turn, `rounds` times, rotating the order each round (AB, BA, AB ...) so that a slow
 * spell on the machine does not always fall on the same target.
 *
 * @returns one result per target, in the order given
 */
export async function compareTargets(targets: readonly Target[], options: CompareOptions): Promise<TargetResult[]> {
  const load = (target: Target, durationSeconds: number): Promise<WrkResult> =>
    runWrk({ url: target.url, connections: options.connections, durationSeconds, threads: options.threads }).catch((error: unknown) => {
      throw new Error(`${target.name}: ${error instanceof Error ? error.message : String(error)}`);
    });
  for (const target of targets) await load(target, options.warmupSeconds);
  const runs: WrkResult[][] = targets.map(() => []);
  for (let round = 0; round < options.rounds; round++) {
    for (let step = 0; step < targets.length; step++) {
      const index = (round + step) % targets.length;
      runs[index]!.push(await load(targets[index]!, options.durationSeconds));
    }
  }
  return runs.map((targetRuns) => ({ median: medianBy(targetRuns, (run) => run.requestsPerSecond), runs: targetRuns }));
}

/** The per-round ratios of two targets' request rates (or of `metric`), in round order. */
function roundRatios(numerator: TargetResult, denominator: TargetResult, metric = (run: WrkResult): number => run.requestsPerSecond): number[] {
  return numerator.runs.map((run, round) => metric(run) / metric(denominator.runs[round]!));
}

/**
 * The median over rounds of the per-round ratio of two targets' request rates: runs of one round are seconds apart,
 * so a slow spell on a shared machine affects both sides of each ratio alike.
 */
export function pairedRatio(numerator: TargetResult, denominator: TargetResult): number {
  return medianBy(roundRatios(numerator, denominator), (ratio) => ratio);
}

/** Formats a target's result, e.g. `12,345 req/s (7 runs 11,020–12,700), p50 1.2 ms, p99 3.4 ms`; `unit` names the rate. */
export function describeResult({ median, runs }: TargetResult, unit: string): string {
  const rates = runs.map((run) => run.requestsPerSecond);
  const range = `${formatCount(Math.min(...rates))}–${formatCount(Math.max(...rates))}`;
  return `${formatCount(median.requestsPerSecond)} ${unit} (${runs.length} runs ${range}), p50 ${formatSmall(median.p50Ms)} ms, p99 ${formatSmall(median.p99Ms)} ms`;
}

/** A req/s ratio row; `name` says which over which, e.g. `stats on ÷ stats off`. */
export function ratioRow(name: string, numerator: TargetResult, denominator: TargetResult): Row {
  return { subject: `${name} (req/s, median of per-round ratios)`, ratio: pairedRatio(numerator, denominator) };
}

/** A p99 latency ratio row, the median of per-round ratios with their range in the result cell; `goal` is an upper bound. */
export function p99RatioRow(name: string, numerator: TargetResult, denominator: TargetResult, goal: number): Row {
  const ratios = roundRatios(numerator, denominator, (run) => run.p99Ms);
  const ratio = medianBy(ratios, (value) => value);
  const result = `${ratios.length} rounds ${formatSmall(Math.min(...ratios))}–${formatSmall(Math.max(...ratios))}`;
  return { subject: `${name} (p99, median of per-round ratios)`, result, ratio, goal: `<= ${goal.toFixed(2)}`, met: ratio <= goal };
}

/** What was measured of one target. */
export interface Measured {
  /** Its rotated wrk rounds. */
  load: TargetResult;
  /**
   * CPU time (user + system) of its server processes per request, in microseconds, over the whole comparison. That
   * includes the warm-up, whose requests wrk does not report, so every figure is a few per cent high. For the app:
   * its time over every request of every target.
   */
  cpuUsPerRequest: number;
  /** Peak RSS of its server processes, in bytes. */
  peakRssBytes: number;
}

/** One table cell: req/s with its spread and latency, CPU per request and peak RSS. */
export function describeMeasured(measured: Measured): string {
  return `${describeResult(measured.load, 'req/s')}, CPU ${formatSmall(measured.cpuUsPerRequest)} µs/req, peak RSS ${megabytes(measured.peakRssBytes)}`;
}

/** A ratio row of CPU µs per request over the whole comparison (read once for all rounds, so no spread); `goal` is an upper bound. */
export function cpuRatioRow(name: string, numerator: Measured, denominator: Measured, goal?: number): Row {
  const ratio = numerator.cpuUsPerRequest / denominator.cpuUsPerRequest;
  const subject = `${name} (CPU µs/req over all rounds)`;
  return goal === undefined ? { subject, ratio } : { subject, ratio, goal: `<= ${goal.toFixed(2)}`, met: ratio <= goal };
}
