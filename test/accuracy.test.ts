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

describe('accuracy against real keep-alive clients', () => {
  it(`${CLIENTS} clients on a ${HANDLER_MS} ms handler read as concurrency ${CLIENTS} and the rate they completed`, async () => {
    const stats = new RequestStats(monotonicNow());
    const reports: Array<StatsReport & { atMs: number }> = [];
    const app = await serve(new RequestTracker(stats).wrap((_req, res) => setTimeout(() => res.end('ok'), HANDLER_MS)));
    const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
    let completed = 0;
    const startMs = monotonicNow();
    const loop = new ReportingLoop({ stats, periodMs: PERIOD_MS, sink: { report: (r) => reports.push({ ...r, atMs: monotonicNow() }) } });
    const deadline = startMs + RUN_MS;
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
    const elapsedMs = monotonicNow() - startMs;
    loop.stop();
    agent.destroy();
    await app.close();

    // Every request is counted exactly once across the windows.
    assert.equal(
      reports.reduce((sum, r) => sum + r.requestCount, 0),
      completed,
    );
    // Full windows while all clients ran: the first and the last (partial) are left out.
    const full = reports.slice(1, -1);
    assert.ok(full.length >= 2, `only ${full.length} full windows`);
    for (const r of full) {
      assert.ok(Math.abs(r.averageConcurrency - CLIENTS) / CLIENTS < 0.05, `average concurrency ${r.averageConcurrency}`);
    }
    const clientRate = completed / (elapsedMs / 1000);
    const reportedRate = full.reduce((sum, r) => sum + r.requestCount, 0) / ((full.length * PERIOD_MS) / 1000);
    assert.ok(Math.abs(reportedRate - clientRate) / clientRate < 0.05, `reported ${reportedRate}/s, clients completed ${clientRate}/s`);
  });
});
