/**
 * The names Knative's autoscaler, Prometheus rules and dashboards know the
 * gauges by (knative/serving pkg/queue/prometheus_stats_reporter.go), and the
 * attribute names of their series. Changing any of them breaks consumers.
 */

/** Gauge names, in the alphabetical order client_golang exposes them. */
export const METRIC = {
  processUptime: 'process_uptime',
  averageConcurrentRequests: 'queue_average_concurrent_requests',
  averageProxiedConcurrentRequests: 'queue_average_proxied_concurrent_requests',
  proxiedOperationsPerSecond: 'queue_proxied_operations_per_second',
  requestsPerSecond: 'queue_requests_per_second',
} as const;

/** The HELP text of each gauge, keyed by gauge name. */
export const METRIC_HELP: Readonly<Record<string, string>> = {
  [METRIC.processUptime]: 'The number of seconds that the process has been up',
  [METRIC.averageConcurrentRequests]: 'Number of requests currently being handled by this pod',
  [METRIC.averageProxiedConcurrentRequests]: 'Number of proxied requests currently being handled by this pod',
  [METRIC.proxiedOperationsPerSecond]: 'Number of proxied requests per second',
  [METRIC.requestsPerSecond]: 'Number of requests per second',
};

/** Attribute (label) names of every series. */
export const LABEL = {
  namespace: 'destination_namespace',
  configuration: 'destination_configuration',
  revision: 'destination_revision',
  pod: 'destination_pod',
} as const;
