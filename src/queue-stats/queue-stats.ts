import type { Meter } from '@opentelemetry/api';
import { monotonicNow } from '../core/clock.js';
import { requirePeriodMs } from '../core/checks.js';
import { DEFAULTS, KNATIVE_ENV } from '../core/defaults.js';
import { checkIdentity } from '../core/identity.js';
import { ReportingLoop } from '../tracking/loop.js';
import type { MetricsServer, MetricsServerOptions } from '../metrics-server/server.js';
import { StatsReporter } from '../otel/reporter.js';
import { RequestStats } from '../core/stats.js';
import { startTelemetry } from './telemetry.js';
import { RequestTracker } from '../tracking/tracker.js';

/** Options of {@link startQueueStats}; names default to Knative's `SERVING_*` environment variables. */
export interface QueueStatsOptions extends Omit<MetricsServerOptions, 'resource' | 'readers'> {
  /** Namespace; default `SERVING_NAMESPACE`. */
  namespace?: string;
  /** Configuration name; default `SERVING_CONFIGURATION`. */
  config?: string;
  /** Revision name; default `SERVING_REVISION`. */
  revision?: string;
  /** Pod name; default `SERVING_POD`. */
  pod?: string;
  /** Reporting period in milliseconds: > 0 and at most 2147483647 (the longest delay Node's timers take). Default 1000. */
  reportingPeriodMs?: number;
  /**
   * Record on this meter (from a MeterProvider you already run) instead of
   * starting our own; then no metrics server or OTLP reader is started.
   */
  meter?: Meter;
  /** OTLP metrics endpoint URL, as `--otlp-endpoint`; also taken from `OTEL_EXPORTER_OTLP_*`. */
  otlpEndpoint?: string;
  /** Environment to read defaults from. Default `process.env`. */
  env?: Record<string, string | undefined>;
}

/** Everything {@link startQueueStats} started. */
export interface QueueStats {
  /** Track requests with it: `tracker.wrap(listener)` or `app.use(tracker.middleware)`. */
  readonly tracker: RequestTracker;
  /** The statistics the tracker feeds. */
  readonly stats: RequestStats;
  /** The gauges' reporter. */
  readonly reporter: StatsReporter;
  /** The metrics server, unless `meter` was given or `OTEL_METRICS_EXPORTER` excludes prometheus. */
  readonly metricsServer: MetricsServer | undefined;
  /** Stops the loop after a last report, stops the reporter, then closes the metrics server and flushes OTLP. Idempotent. */
  close(): Promise<void>;
}

/**
 * One call for a Node service to publish Knative's autoscaling gauges:
 * request tracking, the 1 s reporting loop, the reporter, and the metrics
 * server on :9090 (plus OTLP push when configured).
 *
 * @example
 * const qs = await startQueueStats({ namespace: 'default', config: 'hello', revision: 'hello-1', pod: 'hello-1-abc' });
 * http.createServer(qs.tracker.wrap(app)).listen(8080);
 *
 * @throws ConfigError naming the first missing or invalid option
 * @throws PortInUseError when the metrics port is taken
 */
export async function startQueueStats(options: QueueStatsOptions = {}): Promise<QueueStats> {
  const env = options.env ?? process.env;
  // Checked before anything listens.
  const identity = checkIdentity({
    namespace: options.namespace ?? env[KNATIVE_ENV.namespace],
    config: options.config ?? env[KNATIVE_ENV.config],
    revision: options.revision ?? env[KNATIVE_ENV.revision],
    pod: options.pod ?? env[KNATIVE_ENV.pod],
  });
  const periodMs = requirePeriodMs('reportingPeriodMs', options.reportingPeriodMs ?? DEFAULTS.reportingPeriodMs);
  const telemetry = options.meter === undefined ? await startTelemetry({ ...options, identity, env }) : undefined;
  const reporter = new StatsReporter({ ...identity, reportingPeriodMs: periodMs, meter: options.meter ?? telemetry!.meter });
  const stats = new RequestStats(monotonicNow());
  const tracker = new RequestTracker(stats);
  const loop = new ReportingLoop({ stats, sink: reporter, periodMs });
  let closing: Promise<void> | undefined;
  return {
    tracker,
    stats,
    reporter,
    metricsServer: telemetry?.metricsServer,
    close() {
      closing ??= (async () => {
        loop.stop();
        // The provider's shutdown flushes OTLP, which must still observe the last report.
        await telemetry?.close();
        reporter.shutdown();
      })();
      return closing;
    },
  };
}
