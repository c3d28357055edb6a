import { describeResult, type TargetResult } from './compare.js';
import { formatSmall, megabytes, type Row } from './table.js';

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
