/**
 * Benchmark server: our proxy on 127.0.0.1:<port>, forwarding to <upstream URL>, whose RequestTracker is switched on
 * and off every 250 ms (each pair of phases in random order) while it serves. Switched off, a request takes exactly
 * startProxy's stats-off path (`classifyRequest` only), so the two modes differ by the tracking alone, in one process
 * under one continuous load. Every phase's CPU time (user + system, all threads, from `process.cpuUsage()`) and
 * request count are written as JSON to <results file> when the process is stopped.
 * Usage: node dist/bench/servers/serve-switched.js <port> <upstream URL> <results file>
 */
import { writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { monotonicNow } from '../../src/core/clock.js';
import { classifyRequest, type RequestKind } from '../../src/core/request-kind.js';
import { startProxy } from '../../src/proxy/proxy.js';
import { RequestStats } from '../../src/core/stats.js';
import { RequestTracker } from '../../src/tracking/tracker.js';
import { exitWithParent, portArgument } from '../lib/serve-process.js';

/** One phase of the run, as written to the results file: tracking on or off, the process's CPU time and the requests that arrived. */
export interface Phase {
  tracked: boolean;
  cpuUs: number;
  requests: number;
}

class SwitchedTracker extends RequestTracker {
  tracked = false;
  requests = 0;

  override track(request: IncomingMessage, response: ServerResponse): RequestKind {
    this.requests++;
    return this.tracked ? super.track(request, response) : classifyRequest(request.rawHeaders);
  }
}

const [upstream, resultsFile] = process.argv.slice(3);
if (upstream === undefined || resultsFile === undefined) {
  console.error('usage: serve-switched.js <port> <upstream URL> <results file>');
  process.exit(2);
}
const stats = new RequestStats(monotonicNow());
setInterval(() => stats.report(monotonicNow()), 1000).unref();
const tracker = new SwitchedTracker(stats);
await startProxy({ upstream, port: portArgument(), host: '127.0.0.1', tracker });

const phases: Phase[] = [];
let cpuBefore = process.cpuUsage();
let requestsBefore = 0;
setInterval(() => {
  const cpu = process.cpuUsage(cpuBefore);
  cpuBefore = process.cpuUsage();
  phases.push({ tracked: tracker.tracked, cpuUs: cpu.user + cpu.system, requests: tracker.requests - requestsBefore });
  requestsBefore = tracker.requests;
  // Pairs of one phase of each mode, in random order: with strict alternation anything with a period of an even
  // number of phases (the 1 s reporting tick is four) would always fall into the same mode.
  tracker.tracked = phases.length % 2 === 0 ? Math.random() < 0.5 : !tracker.tracked;
}, 250);
const finish = (): void => {
  writeFileSync(resultsFile, JSON.stringify(phases));
  process.exit(0);
};
// Stopped with SIGTERM by the benchmark, or orphaned when its pipe closes: write the results either way.
process.on('SIGTERM', finish);
exitWithParent(finish);
