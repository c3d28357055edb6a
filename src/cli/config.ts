import { parseArgs } from 'node:util';
import {
  parseCipherSuites,
  parseCurvePreferences,
  parseListenPortText,
  parsePortText,
  requireHttpUrl,
  requireNonEmpty,
  requireNonNegativeInteger,
  requirePeriodMs,
  requirePositiveInteger,
  requireTimeoutMs,
  requireTimeoutMsOrOff,
  requireTls12Suite,
  requireTlsVersion,
  requireUpstreamProtocol,
  requireWaitMs,
  type TlsCipherSuite,
  type TlsCurve,
  type TlsVersion,
  type UpstreamProtocol,
} from '../core/checks.js';
import { DEFAULTS, DEMO_IDENTITY, KNATIVE_ENV, SIDECAR_ENV } from '../core/defaults.js';
import { ConfigError } from '../core/errors.js';
import type { Identity } from '../core/identity.js';
import { parseReadinessProbe, type ReadinessProbeSpec } from '../core/readiness-probe.js';
import { tracesFromEnv, type TraceSettings } from '../otel/trace-env.js';
import { compileRequestLogTemplate, UnsupportedTemplateError } from '../log/go-template.js';
import { DEFAULT_LOGGING, parseLoggingSettings, parseZapLevel, type LoggingSettings } from '../log/logging-config.js';
import { parseObservabilityConfig } from '../log/observability-config.js';
import { openSslGroups } from '../proxy/tls/openssl-groups.js';

/** The sidecar's configuration, parsed from flags and environment. */
export interface CliConfig {
  /** `--help` was given: print {@link usage} and exit. */
  help: boolean;
  /** `--version` was given: print the version and exit. */
  version: boolean;
  /** Base URL of the app; undefined runs the embedded demo app. */
  upstream: string | undefined;
  /** The proxy's port. Default 8012. */
  port: number;
  /** The TLS port and its certificate; whether it listens is decided at start-up from the files (see `tlsFromMount`). */
  tls: CliTlsConfig;
  /** The metrics port. Default 9090. */
  metricsPort: number;
  /** The request metrics' port. Default 9091. */
  requestMetricsPort: number;
  /** Interface every server binds; undefined binds all. */
  host: string | undefined;
  /** Knative's four names; filled with demo names when running the demo app. */
  identity: Identity;
  /** The Knative service of the revision, if any: the request metrics' `kn.service.name`. */
  service: string | undefined;
  /** Reporting period in milliseconds. Default 1000. */
  reportingPeriodMs: number;
  /** Revision timeout in milliseconds: the longest a request may take from arrival (queue included) to the end of its response. Default 300000. */
  timeoutMs: number;
  /** Milliseconds from arrival to the app's response head before a 504; 0 (the default): off. */
  responseStartTimeoutMs: number;
  /** Longest silence of the app's response, in milliseconds; 0 (the default): off. */
  idleTimeoutMs: number;
  /** Most requests at the app at once; 0 (the default): no limit. */
  containerConcurrency: number;
  /** Most requests waiting for a slot; undefined: 10 x `containerConcurrency`. */
  maxQueueDepth: number | undefined;
  /** Bound of each drain phase after SIGTERM (the quiet period, then in-flight requests), in milliseconds. Default 30000. */
  drainTimeoutMs: number;
  /** How long upgraded connections get at the close that ends a drain, in milliseconds. Default 60000. */
  upgradeDrainTimeoutMs: number;
  /** Milliseconds without a new request that end the drain. Default 30000. */
  drainQuietPeriodMs: number;
  /** Port of the admin server (`/wait-for-drain`). Default 8022. */
  adminPort: number;
  /** The app's readiness probe; undefined: readiness is a TCP connect to the app. */
  readinessProbe: ReadinessProbeSpec | undefined;
  /** OTLP metrics endpoint given by flag. */
  otlpEndpoint: string | undefined;
  /** How requests go to the app: `auto` (HTTP/2 ones over h2c, HTTP/1.1 ones over HTTP/1.1) or `http1`. Default `auto`. */
  upstreamProtocol: UpstreamProtocol;
  /** Longest silence of a request body, in milliseconds; 0 (the default): off. */
  requestBodyIdleTimeoutMs: number;
  /** Most streams one HTTP/2 client connection may have open at once. Default 250. */
  maxConcurrentStreams: number;
  /** Most HTTP/2 streams open at once on all client connections together. Default 1024. */
  maxStreams: number;
  /** Tracing, from `OTEL_TRACES_*`, the OTLP traces variables and Knative's `OBSERVABILITY_CONFIG`; undefined: off (the default). */
  traces: TraceSettings | undefined;
  /** The pod's IP, the request log's `.Revision.PodIP`; `''` when not given. */
  podIP: string;
  /** The request log's Go template when requests are logged; undefined: no request log. */
  requestLogTemplate: string | undefined;
  /** Whether probe requests are logged too. Default false. */
  logProbeRequests: boolean;
  /** The sidecar's own log: its level and JSON keys. Default: Knative's (zapdriver's) at level info. */
  logging: LoggingSettings;
}

