import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/** What {@link runLoad} sends: GETs of `/` to `url` over `connections` keep-alive connections, one request at a time on each. */
export interface LoadOptions {
  url: string;
  connections: number;
  /** Send exactly this many, or keep sending for `durationMs` (requests started by then finish); one is required. */
  requests?: number;
  durationMs?: number;
}

/**
 * What one load run saw: requests sent, answers by status code (`{ "200": 20000 }`), requests with no complete answer
 * (refused, reset, truncated) and the first one's message, the time from the first request to the last answer, and
 * the latencies of the answered requests, all in milliseconds.
 */
export interface LoadResult {
  sent: number;
  statuses: Record<string, number>;
  failed: number;
  firstError?: string;
  elapsedMs: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/**
 * Sends load from a separate Node process (bench/servers/load-client.ts, undici Pool), so that the client's work
 * shares no event loop with the server or the measuring code, and resolves with what it saw.
 *
 * @throws Error (as a rejection) when the client process fails
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const client = fileURLToPath(new URL('../servers/load-client.js', import.meta.url));
  const { stdout } = await promisify(execFile)(process.execPath, [client, JSON.stringify(options)], { maxBuffer: 1 << 20 });
  return JSON.parse(stdout) as LoadResult;
}

/** The value at quantile `q` (0 to 1) of ascending `sorted` values by nearest rank, so it is always an actual measurement; NaN when empty. */
export function nearestRank(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
