/**
 * Benchmark server: a hello-world app on 127.0.0.1:<port> whose request tracking is switched on and off every 500 ms,
 * each phase measured for its last 250 ms (bench/lib/switched-phases.ts), while it serves, in one of three ways: `middleware`, an Express app whose first
 * middleware is RequestTracker.middleware when on and a bare `next()` when off; `register`, a bare `node:http` app
 * tracked as the `--import` register mode tracks it (trackAllServers, Node's `http.server.request.start` channel),
 * subscribed when on and unsubscribed when off, so that off is Node's own path without a subscriber; `register-h2`,
 * the same for a bare `node:http2` cleartext app answering on its 'stream' event (Node's `http2.server.stream.start`
 * channel).
 * Usage: node dist/bench/servers/serve-switched-app.js <port> middleware|register|register-h2 <results file>
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createH2cServer } from 'node:http2';
import express from 'express';
import { monotonicNow } from '../../src/core/clock.js';
import { RequestStats } from '../../src/core/stats.js';
import { trackAllServers } from '../../src/tracking/all-servers.js';
import { RequestTracker } from '../../src/tracking/tracker.js';
import { portArgument } from '../lib/serve-process.js';
import { recordSwitchedPhases } from '../lib/switched-phases.js';

const [mode, resultsFile] = process.argv.slice(3);
if ((mode !== 'middleware' && mode !== 'register' && mode !== 'register-h2') || resultsFile === undefined) {
  console.error('usage: serve-switched-app.js <port> middleware|register|register-h2 <results file>');
  process.exit(2);
}
/**
 * Milliseconds after each switch left out of the phases. Subscribing to Node's channel, or unsubscribing, changes the
 * channel's prototype and so deoptimizes the Node code that tests it for subscribers (on Node 22, `onSessionHeaders` of
 * `node:http2` at every switch, then 7-22 ms of TurboFan to compile it again): a cost of the switching, which an app
 * that registers once never pays. The middleware mode settles as long, so that its phases are measured alike.
 */
const SETTLE_MS = 250;
const stats = new RequestStats(monotonicNow());
setInterval(() => stats.report(monotonicNow()), 1000).unref();
const tracker = new RequestTracker(stats);
let requests = 0;
let tracked = false;
const port = portArgument();

if (mode === 'middleware') {
  const app = express();
  app.use((request, response, next) => {
    requests++;
    if (tracked) tracker.middleware(request, response, next);
    else next();
  });
  app.get('/', (_request, response) => {
    response.send('hello\n');
  });
  app.listen(port, '127.0.0.1');
  recordSwitchedPhases({ setTracked: (on) => (tracked = on), requests: () => requests }, resultsFile, SETTLE_MS);
} else {
  if (mode === 'register') {
    createServer((_request: IncomingMessage, response: ServerResponse) => {
      requests++;
      response.end('hello\n');
    }).listen(port, '127.0.0.1');
  } else {
    createH2cServer()
      .on('stream', (stream) => {
        requests++;
        stream.respond({ ':status': 200, 'content-type': 'text/plain' });
        stream.end('hello\n');
      })
      .listen(port, '127.0.0.1');
  }
  let stop: (() => void) | undefined;
  const setTracked = (on: boolean): void => {
    if (on) stop ??= trackAllServers(tracker);
    else {
      stop?.();
      stop = undefined;
    }
  };
  recordSwitchedPhases({ setTracked, requests: () => requests }, resultsFile, SETTLE_MS);
}
