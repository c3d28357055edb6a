import { medianBy } from './median.js';
import { formatCount, formatSmall } from './table.js';
import { runWrk, type WrkResult } from './wrk.js';

/** One server to load. */
export interface Target {
  /** Short name used in errors. */
  name: string;
  /** URL wrk loads; 127.0.0.1 only. */
  url: string;
}

/** How {@link compareTargets} loads the targets. */
export interface CompareOptions {
  /** Measured runs per target; the median is kept. Odd counts give a true median. */
  rounds: number;
  /** Length of one measured run in seconds. */
  durationSeconds: number;
  /** wrk connections (`-c`). */
  connections: number;
  /** One unmeasured run per target first, in seconds, so its code is optimised. */
  warmupSeconds: number;
  /** wrk threads (`-t`); default 1. */
  threads?: number;
}

/** The runs of one target and the one kept. */
export interface TargetResult {
  /** The run with the median request rate. */
  median: WrkResult;
  /** Every measured run, in the order made. */
  runs: WrkResult[];
}

/**
 * Loads every target with wrk in turn, `rounds` times, rotating the order
 * each round (AB, BA, AB ...) so that a slow spell on the machine does not
 * always fall on the same target.
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

/**
 * The per-round ratios of two targets' figures (request rate unless
 * `metric` says otherwise, e.g. `(run) => run.p99Ms`), in round order.
 */
export function roundRatios(numerator: TargetResult, denominator: TargetResult, metric = (run: WrkResult): number => run.requestsPerSecond): number[] {
  return numerator.runs.map((run, round) => metric(run) / metric(denominator.runs[round]!));
}

/**
 * The ratio of two targets' request rates (or of `metric`), as the median
 * over rounds of the per-round ratio: runs of one round are seconds apart,
 * so a slow spell on a shared machine affects both sides of each ratio alike.
 *
 * @returns `numerator`'s req/s (or `metric`) ÷ `denominator`'s
 */
export function pairedRatio(numerator: TargetResult, denominator: TargetResult, metric?: (run: WrkResult) => number): number {
  return medianBy(roundRatios(numerator, denominator, metric), (ratio) => ratio);
}

/**
 * Formats a target's result for the table, e.g.
 * `12,345 req/s (7 runs 11,020–12,700), p50 1.2 ms, p99 3.4 ms`.
 *
 * @param unit - what one request is, e.g. `req/s` or `scrapes/s`
 */
export function describeResult(result: TargetResult, unit: string): string {
  const { median, runs } = result;
  const rates = runs.map((run) => run.requestsPerSecond);
  const range = `${formatCount(Math.min(...rates))}–${formatCount(Math.max(...rates))}`;
  return `${formatCount(median.requestsPerSecond)} ${unit} (${runs.length} runs ${range}), p50 ${formatSmall(median.p50Ms)} ms, p99 ${formatSmall(median.p99Ms)} ms`;
}
