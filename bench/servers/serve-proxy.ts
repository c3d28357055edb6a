/**
 * Benchmark server: our reverse proxy with statistics off (startProxy without a
 * tracker, so no RequestTracker, reporter, metrics server or OTel SDK) on
 * 127.0.0.1:<port>, forwarding to the app at <upstream>, with a concurrency
 * limit of [container concurrency] (default 0: none).
 * Usage: node dist/bench/servers/serve-proxy.js <port> <upstream URL> [container concurrency]
 */
import '../../src/proxy/wasm-baseline.js';
import { startProxy } from '../../src/proxy/proxy.js';
import { exitWithParent, portArgument } from '../lib/serve-process.js';

const [upstream, concurrency = '0'] = process.argv.slice(3);
if (upstream === undefined) {
  console.error('usage: serve-proxy.js <port> <upstream URL> [container concurrency]');
  process.exit(2);
}
await startProxy({ upstream, port: portArgument(), host: '127.0.0.1', containerConcurrency: Number(concurrency) });
exitWithParent();
