/**
 * The defaults of every option and the environment variables Knative sets
 * for its queue-proxy, in one place for the library and the CLI. Values are
 * in the unit their names say.
 */

/** Option defaults. */
export const DEFAULTS = {
  /** Port the proxy serves on: Knative's queue-proxy serving port. */
  proxyPort: 8012,
  /** Port of the metrics server: Knative's autoscaling metrics port. */
  metricsPort: 9090,
  /** Port of the request metrics' Prometheus endpoint: Knative's user-metrics port. */
  requestMetricsPort: 9091,
  /** Path that serves the metrics. */
  metricsEndpoint: '/metrics',
  /** Length of one stats window, in milliseconds: Knative's reporting period. */
  reportingPeriodMs: 1000,
  /** Revision timeout, in milliseconds: Knative's default `REVISION_TIMEOUT_SECONDS` (300). */
  timeoutMs: 300_000,
  /** Response-start timeout, in milliseconds; 0: off (Knative's queue-proxy without `REVISION_RESPONSE_START_TIMEOUT_SECONDS`). */
  responseStartTimeoutMs: 0,
  /** Idle timeout, in milliseconds; 0: off (Knative's queue-proxy without `REVISION_IDLE_TIMEOUT_SECONDS`). */
  idleTimeoutMs: 0,
  /** Longest silence of a request body, in milliseconds; 0: off (Knative's queue-proxy has no such bound). */
  requestBodyIdleTimeoutMs: 0,
  /** Most requests at the app at once; 0: no limit (Knative's `containerConcurrency` default). */
  containerConcurrency: 0,
  /** Breaker queue depth per unit of container concurrency (Knative's queue-proxy: 10). */
  queueDepthPerSlot: 10,
  /**
   * Longest drain, in milliseconds: the proxy's drain ends after this long even
   * while requests keep the quiet period from running out, and its close then
   * waits this long again for requests in flight and upgraded connections.
   */
  drainTimeoutMs: 30_000,
  /** How long upgraded connections get at the close that ends a drain, in milliseconds: Knative's `hijackDrainDuration`. */
  upgradeDrainTimeoutMs: 60_000,
  /** How long a drain waits without a new request before the servers close, in milliseconds: Knative's `drainSleepDuration`. */
  drainQuietPeriodMs: 30_000,
  /** Port of the admin server (`/wait-for-drain`): Knative's queue-proxy admin port. */
  adminPort: 8022,
  /** With a cap on the upstream connections: the longest a request waits for one before a 503, in milliseconds. */
  connectionWaitMs: 1000,
  /**
   * Most streams one HTTP/2 connection may have open at once (its
   * `SETTINGS_MAX_CONCURRENT_STREAMS`): Go's HTTP/2 server default, which
   * Knative's queue-proxy advertises (nginx: 128).
   */
  maxConcurrentStreams: 250,
  /** Most HTTP/2 streams open at once on all connections together. */
  maxStreams: 1024,
  /** Time a client has to send a request head to the proxy, in milliseconds. */
  headersTimeoutMs: 10_000,
  /** Time a client has to send a whole scrape request, in milliseconds. */
  requestTimeoutMs: 10_000,
  /** How requests go to the app: `auto`, HTTP/2 requests over h2c and HTTP/1.1 ones over HTTP/1.1, as Knative's queue-proxy does. */
  upstreamProtocol: 'auto',
  /** Port of the proxy's TLS side: Knative's queue-proxy HTTPS port (`networking.BackendHTTPSPort`). */
  tlsPort: 8112,
  /** The serving certificate Knative mounts for system-internal TLS (`queue.CertDirectory` + `certificates.CertName`). */
  tlsCertFile: '/var/lib/knative/certs/tls.crt',
  /** Its private key (`queue.CertDirectory` + `certificates.PrivateKeyName`). */
  tlsKeyFile: '/var/lib/knative/certs/tls.key',
  /** Oldest TLS version the TLS side accepts: knative/pkg `network/tls`'s default `MinVersion` (TLS 1.3). */
  tlsMinVersion: '1.3',
  /**
   * How long the certificate's directories must stay quiet after a change before
   * the files are read again, in milliseconds: a Kubernetes secret volume swaps
   * its `..data` link in a few file operations, which are read once.
   */
  certificateReloadDebounceMs: 100,
  /**
   * Period of a re-read of the certificate files whatever the file system
   * reports, in milliseconds: Knative's queue-proxy reloads on this period
   * alone (`certificate.NewCertWatcher`, one minute); here it catches a change a
   * directory watch missed.
   */
  certificatePollMs: 60_000,
  /** Whether each request is logged: Knative's `logging.enable-request-log` default. */
  requestLog: false,
  /** Whether probe requests are logged too: Knative's `logging.enable-probe-request-log` default. */
  probeRequestLog: false,
  /** The request log's Go template: Knative's default `logging.request-log-template` (config/core/configmaps/observability.yaml). */
  requestLogTemplate:
    '{"httpRequest": {"requestMethod": "{{.Request.Method}}", "requestUrl": "{{js .Request.RequestURI}}", "requestSize": "{{.Request.ContentLength}}", "status": {{.Response.Code}}, "responseSize": "{{.Response.Size}}", "userAgent": "{{js .Request.UserAgent}}", "remoteIp": "{{js .Request.RemoteAddr}}", "serverIp": "{{.Revision.PodIP}}", "referer": "{{js .Request.Referer}}", "latency": "{{.Response.Latency}}s", "protocol": "{{.Request.Proto}}"}, "traceId": "{{.TraceID}}"}',
} as const;

