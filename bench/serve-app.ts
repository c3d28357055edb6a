/**
 * Bench server: a hello-world node:http app on 127.0.0.1:<port>, either
 * plain, wrapped by RequestTracker (with the 1 s reporting tick a real
 * deployment runs), or answering each request after a 5 ms timer (`sleep5`:
 * an app that waits on I/O, so concurrency grows with load while its CPU
 * per request stays that of the plain app).
 * Usage: node build/bench/serve-app.js <port> plain|tracked|sleep5
 */
import { createServer, type RequestListener } from 'node:http';
import { listen } from '../src/http/listen.js';
import { RequestStats } from '../src/core/stats.js';
import { monotonicNow } from '../src/core/clock.js';
import { RequestTracker } from '../src/tracking/tracker.js';
import { hello } from './hello.js';
import { exitWithParent, portArgument } from './serve-process.js';

/** How long `sleep5` waits before answering, in milliseconds. */
const SLEEP_MS = 5;

function trackedHello(): RequestListener {
  const stats = new RequestStats(monotonicNow());
  setInterval(() => stats.report(monotonicNow()), 1000).unref();
  return new RequestTracker(stats).wrap(hello);
}

const sleepingHello: RequestListener = (request, response) => {
  setTimeout(hello, SLEEP_MS, request, response);
};

const LISTENERS: Record<string, () => RequestListener> = { plain: () => hello, tracked: trackedHello, sleep5: () => sleepingHello };
const mode = process.argv[3] ?? '';
const listener = Object.hasOwn(LISTENERS, mode) ? LISTENERS[mode] : undefined;
if (listener === undefined) {
  console.error(`mode must be plain, tracked or sleep5, got ${mode}`);
  process.exit(2);
}
await listen(createServer(listener()), 'hello app', portArgument(), '127.0.0.1');
exitWithParent();
