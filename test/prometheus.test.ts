import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startMetricsServer, type MetricsServer } from '../src/metrics-server/server.js';
import { StatsReporter } from '../src/otel/reporter.js';
import { HELLOWORLD as NAMES } from './helpers/fixtures.js';
import { prometheusMissing, PrometheusServer, promtool } from './helpers/prometheus.js';

const missing = prometheusMissing();
if (missing) console.log(`# skipping the Prometheus integration test: ${missing}`);

// Label values that need escaping in the exposition: quote, backslash, newline, non-ASCII.
const AWKWARD = { namespace: 'ns "quoted"', config: 'back\\slash', revision: 'line\nbreak', pod: 'pød-ünïcode-日本' };

describe('a real Prometheus scraping the metrics server', { skip: missing }, () => {
  let plain: MetricsServer;
  let awkward: MetricsServer;
  let prometheus: PrometheusServer;
  before(async () => {
    plain = await startMetricsServer({ port: 0, host: '127.0.0.1', withTargetInfo: false });
    awkward = await startMetricsServer({ port: 0, host: '127.0.0.1', withTargetInfo: false });
    new StatsReporter({ ...NAMES, meter: plain.meterProvider.getMeter('queue') }).report({
      averageConcurrency: 3,
      averageProxiedConcurrency: 1,
      requestCount: 10,
      proxiedRequestCount: 4,
    });
    new StatsReporter({ ...AWKWARD, meter: awkward.meterProvider.getMeter('queue') }).report({
      averageConcurrency: 0.5,
      averageProxiedConcurrency: 0.25,
      requestCount: 2,
      proxiedRequestCount: 1,
    });
    prometheus = await PrometheusServer.start([`127.0.0.1:${plain.port}`, `127.0.0.1:${awkward.port}`]);
    await prometheus.waitForTargetsUp(2);
    await prometheus.waitFor(async () => (await prometheus.query('queue_requests_per_second')).length === 2, 'the first samples');
  });
  after(async () => {
    await prometheus?.stop();
    await plain?.close();
    await awkward?.close();
  });

  it('stores the four queue_* series with their exact labels and values', async () => {
    const expected: Record<string, string> = {
      queue_requests_per_second: '10',
      queue_proxied_operations_per_second: '4',
      queue_average_concurrent_requests: '3',
      queue_average_proxied_concurrent_requests: '1',
    };
    for (const [name, value] of Object.entries(expected)) {
      const samples = await prometheus.query(`${name}{destination_pod="${NAMES.pod}"}`);
      assert.equal(samples.length, 1, name);
      assert.deepEqual(samples[0]!.metric, {
        __name__: name,
        destination_configuration: 'helloworld-go',
        destination_namespace: 'default',
        destination_pod: 'helloworld-go-00001-deployment-abc',
        destination_revision: 'helloworld-go-00001',
        instance: `127.0.0.1:${plain.port}`,
        job: 'queue',
      });
      assert.equal(samples[0]!.value[1], value, name);
    }
  });

  it('stores process_uptime as a positive number of seconds', async () => {
    const [sample] = await prometheus.query(`process_uptime{destination_pod="${NAMES.pod}"}`);
    const uptime = Number(sample!.value[1]);
    assert.ok(uptime > 0 && uptime < 120, `uptime ${uptime}`);
  });

  it('round-trips label values with quotes, backslashes, newlines and non-ASCII', async () => {
    const samples = await prometheus.query(`queue_requests_per_second{instance="127.0.0.1:${awkward.port}"}`);
    assert.equal(samples.length, 1);
    const { metric, value } = samples[0]!;
    assert.equal(metric['destination_namespace'], AWKWARD.namespace);
    assert.equal(metric['destination_configuration'], AWKWARD.config);
    assert.equal(metric['destination_revision'], AWKWARD.revision);
    assert.equal(metric['destination_pod'], AWKWARD.pod);
    assert.equal(value[1], '2');
  });

  it('passes promtool check metrics', async () => {
    for (const server of [plain, awkward]) {
      const text = await (await fetch(server.url)).text();
      const result = promtool(['check', 'metrics'], text);
      assert.equal(result.status, 0, result.output);
    }
  });
});