/** The TLS port's settings as flags and environment give them. */
export interface CliTlsConfig {
  /** The TLS port. Default 8112. */
  port: number;
  /** The certificate file. Default Knative's mount, `/var/lib/knative/certs/tls.crt`. */
  certFile: string;
  /** The key file. Default `/var/lib/knative/certs/tls.key`. */
  keyFile: string;
  /** Whether a flag or variable named either file (then the port must serve); with neither, it serves only if Knative mounted the files. */
  filesGiven: boolean;
  /** The flag or variable that named each file, for messages (the flag when the default applies). */
  certField: string;
  keyField: string;
  /** Oldest TLS version accepted. Default 1.3. */
  minVersion: TlsVersion;
  /** Newest TLS version accepted; undefined: the newest Node offers. */
  maxVersion: TlsVersion | undefined;
  /** The TLS 1.2 cipher suites by Go's names; undefined: Node's. */
  cipherSuites: TlsCipherSuite[] | undefined;
  /** The key-exchange groups, in order; undefined: Node's. */
  curvePreferences: TlsCurve[] | undefined;
}

type Parse = (text: string, name: string) => number | string | boolean | readonly string[] | ReadinessProbeSpec | LoggingSettings | undefined;

interface OptionSpec {
  flag: string;
  env?: string;
  value: string;
  defaultText: string;
  help: string;
  parse: Parse;
}

const text: Parse = (value, name) => requireNonEmpty(name, value);

const port = (value: string, name: string): number => parseListenPortText(name, value);

/** A boolean as Knative's Go reads its environment (`strconv.ParseBool`). */
const goBool: Parse = (value, name) => {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  throw new ConfigError(name, `${name} must be true or false, got "${value}"`);
};

/** A request log template, refused here when it uses a construct the sidecar cannot render as Go would. */
const requestLogTemplate: Parse = (value, name) => {
  try {
    compileRequestLogTemplate(value);
  } catch (error) {
    if (error instanceof UnsupportedTemplateError) throw new ConfigError(name, `${name}: ${error.message}`);
    throw error;
  }
  return value;
};

/** The upstream as the proxy takes it: an origin, checked by the proxy's own check. */
const origin: Parse = (value, name) => requireHttpUrl(name, value, 'origin').origin;

/**
 * Milliseconds in a decimal number of `unit`s. The point is moved in the text
 * rather than multiplied, so that `1.001` seconds is exactly 1001, not 1000.9999999999999.
 */
function milliseconds(digits: string, unit: 'ms' | 's'): number {
  if (unit === 'ms') return Number(digits);
  const [whole, fraction = ''] = digits.split('.') as [string, string?];
  const padded = fraction.padEnd(3, '0');
  return Number(`${whole}${padded.slice(0, 3)}.${padded.slice(3) || '0'}`);
}

