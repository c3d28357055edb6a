import type { Attributes, Meter } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import type { Identity } from '../core/identity.js';
import { queueStatsMeter } from '../otel/meter.js';
import { startMetricsServer, type MetricsServer, type MetricsServerOptions } from '../metrics-server/server.js';
import { telemetryFromEnv, type Env } from '../otel/otel-env.js';
import { buildResource } from '../otel/resource.js';

/** Options of {@link startTelemetry}. */
export interface TelemetryOptions extends Omit<MetricsServerOptions, 'resource' | 'readers'> {
  /** The names that make up the Resource. */
  identity: Identity;
  /** Where `OTEL_*` settings are read from. */
  env: Env;
  /** OTLP metrics endpoint given on the command line or in code; wins over the environment. */
  otlpEndpoint?: string;
  /** Resource attributes over the identity's (below `OTEL_RESOURCE_ATTRIBUTES` and `OTEL_SERVICE_NAME`). Default none. */
  identityAttributes?: Attributes;
}

/** The MeterProvider wiring: where the gauges' meter comes from and where its data goes. */
export interface Telemetry {
  /** The meter to record on. */
  readonly meter: Meter;
  /** The Prometheus endpoint, unless `OTEL_METRICS_EXPORTER` leaves prometheus out. */
  readonly metricsServer: MetricsServer | undefined;
  /** Closes the endpoint and shuts the provider down, which flushes a last OTLP export. */
  close(): Promise<void>;
}

/**
 * Builds the MeterProvider with our Resource and the exporters that
 * `OTEL_METRICS_EXPORTER` selects: the Prometheus endpoint (default) and an
 * OTLP push reader when an endpoint is configured. The only module besides
 * the metrics server that builds a MeterProvider; each call builds one (the
 * sidecar has two: the autoscaler's gauges and the request metrics).
 *
 * @throws ConfigError naming the `OTEL_*` variable or option that is invalid
 * @throws PortInUseError when the metrics port is taken
 */
export async function startTelemetry(options: TelemetryOptions): Promise<Telemetry> {
  const settings = telemetryFromEnv(options.env, { otlpEndpoint: options.otlpEndpoint });
  const resource = buildResource(options.identity, options.env, options.identityAttributes);
  // Loaded only when configured: the two OTLP exporters add about 2.5 MB of RSS and 40 ms to start-up.
  const readers = settings.otlp !== undefined ? [await (await import('../otel/otlp.js')).createOtlpReader(settings.otlp)] : [];
  if (settings.exporters.has('prometheus')) {
    const metricsServer = await startMetricsServer({ ...options, resource, readers });
    return {
      meter: queueStatsMeter(metricsServer.meterProvider),
      metricsServer,
      close: () => metricsServer.close(),
    };
  }
  const meterProvider = new MeterProvider({ resource, readers });
  return {
    meter: queueStatsMeter(meterProvider),
    metricsServer: undefined,
    close: () => meterProvider.shutdown(),
  };
}
