/**
 * queue-stats-exporter: Knative's queue-proxy autoscaling stats, recorded
 * through the OpenTelemetry Meter API and served for Prometheus and Knative
 * autoscalers. This file only re-exports the public API of the package root:
 * request tracking, the statistics, the reporter and the request metrics, which need
 * `@opentelemetry/api` alone. The parts with heavier dependencies have their
 * own entry points, so that importing the root loads none of them:
 * `queue-stats-exporter/queue-stats` (startQueueStats),
 * `queue-stats-exporter/metrics-server` (the `/metrics` server and the Stat
 * encoding) and `queue-stats-exporter/proxy` (the sidecar's reverse proxy).
 */
export { CertificateError, ConfigError, PortInUseError } from './core/errors.js';
export type { Identity } from './core/identity.js';
export { RequestStats, ReqEventType, type ReqEvent, type StatsReport } from './core/stats.js';
export { classifyHeaders, classifyRequest, RequestKind, type HeadersObject } from './core/request-kind.js';
export { parseReadinessProbe, type ReadinessProbeSpec, type HttpGetAction, type TcpSocketAction, type GrpcAction } from './core/readiness-probe.js';
export { LABEL, METRIC, METRIC_HELP, REQUEST_METRIC } from './core/metric-names.js';
export type { RequestObserver } from './core/request-observer.js';
export type { RequestSpan, RequestTracer, TracedRequest } from './core/request-tracer.js';
export type { BreakerReadings } from './core/breaker.js';
export { VERSION } from './core/version.js';
export { RequestTracker } from './tracking/tracker.js';
export { ReportingLoop, type ReportingLoopOptions, type ReportSink } from './tracking/loop.js';
export { StatsReporter, type StatsReporterOptions } from './otel/reporter.js';
export { RequestMetrics, type RequestMetricsOptions } from './otel/request-metrics.js';
