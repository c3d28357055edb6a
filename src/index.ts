/**
 * queue-stats-exporter: Knative's queue-proxy autoscaling stats, recorded
 * through the OpenTelemetry Meter API and served for Prometheus and Knative
 * autoscalers. This file only re-exports the public API.
 */
export { ConfigError, PortInUseError } from './errors.js';
export type { Identity } from './identity.js';
export { RequestStats, ReqEventType, type ReqEvent, type StatsReport } from './stats.js';
export { RequestTracker } from './tracker.js';
export { classifyRequest, RequestKind } from './probe.js';
export { ReportingLoop, type ReportingLoopOptions, type ReportSink } from './loop.js';
export { StatsReporter, type StatsReporterOptions } from './reporter.js';
export { startMetricsServer, TEXT_CONTENT_TYPE, type MetricsServer, type MetricsServerOptions } from './metrics-server.js';
export { decodeStat, PROTOBUF_MEDIA_TYPE, type Stat } from './stat-proto.js';
export { startQueueStats, type QueueStats, type QueueStatsOptions } from './queue-stats.js';
export { startProxy, type ProxyOptions, type ProxyServer } from './proxy.js';
export { LABEL, METRIC, METRIC_HELP } from './metric-names.js';
export { VERSION } from './version.js';
