/**
 * Entry point `queue-stats-exporter/register`, for `node --import
 * queue-stats-exporter/register app.js` (or the same in `NODE_OPTIONS`):
 * tracks every request of the app's `http`/`https` servers and every stream of
 * its `http2` servers with no change to the app, configured by the environment
 * alone. Importing it starts the mode
 * (see startInProcess); it exports nothing.
 */
import { hostname } from 'node:os';
import { startInProcess } from './in-process.js';

await startInProcess(process.env, hostname());
