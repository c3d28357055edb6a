/**
 * Reads the OpenTelemetry SDK environment variables that choose and
 * configure the metrics exporters, and the OTLP settings per signal that
 * the traces' settings (`trace-env.ts`) share (opentelemetry-specification
 * configuration/sdk-environment-variables.md and protocol/exporter.md).
 * Pure: every function takes the environment as an argument and does no I/O.
 *
 * Where the specification says an invalid value SHOULD be warned about and
 * ignored, this module throws a {@link ConfigError} naming the variable
 * instead: a typo in a pod spec should stop the pod at start-up, not silently
 * change where metrics go. As the specification requires, an empty value
 * (or one of only spaces) counts as unset.
 */
import { requireHttpUrl } from '../core/checks.js';
import { MAX_TIMER_MS } from '../core/defaults.js';
import { ConfigError } from '../core/errors.js';

/** An exporter that can serve or push the metrics. */
export type MetricsExporterName = 'prometheus' | 'otlp';

/** OTLP transports this package supports: OTLP/HTTP with protobuf or JSON bodies, and OTLP/gRPC. */
export type OtlpProtocol = 'http/protobuf' | 'http/json' | 'grpc';

/** Everything needed to push metrics to an OTLP receiver. */
export interface OtlpSettings {
  /**
   * OTLP/HTTP: the full URL the metrics are POSTed to, e.g.
   * `http://127.0.0.1:4318/v1/metrics`. gRPC: the collector's URL, e.g.
   * `http://127.0.0.1:4317` (`http:` cleartext, `https:` TLS; no path).
   */
  endpoint: string;
  /** Transport and body encoding. Default `http/protobuf`. */
  protocol: OtlpProtocol;
  /** Extra request headers, names in lower case. Default none. */
  headers: Record<string, string>;
  /** Milliseconds between the starts of two exports (`OTEL_METRIC_EXPORT_INTERVAL`). Default 60000. */
  intervalMs: number;
  /**
   * Milliseconds one collection plus export may take before the reader gives
   * up on it (`OTEL_METRIC_EXPORT_TIMEOUT`). Never more than `intervalMs`.
   * Default 30000, or `intervalMs` when that is shorter.
   */
  readerTimeoutMs: number;
  /**
   * Milliseconds the OTLP exporter spends on one batch, retries included
   * (`OTEL_EXPORTER_OTLP_METRICS_TIMEOUT`, else `OTEL_EXPORTER_OTLP_TIMEOUT`).
   * Default 10000. Shutting down waits up to this long for a last export.
   */
  exporterTimeoutMs: number;
}

/** Which exporters to run, and how to reach the OTLP receiver when `otlp` is one of them. */
export interface TelemetrySettings {
  /** The exporters to run; empty when `OTEL_METRICS_EXPORTER=none`. */
  exporters: ReadonlySet<MetricsExporterName>;
  /** Present exactly when `exporters` has `otlp`. */
  otlp?: OtlpSettings;
}

/** Values given on the command line, which take precedence over the environment. */
export interface TelemetryOverrides {
  /**
   * The `--otlp-endpoint` flag: a full metrics URL, used as-is like
   * `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`, and preferred over it.
   */
  otlpEndpoint?: string;
}

/** An environment: variable names to values, e.g. `process.env`. */
export type Env = Readonly<Record<string, string | undefined>>;

/** The command-line flag {@link TelemetryOverrides.otlpEndpoint} stands for; errors about it name this. */
export const OTLP_ENDPOINT_FLAG = '--otlp-endpoint';

/** RFC 9110 token: what an HTTP header name may consist of. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** The names gRPC allows for metadata (gRPC's HTTP/2 protocol spec, `Header-Name`), once lower-cased. */
const GRPC_METADATA_NAME = /^[0-9a-z_.-]+$/;

/** Characters Node refuses in a header value (controls other than tab). */
// eslint-disable-next-line no-control-regex -- control characters are what this pattern is for
const BAD_HEADER_VALUE = /[\0-\x08\x0a-\x1f\x7f]/;

/**
 * The value of `name` with surrounding spaces removed, or undefined when it
 * is unset or blank (the spec treats an empty value as unset).
 */
