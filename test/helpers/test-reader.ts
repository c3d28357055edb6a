import type { Attributes } from '@opentelemetry/api';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';

/** A reader that collects on demand, so tests read metrics back through the SDK. */
export class TestReader extends MetricReader {
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

/** One collected data point. */
export interface Point {
  value: number;
  attributes: Attributes;
}

/** Collects once and returns every gauge's data points by metric name, plus the HELP texts. */
export async function collectGauges(reader: TestReader): Promise<{ points: Map<string, Point[]>; help: Map<string, string> }> {
  const { resourceMetrics, errors } = await reader.collect();
  if (errors.length > 0) throw new AggregateError(errors, 'collection errors');
  const points = new Map<string, Point[]>();
  const help = new Map<string, string>();
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      help.set(metric.descriptor.name, metric.descriptor.description);
      points.set(
        metric.descriptor.name,
        metric.dataPoints.map((p) => ({ value: p.value as number, attributes: p.attributes })),
      );
    }
  }
  return { points, help };
}

/** A MeterProvider with a {@link TestReader}. */
export function testProvider(): { provider: MeterProvider; reader: TestReader } {
  const reader = new TestReader();
  return { provider: new MeterProvider({ readers: [reader] }), reader };
}