/**
 * The TLS 1.0-1.2 cipher suites of Go's `tls.CipherSuites()` (as go1.19.8
 * lists them), which knative/pkg's `tls.ParseCipherSuites` accepts for
 * `QUEUE_PROXY_TLS_CIPHER_SUITES`: each by its Go name (`tls.CipherSuiteName`)
 * with the OpenSSL name that Node's `ciphers` option takes.
 */
export const TLS12_CIPHER_SUITES = {
  TLS_RSA_WITH_AES_128_CBC_SHA: 'AES128-SHA',
  TLS_RSA_WITH_AES_256_CBC_SHA: 'AES256-SHA',
  TLS_RSA_WITH_AES_128_GCM_SHA256: 'AES128-GCM-SHA256',
  TLS_RSA_WITH_AES_256_GCM_SHA384: 'AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: 'ECDHE-ECDSA-AES128-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: 'ECDHE-ECDSA-AES256-SHA',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 'ECDHE-RSA-AES128-SHA',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 'ECDHE-RSA-AES256-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
} as const;

/**
 * The TLS 1.3 cipher suites of Go's `tls.CipherSuites()`. Their names are
 * accepted in a cipher-suite list, as knative/pkg accepts them, and change
 * nothing: Go does not let TLS 1.3 suites be configured and enables all of
 * them, and the TLS side keeps Node's default TLS 1.3 suites whatever the list.
 */
export const TLS13_CIPHER_SUITES = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'] as const;

/**
 * The key-exchange groups knative/pkg's `tls.ParseCurvePreferences` accepts for
 * `QUEUE_PROXY_TLS_CURVE_PREFERENCES`, by Go's constant names and by the
 * standard names, each with the OpenSSL group name that Node's `ecdhCurve`
 * option takes.
 */
export const TLS_CURVES = {
  CurveP256: 'P-256',
  CurveP384: 'P-384',
  CurveP521: 'P-521',
  X25519: 'X25519',
  X25519MLKEM768: 'X25519MLKEM768',
  'P-256': 'P-256',
  'P-384': 'P-384',
  'P-521': 'P-521',
} as const;

