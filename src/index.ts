/**
 * queue-stats-exporter: Knative's queue-proxy autoscaling stats, recorded
 * through the OpenTelemetry Meter API and served for Prometheus and Knative
 * autoscalers. This file only re-exports the public API.
 */
export { ConfigError, PortInUseError } from './core/errors.js';
export type { Identity } from './core/identity.js';
export { RequestStats, ReqEventType, type ReqEvent, type StatsReport } from './core/stats.js';
export { RequestTracker } from './tracking/tracker.js';
export { classifyRequest, RequestKind } from './core/request-kind.js';
export { ReportingLoop, type ReportingLoopOptions, type ReportSink } from './tracking/loop.js';
export { StatsReporter, type StatsReporterOptions } from './otel/reporter.js';
export { startMetricsServer, TEXT_CONTENT_TYPE, type MetricsServer, type MetricsServerOptions } from './metrics-server/server.js';
export { decodeStat, PROTOBUF_MEDIA_TYPE, type Stat } from './metrics-server/stat-proto.js';
export { startQueueStats, type QueueStats, type QueueStatsOptions } from './queue-stats/queue-stats.js';
export { startProxy, type ProxyOptions, type ProxyServer } from './proxy/proxy.js';
export { LABEL, METRIC, METRIC_HELP } from './core/metric-names.js';
export { VERSION } from './core/version.js';
