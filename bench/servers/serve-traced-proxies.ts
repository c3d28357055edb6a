/**
 * Benchmark server: two of our reverse proxies with statistics off in one process, both forwarding to the app at
 * <upstream>: one untraced on 127.0.0.1:<port>, one on 127.0.0.1:<traced port> tracing every request (sampler
 * `always_on`) with the SDK's batch processor at its defaults, exporting OTLP/HTTP protobuf to <traces URL>.
 * Usage: node build/bench/servers/serve-traced-proxies.js <port> <upstream URL> <traced port> <traces URL>
 */
import '../../src/proxy/upstream/wasm-baseline.js';
import { startProxy } from '../../src/proxy/proxy.js';
import { startTracing } from '../../src/trace/start-tracing.js';
import { exitWithParent, portArgument } from '../lib/serve-process.js';

const [upstream, tracedPort, tracesUrl] = process.argv.slice(3);
if (upstream === undefined || tracedPort === undefined || tracesUrl === undefined) {
  console.error('usage: serve-traced-proxies.js <port> <upstream URL> <traced port> <traces URL>');
  process.exit(2);
}
const tracing = await startTracing({
  settings: { endpoint: tracesUrl, protocol: 'http/protobuf', headers: {}, exporterTimeoutMs: 10_000, sampler: { name: 'always_on', ratio: 1 } },
  identity: { namespace: 'bench', config: 'bench', revision: 'bench-00001', pod: 'bench-pod' },
  env: {},
});
await startProxy({ upstream, port: Number(tracedPort), host: '127.0.0.1', tracer: tracing.tracer });
await startProxy({ upstream, port: portArgument(), host: '127.0.0.1' });
exitWithParent();