/**
 * A duration: a number with unit `ms` or `s`; `unit` applies to a bare
 * number. Returns milliseconds, which must also pass `check`, the library's
 * check of the option the duration is given to. With `zeroIsOff`, a zero
 * (`0`, `0s`, `0.0ms`...) is accepted and returned as 0: the option is off.
 */
function duration(unit: 'ms' | 's', check: (field: string, ms: number, given: string) => number, zeroIsOff = false): Parse {
  return (value, name) => {
    const match = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(value);
    const ms = match === null ? NaN : milliseconds(match[1]!, match[2] === 'ms' || match[2] === 's' ? match[2] : unit);
    if (zeroIsOff && ms === 0) return 0;
    if (!(ms > 0 && Number.isFinite(ms))) {
      throw new ConfigError(name, `${name} must be ${zeroIsOff ? '0 (off) or ' : ''}a positive duration such as 1s or 500ms, got "${value}"`);
    }
    return check(name, ms, `"${value}" (${ms} ms)`);
  };
}

/** A whole number in decimal digits, which must also pass `check`, the library's check of the option it is given to. */
function integer(check: (field: string, n: number, given: string) => number): Parse {
  return (value, name) => check(name, /^\d+$/.test(value) ? Number(value) : NaN, `"${value}"`);
}

