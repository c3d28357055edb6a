import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DataPointType } from '@opentelemetry/sdk-metrics';
import type { BreakerReadings } from '../src/core/breaker.js';
import { RequestMetrics } from '../src/otel/request-metrics.js';
import { testProvider, type TestReader } from './helpers/test-reader.js';

/** The collected metrics by name: their descriptor and data points. */
async function collect(reader: TestReader) {
  const { resourceMetrics, errors } = await reader.collect();
  assert.deepEqual(errors, []);
  return new Map(resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics.map((metric) => [metric.descriptor.name, metric] as const)));
}

describe('RequestMetrics', () => {
  it("records durations in Knative's buckets, one series per status code", async () => {
    const { provider, reader } = testProvider();
    const metrics = new RequestMetrics({ meter: provider.getMeter('test') });
    metrics.requestEnded(200, 0.004);
    metrics.requestEnded(200, 0.3);
    metrics.requestEnded(200, 12);
    metrics.requestEnded(503, 0.02);
    const duration = (await collect(reader)).get('kn.serving.invocation.duration');
    assert.ok(duration !== undefined && duration.dataPointType === DataPointType.HISTOGRAM);
    assert.equal(duration.descriptor.unit, 's');
    assert.equal(duration.descriptor.description, 'The duration of task execution');
    const byStatus = new Map(duration.dataPoints.map((point) => [point.attributes['http.response.status_code'], point.value]));
    assert.deepEqual([...byStatus.keys()].sort(), [200, 503]);
    const ok = byStatus.get(200)!;
    assert.deepEqual(ok.buckets.boundaries, [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]);
    // 0.004 s in the first bucket, 0.3 s in (0.25, 0.5], 12 s above 10.
    assert.deepEqual(ok.buckets.counts, [1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1]);
    assert.equal(ok.count, 3);
    assert.ok(Math.abs(ok.sum! - 12.304) < 1e-9);
    assert.equal(byStatus.get(503)!.count, 1);
    assert.deepEqual(byStatus.get(503)!.buckets.counts, [0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it("reads the breaker at each collection: Knative's queue depth (at the app plus waiting) and the wait counters", async () => {
    const { provider, reader } = testProvider();
    let readings: BreakerReadings = { inFlight: 1, queueDepth: 2, queuedRequests: 4, queuedMs: 1500 };
    const metrics = new RequestMetrics({ meter: provider.getMeter('test'), breaker: () => readings });
    const first = await collect(reader);
    const depth = first.get('kn.serving.queue.depth');
    assert.ok(depth !== undefined && depth.dataPointType === DataPointType.GAUGE);
    assert.equal(depth.descriptor.unit, '{request}');
    assert.equal(depth.descriptor.description, 'Number of current requests in the queue');
    assert.deepEqual(
      depth.dataPoints.map((p) => [p.value, p.attributes]),
      [[3, {}]],
    );
    const waited = first.get('queue.wait.requests');
    const waitTime = first.get('queue.wait.time');
    assert.ok(waited !== undefined && waited.dataPointType === DataPointType.SUM && waited.isMonotonic);
    assert.deepEqual([waited.dataPoints[0]!.value, waitTime!.dataPoints[0]!.value, waitTime!.descriptor.unit], [4, 1.5, 's']);
    readings = { inFlight: 1, queueDepth: 6, queuedRequests: 5, queuedMs: 2250 };
    const second = await collect(reader);
    assert.deepEqual(
      ['kn.serving.queue.depth', 'queue.wait.requests', 'queue.wait.time'].map((name) => second.get(name)!.dataPoints[0]!.value),
      [7, 5, 2.25],
    );
    readings = { inFlight: 9, queueDepth: 0, queuedRequests: 5, queuedMs: 2250 };
    metrics.shutdown();
    metrics.shutdown();
    assert.notEqual((await collect(reader)).get('kn.serving.queue.depth')?.dataPoints[0]?.value, 9);
  });

  it('registers no queue metrics without a breaker', async () => {
    const { provider, reader } = testProvider();
    new RequestMetrics({ meter: provider.getMeter('test') }).requestEnded(200, 0.1);
    assert.deepEqual([...(await collect(reader)).keys()], ['kn.serving.invocation.duration']);
  });
});
