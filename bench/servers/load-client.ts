/**
 * Load generator process: sends GET requests over a fixed number of
 * keep-alive connections (undici Pool, one request at a time on each), for
 * an exact count or a duration, and prints one JSON {@link LoadResult}.
 * Usage: node dist/bench/servers/load-client.js '<LoadOptions as JSON>'
 */
import { Pool } from 'undici';
import { nearestRank, type LoadOptions, type LoadResult } from '../lib/load.js';

const options = JSON.parse(process.argv[2] ?? '{}') as LoadOptions;
if (options.requests === undefined && options.durationMs === undefined) {
  console.error('load-client: give requests or durationMs');
  process.exit(2);
}
const pool = new Pool(options.url, { connections: options.connections, pipelining: 1 });
const statuses: Record<string, number> = {};
const latencies: number[] = [];
let sent = 0;
let failed = 0;
let firstError: string | undefined;
const started = performance.now();
const deadline = options.durationMs === undefined ? Infinity : started + options.durationMs;
const more = (): boolean => (options.requests === undefined ? performance.now() < deadline : sent < options.requests);

async function worker(): Promise<void> {
  while (more()) {
    sent++;
    const requestStarted = performance.now();
    try {
      const { statusCode, body } = await pool.request({ path: '/', method: 'GET' });
      await body.arrayBuffer();
      latencies.push(performance.now() - requestStarted);
      statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
    } catch (error) {
      failed++;
      firstError ??= error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    }
  }
}

await Promise.all(Array.from({ length: options.connections }, worker));
const elapsedMs = performance.now() - started;
await pool.close();
const sorted = Float64Array.from(latencies).sort();
const result: LoadResult = {
  sent,
  statuses,
  failed,
  firstError,
  elapsedMs,
  p50Ms: nearestRank(sorted, 0.5),
  p99Ms: nearestRank(sorted, 0.99),
  maxMs: sorted.length === 0 ? NaN : sorted[sorted.length - 1]!,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
