/**
 * The app's readiness probe as Knative hands it to the queue-proxy in
 * `SERVING_READINESS_PROBE`: the JSON form of a Kubernetes Probe (knative/serving
 * `pkg/queue/readiness/probe_encoding.go`), parsed into a typed spec with
 * Kubernetes' and Knative's defaults. Pure: no I/O.
 */
import { MAX_TIMER_MS } from './defaults.js';
import { ConfigError } from './errors.js';

/** An HTTP GET whose status from 200 to 399 means ready. */
export interface HttpGetAction {
  readonly kind: 'httpGet';
  /** Host to connect to; undefined: the upstream's host (Knative sets 127.0.0.1). */
  readonly host: string | undefined;
  /** TCP port; undefined: the upstream's port (Knative fills in the app's port). */
  readonly port: number | undefined;
  /** Request target, always starting with `/`. Default `/`. */
  readonly path: string;
  /** Extra request headers (`httpHeaders`), name and value, in the given order. */
  readonly headers: readonly (readonly [name: string, value: string])[];
}

/** A TCP connect whose completed handshake means ready. */
export interface TcpSocketAction {
  readonly kind: 'tcpSocket';
  /** Host to connect to; undefined: the upstream's host. */
  readonly host: string | undefined;
  /** TCP port; undefined: the upstream's port. */
  readonly port: number | undefined;
}

/**
 * A `grpc.health.v1.Health/Check` call over HTTP/2 cleartext, ready when it
 * succeeds with status SERVING. As Kubernetes' GRPCAction it has no host: the
 * call goes to the upstream's host.
 */
export interface GrpcAction {
  readonly kind: 'grpc';
  /** TCP port; undefined: the upstream's port (Knative fills in the app's port). */
  readonly port: number | undefined;
  /** The `service` field of the request; `''` (the default) asks about the server as a whole. */
  readonly service: string;
}

/** One readiness probe of the app, as the sidecar runs it. */
export interface ReadinessProbeSpec {
  /** What one attempt does. */
  readonly action: HttpGetAction | TcpSocketAction | GrpcAction;
  /**
   * `periodSeconds` in milliseconds. 0 (the default, as in Knative) selects
   * aggressive probing: retries every 50 ms until `successThreshold` attempts
   * in a row succeed, for up to 10 s. Above 0, each check is one attempt and
   * the kubelet applies the period and thresholds to the sidecar's own probe.
   */
  readonly periodMs: number;
  /** `timeoutSeconds` in milliseconds: how long one attempt of a periodic probe waits. At least 1000 (Knative's floor). */
  readonly timeoutMs: number;
  /** Successes in a row that aggressive probing needs. Default 1. */
  readonly successThreshold: number;
}

/** Longest whole number of seconds that still fits a Node timer once turned into milliseconds. */
const MAX_SECONDS = Math.floor(MAX_TIMER_MS / 1000);
/** An RFC 9110 token: the characters a header name may have. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Visible ASCII: what a request target may hold unescaped. */
const VISIBLE = /^[\x21-\x7e]*$/;
/** Characters no header value may hold. */
const LINE_BREAK_OR_NUL = /[\r\n\0]/;

type Json = Record<string, unknown>;

/**
 * Parses `SERVING_READINESS_PROBE`. Unknown fields (`initialDelaySeconds`,
 * `terminationGracePeriodSeconds`...) are ignored, as Go's JSON decoder does.
 * A port of 0 or none means the app's port; a named port is refused, since
 * the sidecar cannot resolve it.
 *
 * @param json - the variable's text
 * @param field - the name used in errors: the environment variable (and flag)
 * @throws ConfigError `<field>: <path> must be ...` naming the JSON field at
 *   fault; `exec` probes and HTTPS are refused
 */
