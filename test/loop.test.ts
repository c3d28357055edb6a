import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ReportingLoop } from '../src/tracking/loop.js';
import { RequestStats, ReqEventType, type StatsReport } from '../src/core/stats.js';

describe('ReportingLoop', () => {
  it('tick closes the window at the clock time and hands the report to the sink', () => {
    let nowMs = 0;
    const stats = new RequestStats(0);
    const reports: StatsReport[] = [];
    const loop = new ReportingLoop({ stats, sink: { report: (r) => reports.push(r) }, periodMs: 60_000, now: () => nowMs });
    stats.handle(ReqEventType.ReqIn, 0);
    stats.handle(ReqEventType.ReqOut, 250);
    nowMs = 1000;
    loop.tick();
    stats.handle(ReqEventType.ProxiedIn, 1000);
    nowMs = 1500;
    loop.stop();
    loop.stop();
    assert.deepEqual(reports, [
      { averageConcurrency: 0.25, averageProxiedConcurrency: 0, requestCount: 1, proxiedRequestCount: 0 },
      { averageConcurrency: 1, averageProxiedConcurrency: 1, requestCount: 1, proxiedRequestCount: 1 },
    ]);
  });

  it('ticks on its own every period', async () => {
    const stats = new RequestStats(performance.now());
    let count = 0;
    const loop = new ReportingLoop({ stats, sink: { report: () => count++ }, periodMs: 20 });
    const deadline = Date.now() + 2000;
    while (count < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    loop.stop();
    assert.ok(count >= 3, `ticked ${count} times`);
  });

  it('a sink that throws does not escape the timer', () => {
    const stats = new RequestStats(0);
    const loop = new ReportingLoop({
      stats,
      sink: {
        report: () => {
          throw new RangeError('bad');
        },
      },
      periodMs: 60_000,
      now: () => 1000,
    });
    assert.equal(loop.tick().requestCount, 0);
    loop.stop();
  });

  // Node runs an interval it cannot honour every 1 ms instead.
  for (const [periodMs, message] of [
    [0, 'periodMs must be a finite number > 0, got 0'],
    [NaN, 'periodMs must be a finite number > 0, got NaN'],
    [2 ** 31, `periodMs must be at most 2147483647 ms (the longest delay Node's timers take), got 2147483648`],
  ] as const) {
    it(`refuses periodMs ${periodMs} before starting a timer`, () => {
      assert.throws(() => new ReportingLoop({ stats: new RequestStats(0), sink: { report: () => {} }, periodMs }), { name: 'ConfigError', message });
    });
  }
});
