import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { describe, it } from 'node:test';
import { ReportingLoop } from '../src/tracking/loop.js';
import { RequestStats, type StatsReport } from '../src/core/stats.js';
import { monotonicNow } from '../src/core/clock.js';
import { RequestTracker } from '../src/tracking/tracker.js';
import { serve } from './helpers/http.js';

const CLIENTS = 8;
// Long enough next to the client's own turnaround (~2 ms in-process) that
// the clients really hold a request in the server almost all of the time.
const HANDLER_MS = 100;
const PERIOD_MS = 1000;
const RUN_MS = 4500;

function getOnce(agent: Agent, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
      res.resume();
      res.on('end', resolve);
    })
      .on('error', reject)
      .end();
  });
}

/** Time-weighted requests in flight over [fromMs, toMs], from each request's own arrival and end. */
function inFlightAverage(requests: ReadonlyArray<{ inMs: number; outMs: number }>, fromMs: number, toMs: number): number {
  const busyMs = requests.reduce((sum, { inMs, outMs }) => sum + Math.max(0, Math.min(outMs, toMs) - Math.max(inMs, fromMs)), 0);
  return busyMs / (toMs - fromMs);
}

describe('accuracy against real keep-alive clients', () => {
  it(`${CLIENTS} clients on a ${HANDLER_MS} ms handler read as the concurrency and the arrivals they really had, window by window`, async () => {
    const createdMs = monotonicNow();
    const stats = new RequestStats(createdMs);
    const reports: StatsReport[] = [];
    // What the server saw, timed as the tracker times it: arrival as the listener is called, end at the response's close.
    const requests: Array<{ inMs: number; outMs: number }> = [];
    const app = await serve(
      new RequestTracker(stats).wrap((_req, res) => {
        const request = { inMs: monotonicNow(), outMs: Infinity };
        requests.push(request);
        res.on('close', () => (request.outMs = monotonicNow()));
        setTimeout(() => res.end('ok'), HANDLER_MS);
      }),
    );
    const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
    let completed = 0;
    // The loop's own clock calls are the windows' ends.
    const windowEndsMs: number[] = [];
    const now = (): number => {
      const ms = monotonicNow();
      windowEndsMs.push(ms);
      return ms;
    };
    const loop = new ReportingLoop({ stats, periodMs: PERIOD_MS, now, sink: { report: (r) => reports.push(r) } });
    const deadline = monotonicNow() + RUN_MS;
    await Promise.all(
      Array.from({ length: CLIENTS }, async (_, i) => {
        // Staggered starts spread arrivals evenly over the handler time.
        await new Promise((r) => setTimeout(r, (i * HANDLER_MS) / CLIENTS));
        while (monotonicNow() < deadline) {
          await getOnce(agent, app.port);
          completed++;
        }
      }),
    );
    loop.stop();
    agent.destroy();
    await app.close();

    // Every request is counted exactly once across the windows.
    assert.equal(
      reports.reduce((sum, r) => sum + r.requestCount, 0),
      completed,
    );
    assert.equal(requests.length, completed);
    // Full windows while all clients ran: the first and the last (partial) are left out.
    assert.equal(windowEndsMs.length, reports.length);
    const full = reports.slice(1, -1);
    assert.ok(full.length >= 2, `only ${full.length} full windows`);
    for (const [index, report] of full.entries()) {
      const [fromMs, toMs] = [windowEndsMs[index]!, windowEndsMs[index + 1]!];
      // The clients keep about CLIENTS requests in the server; how close to it depends on the machine's load, so the
      // report is held to what the requests' own times say, not to the nominal number.
      const truth = inFlightAverage(requests, fromMs, toMs);
      assert.ok(truth > CLIENTS / 2, `only ${truth} requests in flight on average: the clients did not load the server`);
      assert.ok(Math.abs(report.averageConcurrency - truth) < 0.01, `window ${index + 1}: reported ${report.averageConcurrency}, the requests' own times give ${truth}`);
      // Arrivals within a few microseconds of a window's end may fall on either side of it.
      const arrived = requests.filter(({ inMs }) => inMs > fromMs && inMs <= toMs).length;
      assert.ok(Math.abs(report.requestCount - arrived) <= 1, `window ${index + 1}: reported ${report.requestCount} arrivals, the requests' own times give ${arrived}`);
    }
    assert.ok(createdMs <= windowEndsMs[0]!);
  });
});
