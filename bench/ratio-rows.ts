/** Table rows that compare two measured targets of one invocation. */
import type { Row } from './benchmark.js';
import { pairedRatio, roundRatios, type TargetResult } from './compare.js';
import type { Measured } from './measure-targets.js';
import { formatSmall } from './table.js';

/** A req/s ratio row; `name` says which over which, e.g. `stats on ÷ nginx 1 worker`; `goal` is a lower bound. */
export function ratioRow(name: string, numerator: TargetResult, denominator: TargetResult, goal?: number): Row {
  const ratio = pairedRatio(numerator, denominator);
  const subject = `${name} (req/s, median of per-round ratios)`;
  return goal === undefined ? { subject, ratio } : { subject, ratio, goal: `>= ${goal.toFixed(2)}`, met: ratio >= goal };
}

/**
 * A ratio row of CPU microseconds per request over the whole comparison
 * (CPU is read once for all rounds, so there is no per-round spread);
 * `goal` is an upper bound.
 */
export function cpuRatioRow(name: string, numerator: Measured, denominator: Measured, goal?: number): Row {
  const ratio = numerator.cpuUsPerRequest / denominator.cpuUsPerRequest;
  const subject = `${name} (CPU µs/req over all rounds)`;
  return goal === undefined ? { subject, ratio } : { subject, ratio, goal: `<= ${goal.toFixed(2)}`, met: ratio <= goal };
}

/**
 * A ratio row of p99 latency, the median of per-round ratios, with their
 * range in the result cell; `goal` is an upper bound.
 */
export function p99RatioRow(name: string, numerator: TargetResult, denominator: TargetResult, goal: number): Row {
  const ratios = roundRatios(numerator, denominator, (run) => run.p99Ms);
  const ratio = pairedRatio(numerator, denominator, (run) => run.p99Ms);
  return {
    subject: `${name} (p99, median of per-round ratios)`,
    result: `${ratios.length} rounds ${formatSmall(Math.min(...ratios))}–${formatSmall(Math.max(...ratios))}`,
    ratio,
    goal: `<= ${goal.toFixed(2)}`,
    met: ratio <= goal,
  };
}