const OPTIONS = {
  upstream: {
    flag: 'upstream',
    env: KNATIVE_ENV.userPort,
    value: 'URL',
    defaultText: 'the embedded demo app',
    help: `the app to proxy to (${KNATIVE_ENV.userPort} gives http://127.0.0.1:$${KNATIVE_ENV.userPort})`,
    parse: origin,
  },
  port: { flag: 'port', env: KNATIVE_ENV.servingPort, value: 'PORT', defaultText: String(DEFAULTS.proxyPort), help: 'port the proxy listens on', parse: port },
  tlsPort: {
    flag: 'tls-port',
    env: KNATIVE_ENV.tlsServingPort,
    value: 'PORT',
    defaultText: String(DEFAULTS.tlsPort),
    help: 'port serving HTTPS (HTTP/1.1 and HTTP/2 by ALPN) when the certificate files are there',
    parse: port,
  },
  tlsCert: { flag: 'tls-cert', env: SIDECAR_ENV.tlsCertFile, value: 'FILE', defaultText: DEFAULTS.tlsCertFile, help: 'TLS certificate (PEM), reloaded when it changes', parse: text },
  tlsKey: { flag: 'tls-key', env: SIDECAR_ENV.tlsKeyFile, value: 'FILE', defaultText: DEFAULTS.tlsKeyFile, help: 'its private key (PEM)', parse: text },
  tlsMinVersion: {
    flag: 'tls-min-version',
    env: KNATIVE_ENV.tlsMinVersion,
    value: 'VERSION',
    defaultText: DEFAULTS.tlsMinVersion,
    help: 'oldest TLS version: 1.2 or 1.3',
    // knative/pkg's tls.NewConfigFromEnv takes an empty variable as unset.
    parse: (value, name) => (value === '' ? undefined : requireTlsVersion(name, value)),
  },
  tlsMaxVersion: {
    flag: 'tls-max-version',
    env: KNATIVE_ENV.tlsMaxVersion,
    value: 'VERSION',
    defaultText: 'newest',
    help: 'newest TLS version: 1.2 or 1.3',
    parse: (value, name) => (value === '' ? undefined : requireTlsVersion(name, value)),
  },
  tlsCipherSuites: {
    flag: 'tls-cipher-suites',
    env: KNATIVE_ENV.tlsCipherSuites,
    value: 'NAMES',
    defaultText: "Node's",
    help: "TLS 1.2 cipher suites, comma-separated Go names such as TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 (TLS 1.3's stay Node's)",
    parse: (value, name) => (value === '' ? undefined : parseCipherSuites(name, value)),
  },
  tlsCurvePreferences: {
    flag: 'tls-curve-preferences',
    env: KNATIVE_ENV.tlsCurvePreferences,
    value: 'NAMES',
    defaultText: "Node's",
    help: 'key-exchange groups in order, comma-separated: X25519, X25519MLKEM768, P-256 (CurveP256), P-384 (CurveP384), P-521 (CurveP521)',
    parse: (value, name) => (value === '' ? undefined : parseCurvePreferences(name, value)),
  },
  metricsPort: { flag: 'metrics-port', env: SIDECAR_ENV.metricsPort, value: 'PORT', defaultText: String(DEFAULTS.metricsPort), help: `port serving ${DEFAULTS.metricsEndpoint}`, parse: port },
  requestMetricsPort: {
    flag: 'request-metrics-port',
    value: 'PORT',
    defaultText: String(DEFAULTS.requestMetricsPort),
    help: `port serving the request metrics on ${DEFAULTS.metricsEndpoint}`,
    parse: port,
  },
  host: { flag: 'host', value: 'HOST', defaultText: 'all interfaces', help: 'interface every server binds', parse: text },
  namespace: { flag: 'namespace', env: KNATIVE_ENV.namespace, value: 'NAME', defaultText: `required (demo: ${DEMO_IDENTITY.namespace})`, help: 'destination_namespace label', parse: text },
  config: { flag: 'config', env: KNATIVE_ENV.config, value: 'NAME', defaultText: `required (demo: ${DEMO_IDENTITY.config})`, help: 'destination_configuration label', parse: text },
  revision: { flag: 'revision', env: KNATIVE_ENV.revision, value: 'NAME', defaultText: `required (demo: ${DEMO_IDENTITY.revision})`, help: 'destination_revision label', parse: text },
  service: { flag: 'service', env: KNATIVE_ENV.service, value: 'NAME', defaultText: 'none', help: 'Knative service, kn.service.name of the request metrics', parse: text },
  pod: { flag: 'pod', env: KNATIVE_ENV.pod, value: 'NAME', defaultText: 'required (demo: the hostname)', help: 'destination_pod label', parse: text },
  reportingPeriod: {
    flag: 'reporting-period',
    value: 'DURATION',
    defaultText: `${DEFAULTS.reportingPeriodMs / 1000}s`,
    help: 'stats window; a bare number is milliseconds',
    parse: duration('ms', requirePeriodMs),
  },
  timeout: {
    flag: 'timeout',
    env: KNATIVE_ENV.revisionTimeoutSeconds,
    value: 'DURATION',
    defaultText: `${DEFAULTS.timeoutMs / 1000}s`,
    help: 'total time per request, queue included (504 before the response head); a bare number is seconds',
    parse: duration('s', requireTimeoutMs),
  },
  responseStartTimeout: {
    flag: 'response-start-timeout',
    env: KNATIVE_ENV.responseStartTimeoutSeconds,
    value: 'DURATION',
    defaultText: 'off',
    help: "time to the app's response head (504); 0 is off; a bare number is seconds",
    parse: duration('s', requireTimeoutMsOrOff, true),
  },
  idleTimeout: {
    flag: 'idle-timeout',
    env: KNATIVE_ENV.idleTimeoutSeconds,
    value: 'DURATION',
    defaultText: 'off',
    help: "longest pause in the app's response; 0 is off; a bare number is seconds",
    parse: duration('s', requireTimeoutMsOrOff, true),
  },
  requestBodyIdleTimeout: {
    flag: 'request-body-idle-timeout',
    env: SIDECAR_ENV.requestBodyIdleTimeout,
    value: 'DURATION',
    defaultText: 'off',
    help: "longest pause in a request's body (408); 0 is off; a bare number is seconds",
    parse: duration('s', requireTimeoutMsOrOff, true),
  },
  containerConcurrency: {
    flag: 'container-concurrency',
    env: KNATIVE_ENV.containerConcurrency,
    value: 'N',
    defaultText: `${DEFAULTS.containerConcurrency} (no limit)`,
    help: 'most requests at the app at once; more wait in a queue',
    parse: integer(requireNonNegativeInteger),
  },
  queueDepth: {
    flag: 'queue-depth',
    value: 'N',
    defaultText: `${DEFAULTS.queueDepthPerSlot} x N`,
    help: 'most requests waiting for the app; one more gets 503',
    parse: integer(requirePositiveInteger),
  },
  drainTimeout: {
    flag: 'drain-timeout',
    env: SIDECAR_ENV.drainTimeout,
    value: 'DURATION',
    defaultText: `${DEFAULTS.drainTimeoutMs / 1000}s`,
    help: 'after SIGTERM, bound of the quiet period and then of in-flight requests; a bare number is seconds',
    parse: duration('s', requireWaitMs),
  },
  upgradeDrainTimeout: {
    flag: 'upgrade-drain-timeout',
    env: SIDECAR_ENV.upgradeDrainTimeout,
    value: 'DURATION',
    defaultText: `${DEFAULTS.upgradeDrainTimeoutMs / 1000}s`,
    help: 'after the drain, bound of open WebSocket tunnels; a bare number is seconds',
    parse: duration('s', requireWaitMs),
  },
  drainQuietPeriod: {
    flag: 'drain-quiet-period',
    env: SIDECAR_ENV.drainQuietPeriod,
    value: 'DURATION',
    defaultText: `${DEFAULTS.drainQuietPeriodMs / 1000}s`,
    help: 'after SIGTERM, the servers close once no request came for this long; a bare number is seconds',
    parse: duration('s', requireWaitMs),
  },
  adminPort: { flag: 'admin-port', value: 'PORT', defaultText: String(DEFAULTS.adminPort), help: 'port serving /wait-for-drain', parse: port },
  readinessProbe: {
    flag: 'readiness-probe',
    env: KNATIVE_ENV.readinessProbe,
    value: 'JSON',
    defaultText: 'a TCP connect to the app',
    help: "the app's readiness probe (a Kubernetes Probe as JSON)",
    parse: (value, name) => parseReadinessProbe(value, name),
  },
  upstreamProtocol: {
    flag: 'upstream-protocol',
    env: SIDECAR_ENV.upstreamProtocol,
    value: 'PROTOCOL',
    defaultText: DEFAULTS.upstreamProtocol,
    help: 'auto: HTTP/2 requests go to the app over h2c, HTTP/1.1 ones over HTTP/1.1; http1: all over HTTP/1.1; h2c: all over h2c',
    parse: (value, name) => requireUpstreamProtocol(name, value),
  },
  maxConcurrentStreams: {
    flag: 'max-concurrent-streams',
    env: SIDECAR_ENV.maxConcurrentStreams,
    value: 'N',
    defaultText: String(DEFAULTS.maxConcurrentStreams),
    help: 'most streams one HTTP/2 connection may have open (SETTINGS_MAX_CONCURRENT_STREAMS)',
    parse: integer(requirePositiveInteger),
  },
  maxStreams: {
    flag: 'max-streams',
    env: SIDECAR_ENV.maxStreams,
    value: 'N',
    defaultText: String(DEFAULTS.maxStreams),
    help: 'most HTTP/2 streams open on all connections together; one more is refused (REFUSED_STREAM)',
    parse: integer(requirePositiveInteger),
  },
  podIP: { flag: 'pod-ip', env: KNATIVE_ENV.podIP, value: 'IP', defaultText: 'empty', help: "the pod's IP, the request log's .Revision.PodIP", parse: text },
  requestLog: {
    flag: 'request-log',
    env: KNATIVE_ENV.enableRequestLog,
    value: 'BOOL',
    defaultText: String(DEFAULTS.requestLog),
    help: 'write one line per request to standard output, after its response',
    parse: goBool,
  },
  requestLogTemplate: {
    flag: 'request-log-template',
    env: KNATIVE_ENV.requestLogTemplate,
    value: 'TEMPLATE',
    defaultText: "Knative's JSON httpRequest template",
    help: 'Go text/template of a request log line over .Request, .Response, .Revision, .TraceID',
    parse: requestLogTemplate,
  },
  probeRequestLog: {
    flag: 'probe-request-log',
    env: KNATIVE_ENV.enableProbeRequestLog,
    value: 'BOOL',
    defaultText: String(DEFAULTS.probeRequestLog),
    help: 'also log probe requests (K-Network-Probe, kubelet probes)',
    parse: goBool,
  },
  logLevel: {
    flag: 'log-level',
    env: KNATIVE_ENV.loggingLevel,
    value: 'LEVEL',
    defaultText: "the logging config's level, else info",
    help: "the sidecar's log level: debug, info, warn, error, dpanic, panic or fatal (zap's names)",
    parse: (value, name) => (value === '' ? '' : parseZapLevel(value, name)),
  },
  loggingConfig: {
    flag: 'logging-config',
    env: KNATIVE_ENV.loggingConfig,
    value: 'JSON',
    defaultText: "zapdriver's keys (severity, timestamp, logger, message)",
    help: "zap's JSON logger config: its level and encoderConfig's messageKey, levelKey, timeKey and nameKey",
    parse: (value, name) => parseLoggingSettings(value, '', name, name),
  },
  otlpEndpoint: { flag: 'otlp-endpoint', env: 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT', value: 'URL', defaultText: 'off', help: 'also push the gauges and request metrics over OTLP/HTTP', parse: text },
} satisfies Record<string, OptionSpec>;

type Key = keyof typeof OPTIONS;

/** Where the help text of each option starts in `--help`, one past the longest flag and value. */
const USAGE_COLUMN = 36;

/** The `--help` text: every option with its environment variable and default. */
export function usage(): string {
  const rows = Object.values(OPTIONS).map((o: OptionSpec) => {
    const left = `  --${o.flag} ${o.value}`;
    const env = o.env ? ` [env ${o.env}]` : '';
    return `${left.padEnd(USAGE_COLUMN)}${o.help}${env} (default: ${o.defaultText})`;
  });
  return [
    'Usage: queue-stats [options]',
    '',
    'A reverse proxy in front of an HTTP app that publishes Knative autoscaling',
    'gauges on /metrics. Flags override environment variables. With no --upstream',
    `and no ${KNATIVE_ENV.userPort} it runs an embedded demo app.`,
    '',
    'Options:',
    ...rows,
    `${'  --help'.padEnd(USAGE_COLUMN)}print this help and exit`,
    `${'  --version'.padEnd(USAGE_COLUMN)}print the version and exit`,
    '',
    'A port to listen on may be 0: a free one, which the start-up line names.',
    'OTEL_METRICS_EXPORTER, OTEL_EXPORTER_OTLP_*, OTEL_METRIC_EXPORT_INTERVAL, OTEL_SERVICE_NAME',
    'and OTEL_RESOURCE_ATTRIBUTES are honoured as the OpenTelemetry SDK specification defines them.',
    'Requests are traced when OTEL_TRACES_EXPORTER=otlp, or when it is unset and an OTLP traces endpoint',
    "(OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT) or the tracing of Knative's",
    'OBSERVABILITY_CONFIG is set; OTEL_TRACES_SAMPLER(_ARG) and OTEL_BSP_* shape it.',
    '',
  ].join('\n');
}

/**
 * Parses command-line arguments and environment into a {@link CliConfig}.
 * Pure: the hostname (the demo's pod name) is passed in.
 *
 * @throws ConfigError naming the flag (and its environment variable) that is invalid
 */
export function parseConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, hostname: string): CliConfig {
  const flags = parseFlags(argv);
  const read = (key: Key): ReturnType<Parse> | undefined => {
    const spec: OptionSpec = OPTIONS[key];
    const fromFlag = flags.values[spec.flag];
    if (typeof fromFlag === 'string') return spec.parse(fromFlag, `--${spec.flag}`);
    const fromEnv = spec.env === undefined ? undefined : env[spec.env];
    if (fromEnv === undefined) return undefined;
    const name = `${spec.env} (--${spec.flag})`;
    return key === 'upstream' ? origin(`http://127.0.0.1:${String(parsePortText(name, fromEnv))}`, name) : spec.parse(fromEnv, name);
  };
  const upstream = read('upstream') as string | undefined;
  const demo = upstream === undefined;
  const name = (key: 'namespace' | 'config' | 'revision' | 'pod', demoValue: string): string => {
    const value = read(key) as string | undefined;
    if (value !== undefined) return value;
    if (demo) return demoValue;
    const spec: OptionSpec = OPTIONS[key];
    throw new ConfigError(`--${spec.flag}`, `--${spec.flag} (or ${spec.env}) is required when --upstream or ${KNATIVE_ENV.userPort} is set`);
  };
  return {
    help: flags.values['help'] === true,
    version: flags.values['version'] === true,
    upstream,
    port: (read('port') as number | undefined) ?? DEFAULTS.proxyPort,
    tls: readTls(read, flags.values, env),
    metricsPort: (read('metricsPort') as number | undefined) ?? DEFAULTS.metricsPort,
    requestMetricsPort: (read('requestMetricsPort') as number | undefined) ?? DEFAULTS.requestMetricsPort,
    host: read('host') as string | undefined,
    identity: {
      namespace: name('namespace', DEMO_IDENTITY.namespace),
      config: name('config', DEMO_IDENTITY.config),
      revision: name('revision', DEMO_IDENTITY.revision),
      pod: name('pod', hostname),
    },
    service: read('service') as string | undefined,
    reportingPeriodMs: (read('reportingPeriod') as number | undefined) ?? DEFAULTS.reportingPeriodMs,
    timeoutMs: (read('timeout') as number | undefined) ?? DEFAULTS.timeoutMs,
    responseStartTimeoutMs: (read('responseStartTimeout') as number | undefined) ?? DEFAULTS.responseStartTimeoutMs,
    idleTimeoutMs: (read('idleTimeout') as number | undefined) ?? DEFAULTS.idleTimeoutMs,
    containerConcurrency: (read('containerConcurrency') as number | undefined) ?? DEFAULTS.containerConcurrency,
    maxQueueDepth: read('queueDepth') as number | undefined,
    drainTimeoutMs: (read('drainTimeout') as number | undefined) ?? DEFAULTS.drainTimeoutMs,
    upgradeDrainTimeoutMs: (read('upgradeDrainTimeout') as number | undefined) ?? DEFAULTS.upgradeDrainTimeoutMs,
    drainQuietPeriodMs: (read('drainQuietPeriod') as number | undefined) ?? DEFAULTS.drainQuietPeriodMs,
    adminPort: (read('adminPort') as number | undefined) ?? DEFAULTS.adminPort,
    readinessProbe: read('readinessProbe') as ReadinessProbeSpec | undefined,
    otlpEndpoint: flags.values['otlp-endpoint'] as string | undefined,
    upstreamProtocol: (read('upstreamProtocol') as UpstreamProtocol | undefined) ?? DEFAULTS.upstreamProtocol,
    requestBodyIdleTimeoutMs: (read('requestBodyIdleTimeout') as number | undefined) ?? DEFAULTS.requestBodyIdleTimeoutMs,
    maxConcurrentStreams: (read('maxConcurrentStreams') as number | undefined) ?? DEFAULTS.maxConcurrentStreams,
    maxStreams: (read('maxStreams') as number | undefined) ?? DEFAULTS.maxStreams,
    traces: tracesFromEnv(env),
    podIP: (read('podIP') as string | undefined) ?? '',
    ...requestLogSettings(read, env),
    logging: loggingSettings(read),
  };
}

