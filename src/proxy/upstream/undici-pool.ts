import type * as Undici from 'undici';
// @ts-expect-error -- undici types its index only; this file's module.exports is the index's `Pool`.
import UndiciPool from 'undici/lib/dispatcher/pool.js';

/**
 * undici's `Pool` class, loaded from its own module rather than from the
 * package's index. The index also loads fetch, WebSocket, the cache, the
 * mocks and every other dispatcher: measured here on Node 20, `require('undici')`
 * takes about 85 ms and 8.5 MB of RSS where the Pool's module takes about 27 ms
 * and 1 MB, and a sidecar starts with every pod. undici 7 has no `exports`
 * map, so the file is reachable; the proxy calls only `dispatch` and `destroy`,
 * which are the Pool's own (the index adds `request`, `stream` and the other
 * convenience methods to `Dispatcher.prototype`, which we do not use). A static
 * import, so that the CLI's bundle holds it.
 */
export const Pool = UndiciPool as typeof Undici.Pool;

/** An instance of {@link Pool}. */
export type Pool = Undici.Pool;