/**
 * The longest delay Node's timers take, in milliseconds: 2^31 - 1, about 24.8 days. Node fires a
 * `setTimeout` or `setInterval` given more after 1 ms instead (with a `TimeoutOverflowWarning`), so
 * every option that becomes a timer is checked against it.
 */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * Longest time between a Node HTTP server's checks for requests past their
 * header or request timeout, in milliseconds (`connectionsCheckingInterval`;
 * Node's default, 30000, would let a 10 s timeout run to 40 s). The proxy and
 * the metrics server use the smaller of this and their timeout.
 */
export const TIMEOUT_CHECK_INTERVAL_MS = 1000;

/**
 * Knative's aggressive readiness probing, used when the app's probe has
 * `periodSeconds: 0` (knative/serving `pkg/queue/readiness/probe.go`):
 * one attempt every `retryIntervalMs` milliseconds, each given
 * `attemptTimeoutMs`, until the success threshold is met or
 * `pollTimeoutMs` has passed.
 */
export const AGGRESSIVE_PROBE = {
  retryIntervalMs: 50,
  attemptTimeoutMs: 100,
  pollTimeoutMs: 10_000,
} as const;

/**
 * Names of the environment variables Knative's revision reconciler sets on
 * the queue-proxy container (knative/serving `pkg/reconciler/revision/resources/queue.go`).
 */
export const KNATIVE_ENV = {
  /** Kubernetes namespace, `destination_namespace`. */
  namespace: 'SERVING_NAMESPACE',
  /** Knative configuration, `destination_configuration`. */
  config: 'SERVING_CONFIGURATION',
  /** Knative service, when the revision belongs to one (the request metrics' `kn.service.name`). */
  service: 'SERVING_SERVICE',
  /** Knative revision, `destination_revision`. */
  revision: 'SERVING_REVISION',
  /** Pod name, `destination_pod`. */
  pod: 'SERVING_POD',
  /** The app's port on 127.0.0.1. */
  userPort: 'USER_PORT',
  /** The port the proxy serves on. */
  servingPort: 'QUEUE_SERVING_PORT',
  /** Revision timeout, in seconds. */
  revisionTimeoutSeconds: 'REVISION_TIMEOUT_SECONDS',
  /** Response-start timeout, in seconds; 0: off. */
  responseStartTimeoutSeconds: 'REVISION_RESPONSE_START_TIMEOUT_SECONDS',
  /** Idle timeout, in seconds; 0: off. */
  idleTimeoutSeconds: 'REVISION_IDLE_TIMEOUT_SECONDS',
  /** Most requests at the app at once; 0: no limit. */
  containerConcurrency: 'CONTAINER_CONCURRENCY',
  /** The app container's readiness probe as Kubernetes' JSON form of a Probe. */
  readinessProbe: 'SERVING_READINESS_PROBE',
  /** The port the proxy's TLS side serves on (Knative's 8112); it listens only when the certificate is mounted. */
  tlsServingPort: 'QUEUE_SERVING_TLS_PORT',
  /** Oldest TLS version of the TLS side, `1.2` or `1.3` (knative/pkg `network/tls` with prefix `QUEUE_PROXY_`). */
  tlsMinVersion: 'QUEUE_PROXY_TLS_MIN_VERSION',
  /** Newest TLS version of the TLS side, `1.2` or `1.3`; unset: the newest Node offers. */
  tlsMaxVersion: 'QUEUE_PROXY_TLS_MAX_VERSION',
  /** The TLS side's TLS 1.2 cipher suites, comma-separated Go names ({@link TLS12_CIPHER_SUITES}); unset or empty: Node's. */
  tlsCipherSuites: 'QUEUE_PROXY_TLS_CIPHER_SUITES',
  /** The TLS side's key-exchange groups, comma-separated names ({@link TLS_CURVES}); unset or empty: Node's. */
  tlsCurvePreferences: 'QUEUE_PROXY_TLS_CURVE_PREFERENCES',
  /** The pod's IP, the request log's `.Revision.PodIP`. */
  podIP: 'SERVING_POD_IP',
  /** Whether each request is logged (Go's `strconv.ParseBool` spellings). */
  enableRequestLog: 'SERVING_ENABLE_REQUEST_LOG',
  /** The request log's Go template. */
  requestLogTemplate: 'SERVING_REQUEST_LOG_TEMPLATE',
  /** Whether probe requests are logged too. */
  enableProbeRequestLog: 'SERVING_ENABLE_PROBE_REQUEST_LOG',
  /** Knative's config-observability as JSON (current Knative): the request log's settings among others. */
  observabilityConfig: 'OBSERVABILITY_CONFIG',
  /** zap's JSON logger config (config-logging's `zap-logger-config`). */
  loggingConfig: 'SERVING_LOGGING_CONFIG',
  /** The queue-proxy's log level (config-logging's `loglevel.queueproxy`); empty: the config's. */
  loggingLevel: 'SERVING_LOGGING_LEVEL',
} as const;

/** The sidecar's own environment variables, for settings Knative does not pass to its queue-proxy. */
export const SIDECAR_ENV = {
  /** The drain's quiet period, a duration (a bare number is seconds). */
  drainQuietPeriod: 'QUEUE_STATS_DRAIN_QUIET_PERIOD',
  /** The drain timeout, a duration (a bare number is seconds). */
  drainTimeout: 'QUEUE_STATS_DRAIN_TIMEOUT',
  /** The upgraded connections' bound at the end of a drain, a duration (a bare number is seconds). */
  upgradeDrainTimeout: 'QUEUE_STATS_UPGRADE_DRAIN_TIMEOUT',
  /** The metrics port, a port number (the `--import` register mode's; the CLI's `--metrics-port`). */
  metricsPort: 'QUEUE_STATS_METRICS_PORT',
  /** Where the `--import` register mode records the gauges: `own` (its metrics server, the default) or `global` (the app's global MeterProvider). */
  meterProvider: 'QUEUE_STATS_METER_PROVIDER',
  /**
   * The upstream protocol: `auto`, `http1` or `h2c`. Knative has no such
   * variable (its `ENABLE_HTTP2_AUTO_DETECTION` only lets the readiness
   * probe try h2c): its queue-proxy always picks by the request's protocol.
   */
  upstreamProtocol: 'QUEUE_STATS_UPSTREAM_PROTOCOL',
  /** The longest silence of a request body, a duration (a bare number is seconds); 0: off. */
  requestBodyIdleTimeout: 'QUEUE_STATS_REQUEST_BODY_IDLE_TIMEOUT',
  /** Most streams one HTTP/2 client connection may have open at once, a whole number. */
  maxConcurrentStreams: 'QUEUE_STATS_MAX_CONCURRENT_STREAMS',
  /** Most HTTP/2 streams open at once on all client connections together, a whole number. */
  maxStreams: 'QUEUE_STATS_MAX_STREAMS',
  /** The TLS side's certificate file, PEM (Knative has no variable: its path is fixed). */
  tlsCertFile: 'QUEUE_STATS_TLS_CERT_FILE',
  /** The TLS side's private key file, PEM. */
  tlsKeyFile: 'QUEUE_STATS_TLS_KEY_FILE',
} as const;

/** The names the embedded demo app, and the register mode without `SERVING_*` variables, run under; the pod is the hostname. */
export const DEMO_IDENTITY = { namespace: 'default', config: 'demo', revision: 'demo-00001' } as const;

/**
 * The variables that turn tracing on and shape it, besides the OTLP exporter
 * ones it shares with the metrics (`OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT`,
 * `_PROTOCOL`, `_HEADERS`, `_TIMEOUT`). Tracing is off unless one of them (or
 * an OTLP endpoint) asks for it.
 */
export const TRACE_ENV = {
  /** `otlp` or `none` (the spec's variable). */
  exporter: 'OTEL_TRACES_EXPORTER',
  /** The sampler, by the spec's names; default `parentbased_always_on`. */
  sampler: 'OTEL_TRACES_SAMPLER',
  /** The ratio of a `traceidratio` sampler, from 0 to 1; default 1. */
  samplerArg: 'OTEL_TRACES_SAMPLER_ARG',
  /**
   * Knative's observability settings as JSON, which its revision reconciler
   * passes to the queue-proxy (knative/serving `pkg/reconciler/revision/resources/queue.go`):
   * its `tracing` object (`protocol`, `endpoint`, `samplingRate`) is read here.
   */
  knativeObservability: 'OBSERVABILITY_CONFIG',
} as const;
