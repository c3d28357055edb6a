import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../src/core/errors.js';
import { startQueueStats } from '../src/queue-stats/queue-stats.js';
import { scrapeUntil } from './helpers/scrape.js';
import { get, serve, until } from './helpers/http.js';
import { collectGauges, testProvider } from './helpers/test-reader.js';

/** The part of an OTLP/HTTP JSON metrics export the tests read. */
interface OtlpJsonMetrics {
  resourceMetrics: Array<{ scopeMetrics: Array<{ metrics: Array<{ name: string; gauge?: { dataPoints: Array<{ asDouble?: number }> } }> }> }>;
}

const ENV = { SERVING_NAMESPACE: 'ns', SERVING_CONFIGURATION: 'cfg', SERVING_REVISION: 'cfg-00001', SERVING_POD: 'cfg-00001-pod' };

describe('startQueueStats', () => {
  it('tracks an app end to end: names from SERVING_*, gauges on the metrics server', async () => {
    const qs = await startQueueStats({ port: 0, host: '127.0.0.1', reportingPeriodMs: 200, env: ENV, withTargetInfo: false });
    let release = (): void => {};
    const app = await serve(
      qs.tracker.wrap((_req, res) => {
        release = () => res.end('done');
      }),
    );
    try {
      const text = await (await fetch(qs.metricsServer!.url)).text();
      assert.match(text, /queue_requests_per_second\{destination_configuration="cfg",destination_namespace="ns",destination_pod="cfg-00001-pod",destination_revision="cfg-00001"\} 0\n/);
      const pending = get(app.port, '/', { 'K-Proxy-Request': 'activator' });
      await until(() => qs.stats.inFlight === 1, 'the request to arrive');
      // One request held open: a whole window later, both averages read exactly 1.
      await scrapeUntil(qs.metricsServer!.url, (v) => v.get('queue_average_concurrent_requests') === 1 && v.get('queue_average_proxied_concurrent_requests') === 1, 'both averages at 1');
      release();
      assert.equal((await pending).body, 'done');
      await until(() => qs.stats.inFlight === 0, 'the request to finish');
    } finally {
      await app.close();
      await qs.close();
    }
  });

  it('records on a meter it is given, with no metrics server', async () => {
    const { provider, reader } = testProvider();
    const qs = await startQueueStats({ namespace: 'a', config: 'b', revision: 'c', pod: 'd', meter: provider.getMeter('mine'), env: {} });
    try {
      assert.equal(qs.metricsServer, undefined);
      const { points } = await collectGauges(reader);
      assert.deepEqual(points.get('queue_requests_per_second'), [
        { value: 0, attributes: { destination_configuration: 'b', destination_namespace: 'a', destination_pod: 'd', destination_revision: 'c' } },
      ]);
    } finally {
      await qs.close();
      await qs.close();
    }
  });

  it('OTEL_METRICS_EXPORTER=none starts no metrics server', async () => {
    const qs = await startQueueStats({ port: 0, env: { ...ENV, OTEL_METRICS_EXPORTER: 'none' } });
    assert.equal(qs.metricsServer, undefined);
    await qs.close();
  });

  it('rejects missing names before listening, naming the first one', async () => {
    await assert.rejects(startQueueStats({ port: 0, env: { ...ENV, SERVING_NAMESPACE: undefined } }), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.equal(e.message, 'namespace must not be empty');
      return true;
    });
    await assert.rejects(startQueueStats({ port: 0, env: ENV, reportingPeriodMs: -5 }), { message: 'reportingPeriodMs must be a finite number > 0, got -5' });
    await assert.rejects(startQueueStats({ port: 0, env: ENV, reportingPeriodMs: 3e9 }), {
      name: 'ConfigError',
      message: `reportingPeriodMs must be at most 2147483647 ms (the longest delay Node's timers take), got 3000000000`,
    });
  });

  it('close takes a last report of the partial window and flushes it over OTLP', async () => {
    const bodies: string[] = [];
    const receiver = await serve((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => {
        bodies.push(body);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    const qs = await startQueueStats({
      port: 0,
      host: '127.0.0.1',
      reportingPeriodMs: 60_000,
      otlpEndpoint: `http://127.0.0.1:${receiver.port}/v1/metrics`,
      env: { ...ENV, OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json', OTEL_METRIC_EXPORT_INTERVAL: '600000' },
    });
    const app = await serve(qs.tracker.wrap((_req, res) => res.end()));
    try {
      await get(app.port);
      await get(app.port);
      await until(() => qs.stats.inFlight === 0, 'the requests');
    } finally {
      await app.close();
    }
    await qs.close();
    await receiver.close();
    assert.equal(bodies.length, 1);
    const body = JSON.parse(bodies[0]!) as OtlpJsonMetrics;
    const rate = body.resourceMetrics[0]?.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.name === 'queue_requests_per_second');
    assert.equal(rate?.gauge?.dataPoints[0]?.asDouble, 2 / 60);
  });
});
