/**
 * Entry point `queue-stats-exporter/queue-stats`: startQueueStats, the one
 * call that starts tracking, the reporting loop, the reporter and the
 * MeterProvider with its readers; startRequestTelemetry, Knative's request
 * metrics on a MeterProvider of their own. This file only re-exports.
 */
export { startQueueStats, type QueueStats, type QueueStatsOptions } from './queue-stats.js';
export { startRequestTelemetry, type RequestTelemetry, type RequestTelemetryOptions } from './request-telemetry.js';
