/**
 * A preload standing in for an OpenTelemetry SDK's own register (`@opentelemetry/sdk-node`): it sets a global
 * MeterProvider whose reader exports every 100 ms to stdout, one line `gauges {"<name>": value, ...}` per export.
 * Import it before the register mode with `QUEUE_STATS_METER_PROVIDER=global`.
 */
import { metrics } from '@opentelemetry/api';
import { AggregationTemporality, MeterProvider, PeriodicExportingMetricReader, type PushMetricExporter } from '@opentelemetry/sdk-metrics';

const exporter: PushMetricExporter = {
  export(resourceMetrics, done) {
    const gauges: Record<string, number> = {};
    for (const scope of resourceMetrics.scopeMetrics) {
      for (const metric of scope.metrics) {
        const point = metric.dataPoints[0];
        if (point !== undefined && typeof point.value === 'number') gauges[metric.descriptor.name] = point.value;
      }
    }
    console.log(`gauges ${JSON.stringify(gauges)}`);
    // ExportResultCode.SUCCESS, from @opentelemetry/core, which is not a dependency of ours.
    done({ code: 0 });
  },
  forceFlush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
  selectAggregationTemporality: () => AggregationTemporality.CUMULATIVE,
};
metrics.setGlobalMeterProvider(new MeterProvider({ readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 100, exportTimeoutMillis: 100 })] }));
