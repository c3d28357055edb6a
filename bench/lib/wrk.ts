import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

/**
 * How to load one 127.0.0.1 URL with wrk: `-c` connections for `-d` seconds, on `-t` threads (default 1, so that wrk
 * takes one core and the server another on a 2-core machine).
 */
export interface WrkOptions {
  url: string;
  connections: number;
  durationSeconds: number;
  threads?: number;
}

/** What one wrk run measured: completed requests, their rate over the run, median and 99th-percentile latency. */
export interface WrkResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

/**
 * wrk's per-request timeout, in seconds. wrk leaves a slower request out of its latency histogram (as a socket
 * error); its default of 2 s is shorter than a saturated proxy's tails at 1,024 connections, which the p99 is about.
 */
const REQUEST_TIMEOUT_SECONDS = 10;

/**
 * Runs wrk once with `--latency` and parses its report.
 *
 * @throws Error when wrk cannot be started, exits non-zero, or reports non-2xx/3xx answers or socket errors, which leave the normal path
 */
export async function runWrk(options: WrkOptions): Promise<WrkResult> {
  const args = [`-t${options.threads ?? 1}`, `-c${options.connections}`, `-d${options.durationSeconds}s`, '--timeout', `${REQUEST_TIMEOUT_SECONDS}s`, '--latency', options.url];
  // The timeout only catches a hung wrk.
  const { stdout: output } = await promisify(execFile)('wrk', args, { timeout: (options.durationSeconds + REQUEST_TIMEOUT_SECONDS + 30) * 1000 });
  const latencyMs = (percentile: '50' | '99'): number => {
    const match = new RegExp(`^\\s*${percentile}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(output);
    if (match === null) throw new Error(`wrk output has no ${percentile}% latency line:\n${output}`);
    return Number(match[1]) * (UNIT_MS[match[2]!] ?? Number.NaN);
  };
  const rate = /^Requests\/sec:\s+([\d.]+)\s*$/m.exec(output);
  const requests = /^\s*(\d+) requests in /m.exec(output);
  if (rate === null || requests === null) throw new Error(`wrk output has no request rate:\n${output}`);
  const bad = /^\s*(Non-2xx or 3xx responses: \d+|Socket errors: .*)$/m.exec(output);
  if (bad !== null) throw new Error(`wrk reported ${bad[1]}:\n${output}`);
  return { requestsPerSecond: Number(rate[1]), p50Ms: latencyMs('50'), p99Ms: latencyMs('99'), requests: Number(requests[1]) };
}