/** The TLS block of the config: each file's value and the name it came by. */
function readTls(read: (key: Key) => ReturnType<Parse> | undefined, flags: ReturnType<typeof parseArgs>['values'], env: Readonly<Record<string, string | undefined>>): CliTlsConfig {
  const certFile = read('tlsCert') as string | undefined;
  const keyFile = read('tlsKey') as string | undefined;
  const field = (key: Key): string => {
    const spec: OptionSpec = OPTIONS[key];
    return typeof flags[spec.flag] !== 'string' && spec.env !== undefined && env[spec.env] !== undefined ? `${spec.env} (--${spec.flag})` : `--${spec.flag}`;
  };
  const minVersion = (read('tlsMinVersion') as TlsVersion | undefined) ?? DEFAULTS.tlsMinVersion;
  const maxVersion = read('tlsMaxVersion') as TlsVersion | undefined;
  if (maxVersion !== undefined && maxVersion < minVersion) {
    throw new ConfigError('--tls-max-version', `--tls-max-version (${maxVersion}) must not be older than --tls-min-version (${minVersion})`);
  }
  const cipherSuites = read('tlsCipherSuites') as TlsCipherSuite[] | undefined;
  const curves = read('tlsCurvePreferences') as TlsCurve[] | undefined;
  if (curves !== undefined) openSslGroups(field('tlsCurvePreferences'), curves);
  if (cipherSuites !== undefined) requireTls12Suite(field('tlsCipherSuites'), cipherSuites, field('tlsMaxVersion'), maxVersion);
  return {
    port: (read('tlsPort') as number | undefined) ?? DEFAULTS.tlsPort,
    certFile: certFile ?? DEFAULTS.tlsCertFile,
    keyFile: keyFile ?? DEFAULTS.tlsKeyFile,
    filesGiven: certFile !== undefined || keyFile !== undefined,
    certField: field('tlsCert'),
    keyField: field('tlsKey'),
    minVersion,
    maxVersion,
    cipherSuites,
    curvePreferences: curves,
  };
}

