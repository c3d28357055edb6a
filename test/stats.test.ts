import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RequestStats, ReqEventType, type StatsReport } from '../src/core/stats.js';

const { ReqIn, ReqOut, ProxiedIn, ProxiedOut } = ReqEventType;

/** Feeds [type, timeMs] pairs to a fresh RequestStats started at 0 and reports at `reportAt`. */
function run(events: Array<[ReqEventType, number]>, reportAt: number): StatsReport {
  const stats = new RequestStats(0);
  for (const [type, time] of events) stats.handleEvent({ type, time });
  return stats.report(reportAt);
}

function report(averageConcurrency: number, averageProxiedConcurrency: number, requestCount: number, proxiedRequestCount: number): StatsReport {
  return { averageConcurrency, averageProxiedConcurrency, requestCount, proxiedRequestCount };
}

/** Exact counts; averages equal up to floating-point rounding. */
function assertReport(got: StatsReport, want: StatsReport): void {
  assert.equal(got.requestCount, want.requestCount, 'requestCount');
  assert.equal(got.proxiedRequestCount, want.proxiedRequestCount, 'proxiedRequestCount');
  assert.ok(Math.abs(got.averageConcurrency - want.averageConcurrency) < 1e-12, `averageConcurrency ${got.averageConcurrency}, want ${want.averageConcurrency}`);
  assert.ok(Math.abs(got.averageProxiedConcurrency - want.averageProxiedConcurrency) < 1e-12, `averageProxiedConcurrency ${got.averageProxiedConcurrency}, want ${want.averageProxiedConcurrency}`);
}

describe('RequestStats.report over one window', () => {
  const cases: Array<{ name: string; events: Array<[ReqEventType, number]>; at: number; want: StatsReport }> = [
    { name: 'no data', events: [], at: 1000, want: report(0, 0, 0, 0) },
    { name: 'one request the whole window', events: [[ReqIn, 0]], at: 1000, want: report(1, 0, 1, 0) },
    {
      name: 'one request half the window',
      events: [
        [ReqIn, 0],
        [ReqOut, 500],
      ],
      at: 1000,
      want: report(0.5, 0, 1, 0),
    },
    {
      name: 'in at 0, out at 3000, report at 6000',
      events: [
        [ReqIn, 0],
        [ReqOut, 3000],
      ],
      at: 6000,
      want: report(0.5, 0, 1, 0),
    },
    {
      name: 'a very short request',
      events: [
        [ReqIn, 100],
        [ReqOut, 101],
      ],
      at: 1000,
      want: report(0.001, 0, 1, 0),
    },
    {
      name: 'two back-to-back requests of 500 ms (Knative docs example)',
      events: [
        [ReqIn, 0],
        [ReqOut, 500],
        [ReqIn, 500],
        [ReqOut, 1000],
      ],
      at: 1000,
      want: report(1, 0, 2, 0),
    },
    {
      name: 'interleaved requests',
      events: [
        [ReqIn, 0],
        [ReqIn, 250],
        [ReqOut, 500],
        [ReqIn, 600],
        [ReqOut, 750],
        [ReqOut, 1000],
      ],
      at: 1000,
      // 0-250: 1, 250-500: 2, 500-600: 1, 600-750: 2, 750-1000: 1 -> 0.25 + 0.5 + 0.1 + 0.3 + 0.25
      want: report(1.4, 0, 3, 0),
    },
    { name: 'proxied the whole window', events: [[ProxiedIn, 0]], at: 1000, want: report(1, 1, 1, 1) },
    {
      name: 'proxied half the window',
      events: [
        [ProxiedIn, 0],
        [ProxiedOut, 500],
      ],
      at: 1000,
      want: report(0.5, 0.5, 1, 1),
    },
    {
      name: 'proxied plus direct',
      events: [
        [ProxiedIn, 0],
        [ReqIn, 0],
        [ReqOut, 500],
        [ProxiedOut, 1000],
      ],
      at: 1000,
      want: report(1.5, 1, 2, 1),
    },
    {
      name: 'no time passed',
      events: [[ReqIn, 0]],
      at: 0,
      want: report(0, 0, 1, 0),
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assertReport(run(c.events, c.at), c.want);
    });
  }
});

