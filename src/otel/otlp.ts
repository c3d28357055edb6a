/**
 * The push path: a metric reader that sends OTLP (over HTTP or gRPC) to a
 * collector every interval. Add it to the same MeterProvider as the
 * Prometheus reader (e.g.
 * `startMetricsServer({ readers: [await createOtlpReader(settings)] })`) and
 * the gauges, with their `destination_*` attributes, go out both ways.
 */
import { AggregationTemporalityPreference, OTLPMetricExporter as JsonExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtobufExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { PeriodicExportingMetricReader, type PushMetricExporter } from '@opentelemetry/sdk-metrics';
import type { OtlpSettings } from './otel-env.js';

/**
 * Creates a reader that exports every `settings.intervalMs` milliseconds with
 * the official OTLP exporter for `settings.protocol` (`http/protobuf`:
 * exporter-metrics-otlp-proto, `http/json`: exporter-metrics-otlp-http,
 * `grpc`: exporter-metrics-otlp-grpc, loaded only then, with the headers as
 * gRPC metadata), with cumulative temporality. URL, headers and timeout are
 * passed explicitly, so the exporter's own reading of the endpoint, header,
 * timeout and temporality variables does not apply; compression and TLS
 * certificate variables it still reads itself.
 *
 * Export failures (collector down, non-2xx answers, a gRPC error status) are retried by the
 * exporter within `exporterTimeoutMs`, then reported through the OTel
 * `diag` logger and global error handler; they never throw into the
 * application. The timer is unref'd, so it does not keep the process alive.
 * Shutting the MeterProvider down runs one last export, waiting up to about
 * `exporterTimeoutMs` when the collector does not answer.
 *
 * @throws Error from the SDK when `intervalMs` or a timeout is not > 0, or
 *   `readerTimeoutMs` exceeds `intervalMs` (`telemetryFromEnv` never
 *   returns such settings)
 */
export async function createOtlpReader(settings: OtlpSettings): Promise<PeriodicExportingMetricReader> {
  return new PeriodicExportingMetricReader({
    exporter: await metricExporter(settings),
    exportIntervalMillis: settings.intervalMs,
    exportTimeoutMillis: settings.readerTimeoutMs,
  });
}

async function metricExporter(settings: OtlpSettings): Promise<PushMetricExporter> {
  const options = { url: settings.endpoint, timeoutMillis: settings.exporterTimeoutMs, temporalityPreference: AggregationTemporalityPreference.CUMULATIVE };
  switch (settings.protocol) {
    case 'grpc': {
      const [{ OTLPMetricExporter }, { grpcMetadata }] = await Promise.all([import('@opentelemetry/exporter-metrics-otlp-grpc'), import('./grpc-metadata.js')]);
      return new OTLPMetricExporter({ ...options, metadata: grpcMetadata(settings.headers) });
    }
    case 'http/json':
      return new JsonExporter({ ...options, headers: { ...settings.headers } });
    case 'http/protobuf':
      return new ProtobufExporter({ ...options, headers: { ...settings.headers } });
  }
}
