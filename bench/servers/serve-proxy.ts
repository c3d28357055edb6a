/**
 * Benchmark server: our reverse proxy with statistics off (startProxy without a
 * tracker, so no RequestTracker, reporter, metrics server or OTel SDK) on
 * 127.0.0.1:<port>, forwarding to the app at <upstream>, with a concurrency
 * limit of [container concurrency] (default 0: none). With [second port] and
 * [second concurrency], a second such proxy runs in the same process, so that
 * two limits can be loaded in turn on one heap and one JIT state.
 * Usage: node build/bench/servers/serve-proxy.js <port> <upstream URL> [container concurrency] [second port] [second concurrency]
 */
import '../../src/proxy/upstream/wasm-baseline.js';
import { startProxy } from '../../src/proxy/proxy.js';
import { exitWithParent, portArgument } from '../lib/serve-process.js';

const [upstream, concurrency = '0', secondPort, secondConcurrency = '0'] = process.argv.slice(3);
if (upstream === undefined) {
  console.error('usage: serve-proxy.js <port> <upstream URL> [container concurrency] [second port] [second concurrency]');
  process.exit(2);
}
if (secondPort !== undefined) await startProxy({ upstream, port: Number(secondPort), host: '127.0.0.1', containerConcurrency: Number(secondConcurrency) });
await startProxy({ upstream, port: portArgument(), host: '127.0.0.1', containerConcurrency: Number(concurrency) });
exitWithParent();
