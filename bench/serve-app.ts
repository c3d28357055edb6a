/**
 * Bench server: a hello-world node:http app on 127.0.0.1:<port>, either
 * plain or wrapped by RequestTracker (with the 1 s reporting tick a real
 * deployment runs).
 * Usage: node dist/bench/serve-app.js <port> plain|tracked
 */
import { createServer, type RequestListener } from 'node:http';
import { listen } from '../src/listen.js';
import { RequestStats } from '../src/stats.js';
import { monotonicNow } from '../src/clock.js';
import { RequestTracker } from '../src/tracker.js';
import { hello } from './hello.js';
import { exitWithParent, portArgument } from './serve-process.js';


function trackedHello(): RequestListener {
  const stats = new RequestStats(monotonicNow());
  setInterval(() => stats.report(monotonicNow()), 1000).unref();
  return new RequestTracker(stats).wrap(hello);
}

const mode = process.argv[3];
if (mode !== 'plain' && mode !== 'tracked') {
  console.error(`mode must be plain or tracked, got ${String(mode)}`);
  process.exit(2);
}
await listen(createServer(mode === 'tracked' ? trackedHello() : hello), 'hello app', portArgument(), '127.0.0.1');
exitWithParent();
