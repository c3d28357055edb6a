import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DataPointType } from '@opentelemetry/sdk-metrics';
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

  it('reads the queue depth at each collection when given a source', async () => {
    const { provider, reader } = testProvider();
    let depth = 3;
    const metrics = new RequestMetrics({ meter: provider.getMeter('test'), queueDepth: () => depth });
    const first = (await collect(reader)).get('kn.serving.queue.depth');
    assert.ok(first !== undefined && first.dataPointType === DataPointType.GAUGE);
    assert.equal(first.descriptor.unit, '{request}');
    assert.equal(first.descriptor.description, 'Number of current requests in the queue');
    assert.deepEqual(
      first.dataPoints.map((p) => [p.value, p.attributes]),
      [[3, {}]],
    );
    depth = 7;
    assert.equal((await collect(reader)).get('kn.serving.queue.depth')!.dataPoints[0]!.value, 7);
    metrics.shutdown();
    metrics.shutdown();
    depth = 9;
    assert.notEqual((await collect(reader)).get('kn.serving.queue.depth')?.dataPoints[0]?.value, 9);
  });

  it('registers no queue depth gauge without a source', async () => {
    const { provider, reader } = testProvider();
    new RequestMetrics({ meter: provider.getMeter('test') }).requestEnded(200, 0.1);
    assert.deepEqual([...(await collect(reader)).keys()], ['kn.serving.invocation.duration']);
  });
});