export function parseReadinessProbe(json: string, field: string): ReadinessProbeSpec {
  const fail = (message: string): never => {
    throw new ConfigError(field, `${field}: ${message}`);
  };
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    return fail(`not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (Array.isArray(value)) fail('must be one probe object (lists of probes for several containers are not supported)');
  const probe = object(value, 'the probe', fail);
  const kinds = ['httpGet', 'tcpSocket', 'grpc', 'exec'].filter((key) => probe[key] !== undefined && probe[key] !== null);
  if (kinds.length !== 1) fail(`must have exactly one of httpGet, tcpSocket or grpc, got ${kinds.length === 0 ? 'none' : kinds.join(', ')}`);
  if (kinds[0] === 'exec') fail('exec probes run in the app container, not in the sidecar; Knative sends them as tcpSocket');

  const periodSeconds = wholeNumber(probe, 'periodSeconds', 0, fail);
  const timeoutSeconds = wholeNumber(probe, 'timeoutSeconds', 0, fail);
  const successThreshold = wholeNumber(probe, 'successThreshold', 1, fail);
  // Checked for the kubelet's sake: the sidecar's own probe carries it; the sidecar's attempts do not use it (nor do Knative's).
  wholeNumber(probe, 'failureThreshold', 1, fail);
  const kind = kinds[0] as 'httpGet' | 'tcpSocket' | 'grpc';
  return {
    action: ACTIONS[kind](object(probe[kind], kind, fail), fail),
    periodMs: periodSeconds * 1000,
    timeoutMs: Math.max(1, timeoutSeconds) * 1000,
    successThreshold,
  };
}

function object(value: unknown, path: string, fail: (message: string) => never): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(`${path} must be a JSON object, got ${JSON.stringify(value)}`);
  return value as Json;
}

/** A whole number from `fallback` (0 or 1, what Kubernetes defaults it to) to {@link MAX_SECONDS}; absent or null gives `fallback`. */
function wholeNumber(probe: Json, key: string, fallback: 0 | 1, fail: (message: string) => never): number {
  const value = probe[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < fallback || value > MAX_SECONDS) {
    fail(`${key} must be a whole number from ${fallback} to ${MAX_SECONDS}, got ${JSON.stringify(value)}`);
  }
  return value;
}

function hostAndPort(action: Json, path: string, fail: (message: string) => never): { host: string | undefined; port: number | undefined } {
  const host = action['host'];
  if (host !== undefined && host !== null && typeof host !== 'string') fail(`${path}.host must be a string, got ${JSON.stringify(host)}`);
  const port = action['port'];
  const number = typeof port === 'number' ? port : typeof port === 'string' && /^\d{1,5}$/.test(port) ? Number(port) : NaN;
  if (port !== undefined && port !== null && !(Number.isInteger(number) && number >= 0 && number <= 65535)) {
    fail(`${path}.port must be a port number from 0 to 65535 (0: the app's port; named ports cannot be resolved here), got ${JSON.stringify(port)}`);
  }
  return { host: host === '' || host === null ? undefined : host, port: number > 0 ? number : undefined };
}

function httpGet(action: Json, fail: (message: string) => never): HttpGetAction {
  const scheme = action['scheme'];
  if (scheme !== undefined && scheme !== null && scheme !== 'HTTP') {
    fail(`httpGet.scheme must be HTTP (HTTPS probes are not supported), got ${JSON.stringify(scheme)}`);
  }
  const path = action['path'] ?? '';
  if (typeof path !== 'string' || !VISIBLE.test(path)) fail(`httpGet.path must be a string of visible ASCII characters, got ${JSON.stringify(path)}`);
  const list = action['httpHeaders'] ?? [];
  if (!Array.isArray(list)) fail(`httpGet.httpHeaders must be a list of {"name", "value"} objects, got ${JSON.stringify(list)}`);
  const headers = (list as unknown[]).map((entry, i): [string, string] => {
    const { name, value } = object(entry, `httpGet.httpHeaders[${i}]`, fail);
    if (typeof name !== 'string' || !TOKEN.test(name)) fail(`httpGet.httpHeaders[${i}].name must be a header name, got ${JSON.stringify(name)}`);
    if (typeof value !== 'string' || LINE_BREAK_OR_NUL.test(value)) {
      fail(`httpGet.httpHeaders[${i}].value must be a string without line breaks, got ${JSON.stringify(value)}`);
    }
    return [name, value];
  });
  // Knative joins "/" and the path less one leading slash, so "healthz" and "/healthz" are the same target.
  return { kind: 'httpGet', ...hostAndPort(action, 'httpGet', fail), path: `/${path.replace(/^\//, '')}`, headers };
}

function tcpSocket(action: Json, fail: (message: string) => never): TcpSocketAction {
  return { kind: 'tcpSocket', ...hostAndPort(action, 'tcpSocket', fail) };
}

/**
 * Kubernetes' GRPCAction: `port` is a plain int32 there (no named ports, no
 * strings), and an absent `service` is sent as `''`, as Knative's GRPCProbe does
 * (knative/serving `pkg/queue/health/probe.go`).
 */
function grpc(action: Json, fail: (message: string) => never): GrpcAction {
  const port = action['port'] ?? 0;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) {
    fail(`grpc.port must be a whole number from 0 to 65535 (0: the app's port), got ${JSON.stringify(port)}`);
  }
  const service = action['service'] ?? '';
  if (typeof service !== 'string') fail(`grpc.service must be a string, got ${JSON.stringify(service)}`);
  return { kind: 'grpc', port: port > 0 ? port : undefined, service };
}

/** The parser of each action a probe may hold, by its JSON key. */
const ACTIONS = { httpGet, tcpSocket, grpc } as const;
