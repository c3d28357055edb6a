import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { metrics } from '@opentelemetry/api';
import { ConfigError } from '../src/core/errors.js';
import { StatsReporter, type StatsReporterOptions } from '../src/otel/reporter.js';
import { HELLOWORLD as NAMES, HELLOWORLD_ATTRIBUTES as ATTRIBUTES } from './helpers/fixtures.js';
import { collectGauges, testProvider } from './helpers/test-reader.js';

function setup(extra: Partial<StatsReporterOptions> = {}) {
  const { provider, reader } = testProvider();
  let nowMs = 10_000;
  const reporter = new StatsReporter({ ...NAMES, meter: provider.getMeter('test'), now: () => nowMs, ...extra });
  return { reporter, reader, provider, advance: (ms: number) => (nowMs += ms) };
}

async function values(reader: Parameters<typeof collectGauges>[0]): Promise<Record<string, number>> {
  const { points } = await collectGauges(reader);
  return Object.fromEntries([...points].map(([name, p]) => [name, p[0]?.value ?? NaN]));
}

describe('StatsReporter constructor checks', () => {
  const order: Array<[keyof typeof NAMES, string]> = [
    ['namespace', 'namespace must not be empty'],
    ['config', 'config must not be empty'],
    ['revision', 'revision must not be empty'],
    ['pod', 'pod must not be empty'],
  ];
  for (const [field, message] of order) {
    it(`rejects an empty ${field}`, () => {
      assert.throws(
        () => new StatsReporter({ ...NAMES, [field]: '' }),
        (e: unknown) => e instanceof ConfigError && e.message === message && e.field === field,
      );
    });
  }

  it('checks in the order namespace, config, revision, pod', () => {
    assert.throws(() => new StatsReporter({ namespace: '', config: '', revision: '', pod: '' }), { message: 'namespace must not be empty' });
    assert.throws(() => new StatsReporter({ ...NAMES, config: '', revision: '', pod: '' }), { message: 'config must not be empty' });
    assert.throws(() => new StatsReporter({ ...NAMES, revision: '', pod: '' }), { message: 'revision must not be empty' });
  });

  for (const bad of [0, -1000, NaN, Infinity]) {
    it(`rejects reportingPeriodMs ${bad}`, () => {
      assert.throws(() => new StatsReporter({ ...NAMES, reportingPeriodMs: bad }), {
        name: 'ConfigError',
        message: `reportingPeriodMs must be a finite number > 0, got ${bad}`,
      });
    });
  }

  it("rejects reportingPeriodMs past 2147483647, the longest delay Node's timers take", () => {
    assert.throws(() => new StatsReporter({ ...NAMES, reportingPeriodMs: 2 ** 31 }), {
      name: 'ConfigError',
      message: `reportingPeriodMs must be at most 2147483647 ms (the longest delay Node's timers take), got 2147483648`,
    });
  });
});

describe('StatsReporter gauges', () => {
  it('exports the five gauges with their HELP texts and Knative labels, 0 before the first report', async () => {
    const { reader, advance } = setup();
    advance(2500);
    const { points, help } = await collectGauges(reader);
    assert.deepEqual(Object.fromEntries(help), {
      process_uptime: 'The number of seconds that the process has been up',
      queue_average_concurrent_requests: 'Number of requests currently being handled by this pod',
      queue_average_proxied_concurrent_requests: 'Number of proxied requests currently being handled by this pod',
      queue_proxied_operations_per_second: 'Number of proxied requests per second',
      queue_requests_per_second: 'Number of requests per second',
    });
    for (const [name, series] of points) {
      assert.equal(series.length, 1, name);
      assert.deepEqual(series[0]!.attributes, ATTRIBUTES, name);
      assert.deepEqual(Object.keys(series[0]!.attributes), Object.keys(ATTRIBUTES).sort(), `${name} label order`);
      assert.equal(series[0]!.value, name === 'process_uptime' ? 2.5 : 0, name);
    }
  });

  it('report sets rates per second of the reporting period and the averages as given', async () => {
    const { reporter, reader } = setup({ reportingPeriodMs: 2000 });
    reporter.report({ averageConcurrency: 3, averageProxiedConcurrency: 1, requestCount: 10, proxiedRequestCount: 4 });
    assert.deepEqual(await values(reader), {
      process_uptime: 0,
      queue_average_concurrent_requests: 3,
      queue_average_proxied_concurrent_requests: 1,
      queue_proxied_operations_per_second: 2,
      queue_requests_per_second: 5,
    });
  });

  it('the default period is 1000 ms', async () => {
    const { reporter, reader } = setup();
    reporter.report({ averageConcurrency: 0.5, averageProxiedConcurrency: 0.25, requestCount: 7, proxiedRequestCount: 3 });
    const got = await values(reader);
    assert.equal(got['queue_requests_per_second'], 7);
    assert.equal(got['queue_proxied_operations_per_second'], 3);
  });

  for (const field of ['averageConcurrency', 'averageProxiedConcurrency', 'requestCount', 'proxiedRequestCount'] as const) {
    for (const bad of [NaN, Infinity, -1]) {
      it(`rejects ${field} = ${bad} and keeps the previous values`, async () => {
        const { reporter, reader } = setup();
        const good = { averageConcurrency: 3, averageProxiedConcurrency: 1, requestCount: 10, proxiedRequestCount: 4 };
        reporter.report(good);
        assert.throws(() => reporter.report({ ...good, requestCount: 1, [field]: bad }), {
          name: 'RangeError',
          message: `${field} must be a finite number >= 0, got ${bad}`,
        });
        assert.equal((await values(reader))['queue_requests_per_second'], 10);
      });
    }
  }

  it('shutdown stops observing: later reports and time no longer reach the exported values', async () => {
    const { reporter, reader, advance } = setup();
    reporter.report({ averageConcurrency: 3, averageProxiedConcurrency: 1, requestCount: 10, proxiedRequestCount: 4 });
    advance(1000);
    assert.equal((await values(reader))['process_uptime'], 1);
    reporter.shutdown();
    reporter.shutdown();
    reporter.report({ averageConcurrency: 0, averageProxiedConcurrency: 0, requestCount: 99, proxiedRequestCount: 0 });
    advance(5000);
    // The SDK keeps exporting the last observed value of a series (opentelemetry-js #4096).
    const got = await values(reader);
    assert.equal(got['queue_requests_per_second'], 10);
    assert.equal(got['process_uptime'], 1);
  });

  it('defaults to a meter from the global API', async () => {
    const { provider, reader } = testProvider();
    assert.ok(metrics.setGlobalMeterProvider(provider));
    try {
      const reporter = new StatsReporter(NAMES);
      reporter.report({ averageConcurrency: 2, averageProxiedConcurrency: 0, requestCount: 1, proxiedRequestCount: 0 });
      assert.equal((await values(reader))['queue_average_concurrent_requests'], 2);
      reporter.shutdown();
    } finally {
      metrics.disable();
    }
  });
});
