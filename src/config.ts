import { parseArgs } from 'node:util';
import { ConfigError } from './errors.js';
import type { Identity } from './identity.js';

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
  /** The metrics port. Default 9090. */
  metricsPort: number;
  /** Interface both servers bind; undefined binds all. */
  host: string | undefined;
  /** Knative's four names; filled with demo names when running the demo app. */
  identity: Identity;
  /** Reporting period in milliseconds. Default 1000. */
  reportingPeriodMs: number;
  /** Revision timeout in milliseconds: an app slower than this to answer gets a 504. Default 300000. */
  timeoutMs: number;
  /** How long SIGTERM waits for in-flight requests, in milliseconds. Default 30000. */
  drainTimeoutMs: number;
  /** OTLP metrics endpoint given by flag. */
  otlpEndpoint: string | undefined;
}

type Parse = (text: string, name: string) => number | string;

interface OptionSpec {
  flag: string;
  env?: string;
  value: string;
  defaultText: string;
  help: string;
  parse: Parse;
}

const text: Parse = (value, name) => {
  if (value === '') throw new ConfigError(name, `${name} must not be empty`);
  return value;
};

const port: Parse = (value, name) => {
  const n = /^\d{1,5}$/.test(value) ? Number(value) : NaN;
  if (!(n >= 1 && n <= 65535)) throw new ConfigError(name, `${name} must be a port from 1 to 65535, got "${value}"`);
  return n;
};

const url: Parse = (value, name) => {
  let parsed: URL | undefined;
  try {
    parsed = new URL(value);
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || parsed.protocol !== 'http:') {
    throw new ConfigError(name, `${name} must be an http:// URL, got "${value}"`);
  }
  return parsed.origin;
};

/** A duration: a number with unit `ms` or `s`; `unit` applies to a bare number. Returns milliseconds. */
function duration(unit: 'ms' | 's'): Parse {
  return (value, name) => {
    const match = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(value);
    const ms = match === null ? NaN : Number(match[1]) * ((match[2] ?? unit) === 's' ? 1000 : 1);
    if (!(ms > 0 && Number.isFinite(ms))) {
      throw new ConfigError(name, `${name} must be a positive duration such as 1s or 500ms, got "${value}"`);
    }
    return ms;
  };
}

const OPTIONS = {
  upstream: { flag: 'upstream', env: 'USER_PORT', value: 'URL', defaultText: 'the embedded demo app', help: 'the app to proxy to (USER_PORT gives http://127.0.0.1:$USER_PORT)', parse: url },
  port: { flag: 'port', env: 'QUEUE_SERVING_PORT', value: 'PORT', defaultText: '8012', help: 'port the proxy listens on', parse: port },
  metricsPort: { flag: 'metrics-port', value: 'PORT', defaultText: '9090', help: 'port serving /metrics', parse: port },
  host: { flag: 'host', value: 'HOST', defaultText: 'all interfaces', help: 'interface both servers bind', parse: text },
  namespace: { flag: 'namespace', env: 'SERVING_NAMESPACE', value: 'NAME', defaultText: 'required (demo: default)', help: 'destination_namespace label', parse: text },
  config: { flag: 'config', env: 'SERVING_CONFIGURATION', value: 'NAME', defaultText: 'required (demo: demo)', help: 'destination_configuration label', parse: text },
  revision: { flag: 'revision', env: 'SERVING_REVISION', value: 'NAME', defaultText: 'required (demo: demo-00001)', help: 'destination_revision label', parse: text },
  pod: { flag: 'pod', env: 'SERVING_POD', value: 'NAME', defaultText: 'required (demo: the hostname)', help: 'destination_pod label', parse: text },
  reportingPeriod: { flag: 'reporting-period', value: 'DURATION', defaultText: '1s', help: 'stats window; a bare number is milliseconds', parse: duration('ms') },
  timeout: { flag: 'timeout', env: 'REVISION_TIMEOUT_SECONDS', value: 'DURATION', defaultText: '300s', help: 'app response timeout (504); a bare number is seconds', parse: duration('s') },
  drainTimeout: { flag: 'drain-timeout', value: 'DURATION', defaultText: '30s', help: 'SIGTERM waits this long for in-flight requests; a bare number is seconds', parse: duration('s') },
  otlpEndpoint: { flag: 'otlp-endpoint', env: 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT', value: 'URL', defaultText: 'off', help: 'also push the gauges over OTLP/HTTP', parse: text },
} satisfies Record<string, OptionSpec>;

type Key = keyof typeof OPTIONS;

/** The `--help` text: every option with its environment variable and default. */
export function usage(): string {
  const rows = Object.values(OPTIONS).map((o: OptionSpec) => {
    const left = `  --${o.flag} ${o.value}`;
    const env = o.env ? ` [env ${o.env}]` : '';
    return `${left.padEnd(30)}${o.help}${env} (default: ${o.defaultText})`;
  });
  return [
    'Usage: queue-stats [options]',
    '',
    'A reverse proxy in front of an HTTP app that publishes Knative autoscaling',
    'gauges on /metrics. Flags override environment variables. With no --upstream',
    'and no USER_PORT it runs an embedded demo app.',
    '',
    'Options:',
    ...rows,
    '  --help                      print this help and exit',
    '  --version                   print the version and exit',
    '',
    'OTEL_METRICS_EXPORTER, OTEL_EXPORTER_OTLP_*, OTEL_METRIC_EXPORT_INTERVAL, OTEL_SERVICE_NAME',
    'and OTEL_RESOURCE_ATTRIBUTES are honoured as the OpenTelemetry SDK specification defines them.',
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
  const read = (key: Key): number | string | undefined => {
    const spec: OptionSpec = OPTIONS[key];
    const fromFlag = flags.values[spec.flag];
    if (typeof fromFlag === 'string') return spec.parse(fromFlag, `--${spec.flag}`);
    const fromEnv = spec.env === undefined ? undefined : env[spec.env];
    if (fromEnv === undefined) return undefined;
    const name = `${spec.env} (--${spec.flag})`;
    return key === 'upstream' ? url(`http://127.0.0.1:${String(port(fromEnv, name))}`, name) : spec.parse(fromEnv, name);
  };
  const upstream = read('upstream') as string | undefined;
  const demo = upstream === undefined;
  const name = (key: 'namespace' | 'config' | 'revision' | 'pod', demoValue: string): string => {
    const value = read(key) as string | undefined;
    if (value !== undefined) return value;
    if (demo) return demoValue;
    const spec: OptionSpec = OPTIONS[key];
    throw new ConfigError(`--${spec.flag}`, `--${spec.flag} (or ${spec.env}) is required when --upstream or USER_PORT is set`);
  };
  return {
    help: flags.values['help'] === true,
    version: flags.values['version'] === true,
    upstream,
    port: (read('port') as number | undefined) ?? 8012,
    metricsPort: (read('metricsPort') as number | undefined) ?? 9090,
    host: read('host') as string | undefined,
    identity: {
      namespace: name('namespace', 'default'),
      config: name('config', 'demo'),
      revision: name('revision', 'demo-00001'),
      pod: name('pod', hostname),
    },
    reportingPeriodMs: (read('reportingPeriod') as number | undefined) ?? 1000,
    timeoutMs: (read('timeout') as number | undefined) ?? 300_000,
    drainTimeoutMs: (read('drainTimeout') as number | undefined) ?? 30_000,
    otlpEndpoint: flags.values['otlp-endpoint'] as string | undefined,
  };
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
