import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** What {@link runLoad} sends. */
export interface LoadOptions {
  /** Base URL of the server under load, e.g. `http://127.0.0.1:8012`. */
  url: string;
  /** Path of every request (GET). Default `/`. */
  path?: string;
  /** Keep-alive connections, each with one request at a time. */
  connections: number;
  /** Send exactly this many requests, then stop. One of `requests` and `durationMs` is required. */
  requests?: number;
  /** Keep sending for this many milliseconds, then stop (requests already started finish). */
  durationMs?: number;
}

/** What one load run saw. */
export interface LoadResult {
  /** Requests started. */
  sent: number;
  /** Answers by status code, e.g. `{ "200": 20000 }`. */
  statuses: Record<string, number>;
  /** Requests that got no complete answer (connection refused, reset, truncated body). */
  failed: number;
  /** The first failure's message, if any. */
  firstError?: string;
  /** From the first request to the last answer, in milliseconds. */
  elapsedMs: number;
  /** Median latency of the answered requests, in milliseconds. */
  p50Ms: number;
  /** 99th percentile latency (nearest rank), in milliseconds. */
  p99Ms: number;
  /** Slowest answer, in milliseconds. */
  maxMs: number;
}

/** The compiled load client, a sibling of this file in build/bench. */
const CLIENT = fileURLToPath(new URL('./load-client.js', import.meta.url));

/**
 * Generates HTTP load from a separate Node process (bench/load-client.ts,
 * undici Pool), so the client's own work does not share an event loop with
 * the server or the measuring code, and resolves with what it saw.
 *
 * @throws Error (as a rejection) when the client process fails or prints no result
 */
export function runLoad(options: LoadOptions): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLIENT, JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code === 0 && stdout.trim() !== '') resolve(JSON.parse(stdout) as LoadResult);
      else reject(new Error(`load client exited with ${String(code)}: ${stderr}`));
    });
  });
}

/** Answers with status 200 in `result`. */
export function okCount(result: LoadResult): number {
  return result.statuses['200'] ?? 0;
}

/**
 * The value at quantile `q` (0 to 1) of ascending `sorted` values by nearest
 * rank, so it is always an actual measurement; NaN when empty.
 */
export function nearestRank(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
