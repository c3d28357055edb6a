/**
 * Entry point `queue-stats-exporter/register`, for `node --import
 * queue-stats-exporter/register app.js` (or the same in `NODE_OPTIONS`):
 * tracks every request of the app's `http`/`https` servers and every stream of
 * its `http2` servers with no change to the app, configured by the environment
 * alone. Importing it starts the mode (see startInProcess); it exports
 * nothing. It first turns on Node's module compile cache for the process (the
 * mode's own code and the app's modules loaded after it;
 * `NODE_DISABLE_COMPILE_CACHE=1` leaves it off), so that V8 reads their code
 * back instead of compiling it again at every start.
 */
import { enableCompileCache, flushCompileCache } from 'node:module';
import { hostname } from 'node:os';

enableCompileCache();
const { startInProcess } = await import('./in-process.js');
await startInProcess(process.env, hostname());
// Written now, not only at exit: an app is usually stopped by a signal.
flushCompileCache();
