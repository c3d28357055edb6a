/**
 * Benchmark server: our proxy on 127.0.0.1:<port>, forwarding to <upstream URL>, whose RequestTracker is switched on
 * and off every 250 ms (each pair of phases in random order) while it serves, HTTP/1.1 requests and HTTP/2 streams alike. Switched off, a request takes exactly
 * startProxy's stats-off path (`classifyRequest` only), so the two modes differ by the tracking alone, in one process
 * under one continuous load. Every phase's CPU time (user + system, all threads, from `process.cpuUsage()`) and
 * request count are written as JSON to <results file> when the process is stopped.
 * Usage: node dist/bench/servers/serve-switched.js <port> <upstream URL> <results file>
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { monotonicNow } from '../../src/core/clock.js';
import { classifyRequest, type RequestKind } from '../../src/core/request-kind.js';
import { startProxy } from '../../src/proxy/proxy.js';
import { RequestStats } from '../../src/core/stats.js';
import { RequestTracker } from '../../src/tracking/tracker.js';
import { portArgument } from '../lib/serve-process.js';
import { recordSwitchedPhases } from '../lib/switched-phases.js';

class SwitchedTracker extends RequestTracker {
  tracked = false;
  requests = 0;

  override track(request: IncomingMessage, response: ServerResponse): RequestKind {
    this.requests++;
    return this.tracked ? super.track(request, response) : classifyRequest(request.rawHeaders);
  }

  /** An HTTP/2 stream (the h2 suite's load), switched the same way: off, the stats-off path's classification only. */
  override trackStream(rawHeaders: readonly string[], stream: Duplex): RequestKind {
    this.requests++;
    return this.tracked ? super.trackStream(rawHeaders, stream) : classifyRequest(rawHeaders);
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
recordSwitchedPhases({ setTracked: (tracked) => (tracker.tracked = tracked), requests: () => tracker.requests }, resultsFile);
