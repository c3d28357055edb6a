/**
 * Bench server on 127.0.0.1:<port> whose RequestTracker is switched on and
 * off every 250 ms (each pair of phases in random order) while it serves: our proxy forwarding to <upstream URL>,
 * or with `app` the hello-world app wrapped by `tracker.wrap()`. Switched
 * off, a request takes exactly the untracked path (for the proxy,
 * startProxy's stats-off path, `classifyRequest` only; for the app,
 * nothing), so the two modes differ by the tracking alone, in one process
 * under one continuous load.
 * Every phase's CPU time (user + system, all threads, from
 * `process.cpuUsage()`) and request count are written as JSON to
 * <results file> when the process is stopped.
 * Usage: node build/bench/serve-switched.js <port> <upstream URL>|app <results file>
 */
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { monotonicNow } from '../src/core/clock.js';
import { listen } from '../src/http/listen.js';
import { classifyRequest, RequestKind } from '../src/core/request-kind.js';
import { startProxy } from '../src/proxy/proxy.js';
import { RequestStats } from '../src/core/stats.js';
import { RequestTracker } from '../src/tracking/tracker.js';
import { hello } from './hello.js';
import { portArgument } from './serve-process.js';

/** Length of one phase, in milliseconds. */
const PHASE_MS = 250;

/** One phase of the run, as written to the results file. */
export interface Phase {
  /** Tracking was on. */
  tracked: boolean;
  /** CPU time of the process during the phase, in microseconds. */
  cpuUs: number;
  /** Requests that arrived during the phase. */
  requests: number;
}

class SwitchedTracker extends RequestTracker {
  tracked = false;
  requests = 0;
  /** What a request costs switched off: the proxy still classifies it (probes), a plain app does nothing. */
  untracked: (request: IncomingMessage) => RequestKind = (request) => classifyRequest(request.rawHeaders);

  override track(request: IncomingMessage, response: ServerResponse): RequestKind {
    this.requests++;
    return this.tracked ? super.track(request, response) : this.untracked(request);
  }
}

const [upstream, resultsFile] = process.argv.slice(3);
if (upstream === undefined || resultsFile === undefined) {
  console.error('usage: serve-switched.js <port> <upstream URL>|app <results file>');
  process.exit(2);
}
const stats = new RequestStats(monotonicNow());
setInterval(() => stats.report(monotonicNow()), 1000).unref();
const tracker = new SwitchedTracker(stats);
if (upstream === 'app') {
  tracker.untracked = () => RequestKind.Direct;
  await listen(createServer(tracker.wrap(hello)), 'hello app', portArgument(), '127.0.0.1');
} else {
  await startProxy({ upstream, port: portArgument(), host: '127.0.0.1', tracker });
}

const phases: Phase[] = [];
let cpuBefore = process.cpuUsage();
let requestsBefore = 0;
setInterval(() => {
  const cpu = process.cpuUsage(cpuBefore);
  cpuBefore = process.cpuUsage();
  phases.push({ tracked: tracker.tracked, cpuUs: cpu.user + cpu.system, requests: tracker.requests - requestsBefore });
  requestsBefore = tracker.requests;
  // Phases come in pairs, one of each mode, in random order: strict alternation would put anything with a period
  // of an even number of phases (the 1 s reporting tick is four) always into the same mode.
  tracker.tracked = phases.length % 2 === 0 ? Math.random() < 0.5 : !tracker.tracked;
}, PHASE_MS);
const finish = (): void => {
  writeFileSync(resultsFile, JSON.stringify(phases));
  process.exit(0);
};
// Stopped with SIGTERM by the bench, or orphaned when the bench's pipe closes: write the results either way.
process.on('SIGTERM', finish);
process.stdin.on('end', finish);
process.stdin.resume();