export function readEnv(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

/**
 * Parses a `key1=value1,key2=value2` list, the format of
 * `OTEL_RESOURCE_ATTRIBUTES` and `OTEL_EXPORTER_OTLP_*HEADERS`. Keys and
 * values are trimmed, then percent-decoded; a value runs from the first `=`
 * to the next `,`, so `=` may appear unencoded in it (as in base64 tokens).
 * Blank entries are skipped; a later duplicate key wins.
 *
 * @param variable - the variable the text came from, named in errors
 * @param text - the raw value; undefined gives an empty record
 * @throws ConfigError naming `variable` for an entry without `=`, an empty
 *   key, or malformed percent-encoding
 */
export function parseKeyValueList(variable: string, text: string | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  for (const entry of text?.split(',') ?? []) {
    if (entry.trim() === '') continue;
    const equals = entry.indexOf('=');
    const key = equals === -1 ? '' : decode(variable, entry.slice(0, equals).trim());
    if (key === '') {
      throw new ConfigError(variable, `${variable} must be a list of key=value pairs separated by commas, got entry '${entry.trim()}'`);
    }
    result[key] = decode(variable, entry.slice(equals + 1).trim());
  }
  return result;
}

function decode(variable: string, text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new ConfigError(variable, `${variable} has malformed percent-encoding in '${text}'`);
  }
}

/**
 * Decides which metrics exporters run and how the OTLP one is configured,
 * from these variables:
 *
 * - `OTEL_METRICS_EXPORTER`: comma-separated `prometheus`, `otlp`, or `none`
 *   alone. Unset: `prometheus`, plus `otlp` when an OTLP endpoint is
 *   configured (by the flag or either endpoint variable).
 * - Endpoint: `overrides.otlpEndpoint`, else
 *   `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT` (both used as-is), else
 *   `OTEL_EXPORTER_OTLP_ENDPOINT` with `/v1/metrics` appended to its path,
 *   else the spec's `http://localhost:4318/v1/metrics`. Must be an http or https URL.
 * - `OTEL_EXPORTER_OTLP_METRICS_PROTOCOL`, else `OTEL_EXPORTER_OTLP_PROTOCOL`:
 *   `http/protobuf` (default) or `http/json`.
 * - `OTEL_EXPORTER_OTLP_HEADERS` and `OTEL_EXPORTER_OTLP_METRICS_HEADERS`,
 *   merged per (case-insensitive) name, the metrics one winning.
 * - `OTEL_METRIC_EXPORT_INTERVAL`, `OTEL_METRIC_EXPORT_TIMEOUT`,
 *   `OTEL_EXPORTER_OTLP_METRICS_TIMEOUT` / `OTEL_EXPORTER_OTLP_TIMEOUT`:
 *   integers of milliseconds, see {@link OtlpSettings}. A timeout of 0 means
 *   "no timeout" in the spec; it becomes the longest one the enclosing
 *   step allows (the interval for the reader, the reader's timeout for the
 *   exporter), so an export can never outlive its period.
 *
 * The OTLP variables are only read when `otlp` runs, so a value meant for
 * another signal (say a gRPC endpoint for traces) does not stop the pod when
 * metrics use Prometheus only. Compression and TLS certificate variables are
 * left to the OTLP exporter, which reads them itself.
 *
 * @throws ConfigError naming the variable (or {@link OTLP_ENDPOINT_FLAG}):
 *   an unknown exporter, `none` combined with another, the flag given while
 *   `OTEL_METRICS_EXPORTER` excludes `otlp`, a URL that is not http(s), an
 *   unknown protocol, a malformed header list or header, a
 *   number that is not an integer from 0 (1 for the interval) to 2147483647,
 *   or an export timeout longer than the interval
 */
export function telemetryFromEnv(env: Env, overrides: TelemetryOverrides = {}): TelemetrySettings {
  const flagEndpoint = overrides.otlpEndpoint?.trim() || undefined;
  const exporters = exportersFromEnv(env, flagEndpoint);
  if (!exporters.has('otlp')) return { exporters };
  return { exporters, otlp: otlpFromEnv(env, flagEndpoint) };
}

