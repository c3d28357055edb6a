import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseConfig } from '../src/cli/config.js';
import { ConfigError } from '../src/core/errors.js';
import { RequestStats, ReqEventType } from '../src/core/stats.js';

/** A request's life: arrival time, duration, proxied or not (times in ms). */
const request = fc.record({ at: fc.integer({ min: 0, max: 10_000 }), durationMs: fc.integer({ min: 0, max: 5_000 }), proxied: fc.boolean() });

describe('RequestStats properties', () => {
  it('balanced event sequences give finite, non-negative averages and counts equal to arrivals', () => {
    fc.assert(
      fc.property(fc.array(request, { maxLength: 60 }), fc.array(fc.integer({ min: 1, max: 4000 }), { minLength: 1, maxLength: 8 }), (requests, windowsMs) => {
        const events = requests
          .flatMap((r) => [
            { time: r.at, type: r.proxied ? ReqEventType.ProxiedIn : ReqEventType.ReqIn },
            { time: r.at + r.durationMs, type: r.proxied ? ReqEventType.ProxiedOut : ReqEventType.ReqOut },
          ])
          .sort((a, b) => a.time - b.time || a.type - b.type);
        const stats = new RequestStats(0);
        let reportAt = 0;
        let arrivals = 0;
        let proxiedArrivals = 0;
        const check = (nowMs: number) => {
          const report = stats.report(nowMs);
          for (const value of Object.values(report)) assert.ok(Number.isFinite(value) && value >= 0, JSON.stringify(report));
          assert.ok(report.averageProxiedConcurrency <= report.averageConcurrency + 1e-9);
          arrivals += report.requestCount;
          proxiedArrivals += report.proxiedRequestCount;
        };
        let next = 0;
        for (const windowMs of [...windowsMs, 20_000]) {
          reportAt += windowMs;
          while (next < events.length && events[next]!.time <= reportAt) stats.handleEvent(events[next++]!);
          check(reportAt);
        }
        while (next < events.length) stats.handleEvent(events[next++]!);
        check(reportAt + 1);
        assert.equal(arrivals, requests.length);
        assert.equal(proxiedArrivals, requests.filter((r) => r.proxied).length);
        assert.equal(stats.inFlight, 0);
        assert.equal(stats.proxiedInFlight, 0);
      }),
      { numRuns: 300 },
    );
  });

  it('time never goes backwards: out-of-order events never make an average negative or add time', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 2000 }), { minLength: 1, maxLength: 40 }), (times) => {
        const stats = new RequestStats(0);
        // Every request in and out, at times in arbitrary order.
        for (const t of times) stats.handle(ReqEventType.ReqIn, t);
        for (const t of times) stats.handle(ReqEventType.ReqOut, t);
        const end = Math.max(...times);
        const first = stats.report(end);
        assert.ok(first.averageConcurrency >= 0 && first.averageConcurrency <= times.length);
        assert.equal(first.requestCount, times.length);
        // Reporting at an earlier time adds no time, so nothing is averaged.
        assert.deepEqual(stats.report(end - 1), { averageConcurrency: 0, averageProxiedConcurrency: 0, requestCount: 0, proxiedRequestCount: 0 });
      }),
      { numRuns: 300 },
    );
  });
});

describe('config parsing properties', () => {
  const flags = [
    '--upstream',
    '--port',
    '--metrics-port',
    '--host',
    '--namespace',
    '--config',
    '--revision',
    '--pod',
    '--reporting-period',
    '--timeout',
    '--drain-timeout',
    '--otlp-endpoint',
    '--bogus',
  ];
  const envNames = ['USER_PORT', 'QUEUE_SERVING_PORT', 'REVISION_TIMEOUT_SECONDS', 'SERVING_NAMESPACE', 'SERVING_CONFIGURATION', 'SERVING_REVISION', 'SERVING_POD'];

  it('any flags and environment give a valid config or one ConfigError naming an option', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(...flags), fc.string({ maxLength: 12 })), { maxLength: 6 }),
        fc.dictionary(fc.constantFrom(...envNames), fc.string({ maxLength: 12 })),
        (pairs, env) => {
          const argv = pairs.flatMap(([flag, value]) => [`${flag}=${value}`]);
          let config;
          try {
            config = parseConfig(argv, env, 'host');
          } catch (error) {
            assert.ok(error instanceof ConfigError, String(error));
            assert.ok(error.message.length > 0 && !error.message.includes('\n'), error.message);
            assert.ok(error.message.includes(error.field) || error.field === 'arguments', `${error.field}: ${error.message}`);
            return;
          }
          assert.ok(config.port >= 1 && config.port <= 65535);
          assert.ok(config.metricsPort >= 1 && config.metricsPort <= 65535);
          assert.ok(config.reportingPeriodMs > 0 && config.timeoutMs > 0 && config.drainTimeoutMs > 0);
          for (const name of Object.values(config.identity) as string[]) assert.ok(name.length > 0);
          assert.ok(config.upstream === undefined || config.upstream.startsWith('http://'));
        },
      ),
      { numRuns: 1000 },
    );
  });
});
