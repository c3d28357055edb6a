/**
 * Benchmark server: our reverse proxy with statistics off (startProxy without a
 * tracker, so no RequestTracker, reporter, metrics server or OTel SDK) on
 * 127.0.0.1:<port>, forwarding to the app at <upstream>, with a concurrency
 * limit of [container concurrency] (default 0: none). With [second port] and
 * [second concurrency], a second such proxy runs in the same process, so that
 * two settings can be loaded in turn on one heap and one JIT state; with
 * `request-log` after them, the second proxy also writes Knative's default
 * request log line per request to /dev/null (one write per event-loop turn, as to stdout).
 * Usage: node build/bench/servers/serve-proxy.js <port> <upstream URL> [container concurrency] [second port] [second concurrency] [request-log]
 */
import '../../src/proxy/upstream/wasm-baseline.js';
import { openSync, writeSync } from 'node:fs';
import { DEFAULTS } from '../../src/core/defaults.js';
import { RequestLog } from '../../src/log/request-log.js';
import { startProxy } from '../../src/proxy/proxy.js';
import { exitWithParent, portArgument } from '../lib/serve-process.js';

const [upstream, concurrency = '0', secondPort, secondConcurrency = '0', log] = process.argv.slice(3);
if (upstream === undefined || (log !== undefined && log !== 'request-log')) {
  console.error('usage: serve-proxy.js <port> <upstream URL> [container concurrency] [second port] [second concurrency] [request-log]');
  process.exit(2);
}
const revision = { name: 'bench-00001', namespace: 'default', service: 'bench', configuration: 'bench', podName: 'bench-00001-pod', podIP: '10.0.0.1' };
const devNull = log === undefined ? -1 : openSync('/dev/null', 'w');
const requestLog = log === undefined ? undefined : new RequestLog(DEFAULTS.requestLogTemplate, revision, (lines) => void writeSync(devNull, lines));
if (secondPort !== undefined) await startProxy({ upstream, port: Number(secondPort), host: '127.0.0.1', containerConcurrency: Number(secondConcurrency), requestLog });
await startProxy({ upstream, port: portArgument(), host: '127.0.0.1', containerConcurrency: Number(concurrency) });
exitWithParent();
