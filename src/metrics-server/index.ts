/**
 * Entry point `queue-stats-exporter/metrics-server`: the `/metrics` server
 * (Prometheus text and Knative's protobuf Stat) and the Stat encoding. This
 * file only re-exports.
 */
export { startMetricsServer, TEXT_CONTENT_TYPE, type MetricsServer, type MetricsServerOptions } from './server.js';
export { decodeStat, encodeStat, PROTOBUF_MEDIA_TYPE, type Stat } from './stat-proto.js';
