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

/**
 * The request metrics of Knative's queue-proxy on its user-metrics port
 * (knative/serving `pkg/queue/request_metric.go`): OTel instrument names,
 * units, descriptions, the histogram's bucket bounds and the attribute.
 */
export const REQUEST_METRIC = {
  /** Histogram of each request's duration, in seconds. */
  duration: 'kn.serving.invocation.duration',
  /** Gauge of the requests in the breaker: at the app or waiting for a slot. */
  queueDepth: 'kn.serving.queue.depth',
  /** Counter of the requests that waited in the breaker's queue for a slot (ours; Knative has none). */
  queueWaitRequests: 'queue.wait.requests',
  /** Counter of the time those requests waited, in seconds (ours; Knative has none). */
  queueWaitTime: 'queue.wait.time',
  /** Unit of {@link REQUEST_METRIC.duration}. */
  durationUnit: 's',
  /** Unit of {@link REQUEST_METRIC.queueDepth}. */
  queueDepthUnit: '{request}',
  /** Description of {@link REQUEST_METRIC.duration}, as Knative words it. */
  durationHelp: 'The duration of task execution',
  /** Description of {@link REQUEST_METRIC.queueDepth}, as Knative words it. */
  queueDepthHelp: 'Number of current requests in the queue',
  /** Description of {@link REQUEST_METRIC.queueWaitRequests}. */
  queueWaitRequestsHelp: 'Number of requests that waited in the queue for a slot at the app',
  /** Description of {@link REQUEST_METRIC.queueWaitTime}. */
  queueWaitTimeHelp: 'Total time requests waited in the queue for a slot at the app',
  /** Upper bounds of the duration histogram's buckets, in seconds. */
  durationBuckets: [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10],
  /** The duration's attribute: the response's status code, an integer. */
  statusCodeAttribute: 'http.response.status_code',
} as const;