function exportersFromEnv(env: Env, flagEndpoint: string | undefined): ReadonlySet<MetricsExporterName> {
  const variable = 'OTEL_METRICS_EXPORTER';
  const names = (readEnv(env, variable) ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  if (names.length === 0) {
    const endpointSet = flagEndpoint !== undefined || readEnv(env, 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT') !== undefined || readEnv(env, 'OTEL_EXPORTER_OTLP_ENDPOINT') !== undefined;
    return new Set<MetricsExporterName>(endpointSet ? ['prometheus', 'otlp'] : ['prometheus']);
  }
  const exporters = new Set<MetricsExporterName>();
  for (const name of names) {
    if (name === 'prometheus' || name === 'otlp') {
      exporters.add(name);
    } else if (name !== 'none') {
      throw new ConfigError(variable, `${variable} must list otlp and/or prometheus, or be none; '${name}' is not supported`);
    }
  }
  if (names.includes('none') && exporters.size > 0) {
    throw new ConfigError(variable, `${variable} cannot combine none with other exporters, got '${names.join(',')}'`);
  }
  if (flagEndpoint !== undefined && !exporters.has('otlp')) {
    throw new ConfigError(OTLP_ENDPOINT_FLAG, `${OTLP_ENDPOINT_FLAG} is set but ${variable}=${names.join(',')} does not include otlp`);
  }
  return exporters;
}

function otlpFromEnv(env: Env, flagEndpoint: string | undefined): OtlpSettings {
  const intervalMs = milliseconds(env, 'OTEL_METRIC_EXPORT_INTERVAL', 1) ?? 60_000;
  const readerTimeoutMs = readerTimeout(env, intervalMs);
  const exporterTimeout = otlpExporterTimeoutMs(env, 'METRICS');
  const protocol = otlpProtocolFromEnv(env, 'METRICS');
  return {
    endpoint: flagEndpoint === undefined ? otlpEndpointFromEnv(env, 'METRICS', protocol) : httpUrl(OTLP_ENDPOINT_FLAG, flagEndpoint).href,
    protocol,
    headers: otlpHeadersFromEnv(env, 'METRICS', protocol),
    intervalMs,
    readerTimeoutMs,
    exporterTimeoutMs: exporterTimeout === 0 ? readerTimeoutMs : exporterTimeout,
  };
}

/** The signal in the names of the OTLP exporter variables: `OTEL_EXPORTER_OTLP_<SIGNAL>_ENDPOINT` and the like. */
export type OtlpSignal = 'METRICS' | 'TRACES';

/** The path the spec appends to `OTEL_EXPORTER_OTLP_ENDPOINT` for each signal. */
const SIGNAL_PATH: Record<OtlpSignal, string> = { METRICS: '/v1/metrics', TRACES: '/v1/traces' };

/**
 * The endpoint of `signal` over `protocol`: `OTEL_EXPORTER_OTLP_<SIGNAL>_ENDPOINT`
 * as-is, else `OTEL_EXPORTER_OTLP_ENDPOINT` (over OTLP/HTTP with the signal's
 * path appended; over gRPC as-is), else `fallback` (default: the spec's
 * `http://localhost:4318` and the signal's path, or `http://localhost:4317` for gRPC).
 *
 * @throws ConfigError naming the variable when it is not an http or https URL
 */
export function otlpEndpointFromEnv(env: Env, signal: OtlpSignal, protocol: OtlpProtocol, fallback = defaultEndpoint(signal, protocol)): string {
  const variable = `OTEL_EXPORTER_OTLP_${signal}_ENDPOINT`;
  const specific = readEnv(env, variable);
  if (specific !== undefined) return httpUrl(variable, specific).href;
  const base = readEnv(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  if (base === undefined) return fallback;
  const url = httpUrl('OTEL_EXPORTER_OTLP_ENDPOINT', base);
  // gRPC takes the endpoint as it is; OTLP/HTTP appends the signal path "correcting for double-slashes".
  if (protocol !== 'grpc') url.pathname = `${url.pathname.replace(/\/+$/, '')}${SIGNAL_PATH[signal]}`;
  return url.href;
}

/** The specification's default endpoint: `http://localhost:4317` for gRPC, `http://localhost:4318` and the signal's path for OTLP/HTTP. */
function defaultEndpoint(signal: OtlpSignal, protocol: OtlpProtocol): string {
  return protocol === 'grpc' ? 'http://localhost:4317' : `http://localhost:4318${SIGNAL_PATH[signal]}`;
}

/**
 * Parses an endpoint URL, which must be http or https.
 *
 * @throws ConfigError naming `variable`
 */
export function httpUrl(variable: string, text: string): URL {
  return requireHttpUrl(variable, text, 'endpoint', `'${text}'`);
}

/**
 * The transport of `signal`'s exports: `OTEL_EXPORTER_OTLP_<SIGNAL>_PROTOCOL`,
 * else `OTEL_EXPORTER_OTLP_PROTOCOL`, else `fallback`.
 *
 * @param fallback - the protocol when neither variable is set. Default `http/protobuf`, the specification's.
 * @throws ConfigError naming the variable for an unknown protocol
 */
export function otlpProtocolFromEnv(env: Env, signal: OtlpSignal, fallback: OtlpProtocol = 'http/protobuf'): OtlpProtocol {
  const specific = `OTEL_EXPORTER_OTLP_${signal}_PROTOCOL`;
  const variable = readEnv(env, specific) !== undefined ? specific : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const protocol = readEnv(env, variable) ?? fallback;
  if (protocol === 'http/protobuf' || protocol === 'http/json' || protocol === 'grpc') return protocol;
  throw new ConfigError(variable, `${variable}: '${protocol}' is not a protocol; use http/protobuf, http/json or grpc`);
}

/**
 * The extra request headers of `signal`'s exports: `OTEL_EXPORTER_OTLP_HEADERS`
 * and `OTEL_EXPORTER_OTLP_<SIGNAL>_HEADERS` merged per (case-insensitive)
 * name, the signal's winning; names in lower case.
 *
 * @param protocol - over `grpc` the headers are the call's metadata, whose names gRPC narrows to lower-case
 *   letters, digits, `-`, `_` and `.` (and whose `-bin` names carry binary values, which a variable cannot give)
 * @throws ConfigError naming the variable for a malformed list, header name or value
 */
export function otlpHeadersFromEnv(env: Env, signal: OtlpSignal, protocol: OtlpProtocol): Record<string, string> {
  return { ...headersFromEnv(env, 'OTEL_EXPORTER_OTLP_HEADERS', protocol), ...headersFromEnv(env, `OTEL_EXPORTER_OTLP_${signal}_HEADERS`, protocol) };
}

/**
 * Milliseconds the OTLP exporter of `signal` spends on one batch:
 * `OTEL_EXPORTER_OTLP_<SIGNAL>_TIMEOUT`, else `OTEL_EXPORTER_OTLP_TIMEOUT`,
 * else 10000; 0 is the spec's "no timeout", which the caller bounds.
 *
 * @throws ConfigError naming the variable when it is not an integer from 0 to 2147483647
 */
export function otlpExporterTimeoutMs(env: Env, signal: OtlpSignal): number {
  return milliseconds(env, `OTEL_EXPORTER_OTLP_${signal}_TIMEOUT`, 0) ?? milliseconds(env, 'OTEL_EXPORTER_OTLP_TIMEOUT', 0) ?? 10_000;
}

function headersFromEnv(env: Env, variable: string, protocol: OtlpProtocol): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(parseKeyValueList(variable, readEnv(env, variable)))) {
    if (!HEADER_NAME.test(name)) {
      throw new ConfigError(variable, `${variable}: '${name}' is not a valid HTTP header name`);
    }
    if (protocol === 'grpc' && (!GRPC_METADATA_NAME.test(name.toLowerCase()) || name.toLowerCase().endsWith('-bin'))) {
      throw new ConfigError(variable, `${variable}: '${name}' cannot be gRPC metadata (a-z, 0-9, '-', '_' and '.', not ending in -bin)`);
    }
    if (BAD_HEADER_VALUE.test(value)) {
      throw new ConfigError(variable, `${variable}: the value of header '${name}' contains control characters`);
    }
    headers[name.toLowerCase()] = value;
  }
  return headers;
}

/** An integer number of milliseconds from `min` to 2147483647, or undefined when unset. */
function milliseconds(env: Env, variable: string, min: 0 | 1): number | undefined {
  const text = readEnv(env, variable);
  if (text === undefined) return undefined;
  const value = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(value >= min && value <= MAX_TIMER_MS)) {
    throw new ConfigError(variable, `${variable} must be an integer number of milliseconds from ${min} to ${MAX_TIMER_MS}, got '${text}'`);
  }
  return value;
}

function readerTimeout(env: Env, intervalMs: number): number {
  const variable = 'OTEL_METRIC_EXPORT_TIMEOUT';
  const timeout = milliseconds(env, variable, 0);
  if (timeout === undefined) return Math.min(30_000, intervalMs);
  if (timeout === 0) return intervalMs;
  if (timeout > intervalMs) {
    // The SDK's PeriodicExportingMetricReader rejects this combination too.
    throw new ConfigError(variable, `${variable} (${timeout} ms) must not exceed OTEL_METRIC_EXPORT_INTERVAL (${intervalMs} ms)`);
  }
  return timeout;
}