/**
 * The request log's template when requests are logged. As Knative's handler does, an empty
 * template means no request log; the probe setting is read for its check.
 */
function requestLogSettings(
  read: (key: Key) => ReturnType<Parse> | undefined,
  env: Readonly<Record<string, string | undefined>>,
): { requestLogTemplate: string | undefined; logProbeRequests: boolean } {
  const observability = parseObservabilityConfig(env[KNATIVE_ENV.observabilityConfig] ?? '', KNATIVE_ENV.observabilityConfig);
  const observedTemplate = observability.requestLogTemplate === undefined ? undefined : requestLogTemplate(observability.requestLogTemplate, `${KNATIVE_ENV.observabilityConfig} requestLogTemplate`);
  const enabled = (read('requestLog') as boolean | undefined) ?? observability.enableRequestLog ?? DEFAULTS.requestLog;
  const template = (read('requestLogTemplate') as string | undefined) ?? (observedTemplate as string | undefined) ?? DEFAULTS.requestLogTemplate;
  return {
    requestLogTemplate: enabled && template !== '' ? template : undefined,
    logProbeRequests: (read('probeRequestLog') as boolean | undefined) ?? observability.enableProbeRequestLog ?? DEFAULTS.probeRequestLog,
  };
}

/** The sidecar's own logging: the zap config's settings, its level replaced by the level override when one is given. */
function loggingSettings(read: (key: Key) => ReturnType<Parse> | undefined): LoggingSettings {
  const config = (read('loggingConfig') as LoggingSettings | undefined) ?? DEFAULT_LOGGING;
  const level = read('logLevel') as LoggingSettings['level'] | '' | undefined;
  return level === undefined || level === '' ? config : { ...config, level };
}

function parseFlags(argv: readonly string[]): ReturnType<typeof parseArgs> {
  const options: Record<string, { type: 'string' | 'boolean' }> = { help: { type: 'boolean' }, version: { type: 'boolean' } };
  for (const spec of Object.values(OPTIONS) as OptionSpec[]) options[spec.flag] = { type: 'string' };
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals: false });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const flag = /'(-[^' ]+)/.exec(message)?.[1] ?? 'arguments';
    throw new ConfigError(flag, message.split('\n')[0]!.replace(/\. (To specify|This command) .*$/, ''));
  }
}
