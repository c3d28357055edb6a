/**
 * undici's `Pool` alone. The package's index also loads fetch, WebSocket,
 * the cache and their WebAssembly parser up front, which costs the sidecar
 * about 8 MB of RSS it never uses (62 MB vs 54 MB after import, measured with
 * `process.memoryUsage().rss`). undici declares no `exports` map, so the
 * module is reachable by path; the dependency is pinned to an exact version,
 * and the proxy tests fail if that path ever moves.
 */
import { createRequire } from 'node:module';
import type { Pool as PoolClass } from 'undici';

/** undici's keep-alive connection pool to one origin (the same class `undici` exports). */
export const Pool: typeof PoolClass = createRequire(import.meta.url)('undici/lib/dispatcher/pool.js') as typeof PoolClass;
