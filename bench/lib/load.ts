import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** What {@link runLoad} sends: GETs of `/` to `url` over `connections` keep-alive connections, one request at a time on each. */
export interface LoadOptions {
  /** Base URL on 127.0.0.1, e.g. `http://127.0.0.1:8012`. */
  url: string;
  connections: number;
  /** Send exactly this many requests, then stop. One of `requests` and `durationMs` is required. */
  requests?: number;
  /** Keep sending for this many milliseconds, then stop (requests already started finish). */
  durationMs?: number;
}

/** What one load run saw; latencies in milliseconds, of the answered requests. */
export interface LoadResult {
  /** Requests started. */
  sent: number;
  /** Answers by status code, e.g. `{ "200": 20000 }`. */
  statuses: Record<string, number>;
  /** Requests that got no complete answer (connection refused, reset, truncated body), and the first one's message. */
  failed: number;
  firstError?: string;
  /** From the first request to the last answer. */
  elapsedMs: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/**
 * Sends load from a separate Node process (bench/servers/load-client.ts, undici Pool), so that the client's work
 * shares no event loop with the server or the measuring code, and resolves with what it saw.
 *
 * @throws Error (as a rejection) when the client process fails or prints no result
 */
export function runLoad(options: LoadOptions): Promise<LoadResult> {
  const client = fileURLToPath(new URL('../servers/load-client.js', import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [client, JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'pipe'] });
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

/** The value at quantile `q` (0 to 1) of ascending `sorted` values by nearest rank, so it is always an actual measurement; NaN when empty. */
export function nearestRank(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