describe('RequestStats across windows', () => {
  it('a request spanning two reports adds to both averages and counts once', () => {
    const stats = new RequestStats(0);
    stats.handle(ReqIn, 500);
    assertReport(stats.report(1000), report(0.5, 0, 1, 0));
    stats.handle(ReqOut, 1250);
    assertReport(stats.report(2000), report(0.25, 0, 0, 0));
    assertReport(stats.report(3000), report(0, 0, 0, 0));
  });

  it('a request spanning several reports keeps concurrency 1 in each', () => {
    const stats = new RequestStats(0);
    stats.handle(ProxiedIn, 0);
    assertReport(stats.report(1000), report(1, 1, 1, 1));
    assertReport(stats.report(2000), report(1, 1, 0, 0));
    assertReport(stats.report(3000), report(1, 1, 0, 0));
    stats.handle(ProxiedOut, 3000);
    assertReport(stats.report(4000), report(0, 0, 0, 0));
    assert.equal(stats.inFlight, 0);
    assert.equal(stats.proxiedInFlight, 0);
  });

  it('windows of different lengths are each averaged over their own time', () => {
    const stats = new RequestStats(0);
    stats.handle(ReqIn, 0);
    stats.handle(ReqIn, 0);
    assertReport(stats.report(2000), report(2, 0, 2, 0));
    stats.handle(ReqOut, 2100);
    // 2000-2100 at 2, 2100-2500 at 1: (0.2 + 0.4) / 0.5
    assertReport(stats.report(2500), report(1.2, 0, 0, 0));
  });
});

describe('RequestStats at a constant concurrency', () => {
  it('reports that concurrency exactly, whatever the fractions of the times (a gauge read as 3 must be 3)', () => {
    const stats = new RequestStats(1000);
    for (let i = 0; i < 3; i++) stats.handle(ProxiedIn, 1000);
    // 100 ms: 3 × 0.1 s / 0.1 s is 3.0000000000000004 in floating point.
    assert.deepEqual(stats.report(1100), report(3, 3, 3, 3));
    // Pieces of odd lengths within one window: a probe's or scrape's event changes nothing but splits the sum.
    for (const t of [1100.7, 1333.3331, 1650.123456, 1999.9]) {
      stats.handle(ReqIn, t);
      stats.handle(ReqOut, t);
    }
    assert.deepEqual(stats.report(2100), report(3, 3, 4, 0));
  });
});

describe('RequestStats with out-of-order events', () => {
  it('an earlier time does not move time back, but still changes the counts', () => {
    const stats = new RequestStats(0);
    stats.handle(ReqIn, 500);
    stats.handle(ReqOut, 200); // late: counts change at 500, no time accumulated
    const got = stats.report(1000);
    // 0-500 at concurrency 0, then 0 again after the late out.
    assertReport(got, report(0, 0, 1, 0));
    assert.equal(stats.inFlight, 0);
  });

  it('a report earlier than the last change accumulates nothing more', () => {
    const stats = new RequestStats(0);
    stats.handle(ReqIn, 1000);
    assertReport(stats.report(400), report(0, 0, 1, 0));
    assertReport(stats.report(2000), report(1, 0, 0, 0));
  });

  it('the start time counts as the first change', () => {
    const stats = new RequestStats(1000);
    stats.handle(ReqIn, 500);
    assertReport(stats.report(2000), report(1, 0, 1, 0));
  });
});

describe('RequestStats input checks', () => {
  for (const bad of [NaN, Infinity, -Infinity]) {
    it(`rejects time ${bad} and accumulates nothing`, () => {
      const stats = new RequestStats(0);
      stats.handle(ReqIn, 0);
      assert.throws(() => stats.handle(ReqOut, bad), { name: 'RangeError', message: `time must be a finite number of milliseconds, got ${bad}` });
      assert.throws(() => stats.report(bad), RangeError);
      assert.equal(stats.inFlight, 1);
      assertReport(stats.report(1000), report(1, 0, 1, 0));
    });
  }

  it('rejects a start time that is not finite', () => {
    assert.throws(() => new RequestStats(NaN), /time must be a finite number/);
  });

  it('rejects an unknown event type', () => {
    const stats = new RequestStats(0);
    assert.throws(() => stats.handle(7 as ReqEventType, 0), { name: 'RangeError', message: 'type must be a ReqEventType, got 7' });
    assertReport(stats.report(1000), report(0, 0, 0, 0));
  });
});
