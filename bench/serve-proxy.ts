/**
 * Bench server: our reverse proxy with statistics off (startProxy without a
 * tracker, so no RequestTracker, reporter, metrics server or OTel SDK) on
 * 127.0.0.1:<port>, forwarding to the app at <upstream>. With the CLI's V8
 * settings (src/v8-tuning.ts) unless the third argument is `v8-defaults`.
 * Usage: node dist/bench/serve-proxy.js <port> <upstream URL> [v8-defaults]
 */
import { exitWithParent, portArgument } from './serve-process.js';

const upstream = process.argv[3];
if (upstream === undefined) {
  console.error('usage: serve-proxy.js <port> <upstream URL> [v8-defaults]');
  process.exit(2);
}
// Imported in this order, as in the CLI: the V8 flags first, then undici.
if (process.argv[4] !== 'v8-defaults') await import('../src/v8-tuning.js');
const { startProxy } = await import('../src/proxy.js');
await startProxy({ upstream, port: portArgument(), host: '127.0.0.1' });
exitWithParent();
