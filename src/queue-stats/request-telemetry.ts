import { DEFAULTS } from '../core/defaults.js';
import type { Identity } from '../core/identity.js';
import type { MetricsServer, MetricsServerOptions } from '../metrics-server/server.js';
import type { Env } from '../otel/otel-env.js';
import { RequestMetrics, type RequestMetricsOptions } from '../otel/request-metrics.js';
import { queueProxyAttributes } from '../otel/resource.js';
import { startTelemetry } from './telemetry.js';

/** Options of {@link startRequestTelemetry}. */
export interface RequestTelemetryOptions extends Omit<MetricsServerOptions, 'resource' | 'readers' | 'protobufStat'> {
  /** The names that make up the Resource (already checked). */
  identity: Identity;
  /** The Knative service the revision belongs to, if any (`SERVING_SERVICE`). */
  service?: string;
  /** Where `OTEL_*` settings are read from. */
  env: Env;
  /** OTLP metrics endpoint given on the command line or in code; wins over the environment. */
  otlpEndpoint?: string;
  /** Reads the concurrency limit's load (see {@link RequestMetricsOptions.breaker}); absent: no queue metrics. */
  breaker?: RequestMetricsOptions['breaker'];
}

/** The request metrics' MeterProvider, its endpoint and its recorder. */
export interface RequestTelemetry {
  /** Give it to the proxy as its `observer`. */
  readonly metrics: RequestMetrics;
  /** The Prometheus endpoint (default port 9091), unless `OTEL_METRICS_EXPORTER` leaves prometheus out. */
  readonly metricsServer: MetricsServer | undefined;
  /** Stops the queue depth gauge, closes the endpoint and shuts the provider down (a last OTLP export). Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts Knative's request metrics (`kn.serving.invocation.duration`,
 * `kn.serving.queue.depth`, and our queue wait counters) on a MeterProvider of their own, so that the
 * autoscaler's endpoint (:9090) keeps exactly its gauges: served as
 * Prometheus text on `port` (default 9091, Knative's user-metrics port) and
 * pushed over OTLP when configured, both chosen by `OTEL_METRICS_EXPORTER` as
 * for the gauges. The Resource carries the identity's `k8s.*`, `service.*`
 * and `kn.*` attributes plus Knative's additions for these metrics.
 *
 * @throws ConfigError naming the `OTEL_*` variable or option that is invalid
 * @throws PortInUseError when the port is taken
 */
export async function startRequestTelemetry(options: RequestTelemetryOptions): Promise<RequestTelemetry> {
  const telemetry = await startTelemetry({
    ...options,
    port: options.port ?? DEFAULTS.requestMetricsPort,
    protobufStat: false,
    identityAttributes: queueProxyAttributes(options.service),
  });
  const metrics = new RequestMetrics({ meter: telemetry.meter, breaker: options.breaker });
  let closing: Promise<void> | undefined;
  return {
    metrics,
    metricsServer: telemetry.metricsServer,
    close() {
      closing ??= (async () => {
        metrics.shutdown();
        await telemetry.close();
      })();
      return closing;
    },
  };
}
