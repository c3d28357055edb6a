/**
 * Benchmark server: two of our reverse proxies in one process, forwarding to the app at <upstream>: on <tracked
 * port> with a RequestTracker counting every request and stream into RequestStats (the stats' per-request work; no
 * reporter, metrics server or OTel SDK), on <untracked port> without one. Loading them in turn measures the stats'
 * cost on one heap and one JIT state. Usage: node build/bench/servers/serve-tracked-pair.js <tracked port> <untracked port> <upstream URL>
 */
import '../../src/proxy/wasm-baseline.js';
import { RequestStats } from '../../src/core/stats.js';
import { startProxy } from '../../src/proxy/proxy.js';
import { RequestTracker } from '../../src/tracking/tracker.js';
import { exitWithParent, portArgument } from '../lib/serve-process.js';

const [untrackedPort, upstream] = process.argv.slice(3);
if (untrackedPort === undefined || upstream === undefined) {
  console.error('usage: serve-tracked-pair.js <tracked port> <untracked port> <upstream URL>');
  process.exit(2);
}
const tracker = new RequestTracker(new RequestStats(performance.now()));
await startProxy({ upstream, port: Number(untrackedPort), host: '127.0.0.1' });
await startProxy({ upstream, port: portArgument(), host: '127.0.0.1', tracker });
exitWithParent();
