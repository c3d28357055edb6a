import type { ChildServer } from './child.js';
import { compareTargets, describeResult, type CompareOptions, type TargetResult } from './compare.js';
import { cpuTimeMs, listeningPids, peakRssBytes } from './proc.js';
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

/**
 * Loads `servers` with rotated wrk rounds and reads, for the processes listening on each server's port (not
 * wrappers such as guard.js), the CPU time per request over the whole comparison and the peak RSS. The first server
 * must be the app every other one forwards to: its CPU is divided by every request of the run.
 */
export async function measureTargets(servers: readonly ChildServer[], names: readonly string[], load: CompareOptions): Promise<Measured[]> {
  const pids = servers.map((server) => listeningPids(Number(new URL(server.url).port)));
  const cpuBefore = pids.map(cpuTimeMs);
  const targets = servers.map((server, index) => ({ name: names[index]!, url: server.url }));
  const loads = await compareTargets(targets, load);
  const requests = loads.map((result) => result.runs.reduce((sum, run) => sum + run.requests, 0));
  // Every request, direct or proxied, reaches the app.
  requests[0] = requests.reduce((sum, count) => sum + count, 0);
  return loads.map((result, index) => ({
    load: result,
    cpuUsPerRequest: ((cpuTimeMs(pids[index]!) - cpuBefore[index]!) * 1000) / requests[index]!,
    peakRssBytes: peakRssBytes(pids[index]!),
  }));
}
