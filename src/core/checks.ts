/**
 * The checks every option goes through, shared by the library's components
 * and the CLI so that both accept exactly the same values. Each throws a
 * {@link ConfigError} naming `field`: an options key in the library, a flag
 * or environment variable in the CLI. `given` is how the rejected value is
 * shown in the message; the CLI passes the text it was given (and what that
 * came to), the library leaves the default.
 */
import { MAX_TIMER_MS, TLS12_CIPHER_SUITES, TLS13_CIPHER_SUITES, TLS_CURVES } from './defaults.js';
import { ConfigError } from './errors.js';

function requireNumber(field: string, value: unknown, accepts: (n: number) => boolean, expected: string, given: string | undefined): number {
  if (typeof value !== 'number' || !accepts(value)) {
    throw new ConfigError(field, `${field} must be ${expected}, got ${given ?? String(value)}`);
  }
  return value;
}

/**
 * Checks a TCP port number: an integer from 0 to 65535 (0 asks the system
 * for a free port).
 *
 * @throws ConfigError `<field> must be an integer from 0 to 65535, got <given>`
 */
export function requirePort(field: string, value: unknown, given?: string): number {
  return requireNumber(field, value, (n) => Number.isInteger(n) && n >= 0 && n <= 65535, 'an integer from 0 to 65535', given);
}

/**
 * Parses a port given as text, by a flag or an environment variable: 1 to
 * 65535 in decimal digits (a port to connect to, or one that others must
 * find where they are told nothing else).
 *
 * @throws ConfigError `<field> must be a port from 1 to 65535, got "<text>"`
 */
export function parsePortText(field: string, text: string): number {
  return parseDecimalPort(field, text, 1);
}

/**
 * Parses a port to listen on given as text: 0 to 65535 in decimal digits,
 * where 0 asks the system for a free port (the CLI prints the one it got in
 * its start-up line, which is how tests and local runs find it).
 *
 * @throws ConfigError `<field> must be a port from 0 to 65535, got "<text>"`
 */
export function parseListenPortText(field: string, text: string): number {
  return parseDecimalPort(field, text, 0);
}

function parseDecimalPort(field: string, text: string, lowest: 0 | 1): number {
  const n = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(n >= lowest && n <= 65535)) throw new ConfigError(field, `${field} must be a port from ${lowest} to 65535, got "${text}"`);
  return n;
}

/**
 * Checks a positive safe integer: a count, or a duration in whole
 * milliseconds that Node's servers take (one that becomes a timer goes
 * through {@link requireTimeoutMs}).
 *
 * @throws ConfigError `<field> must be a positive integer, got <given>`
 */
export function requirePositiveInteger(field: string, value: unknown, given?: string): number {
  return requireNumber(field, value, (n) => Number.isSafeInteger(n) && n >= 1, 'a positive integer', given);
}

/**
 * Checks a safe integer >= 0, such as a concurrency limit (0: none).
 *
 * @throws ConfigError `<field> must be an integer >= 0, got <given>`
 */
export function requireNonNegativeInteger(field: string, value: unknown, given?: string): number {
  return requireNumber(field, value, (n) => Number.isSafeInteger(n) && n >= 0, 'an integer >= 0', given);
}

/**
 * Checks a finite number > 0, such as a reporting period in milliseconds
 * (fractions allowed).
 *
 * @throws ConfigError `<field> must be a finite number > 0, got <given>`
 */
function requirePositiveNumber(field: string, value: unknown, given?: string): number {
  return requireNumber(field, value, (n) => Number.isFinite(n) && n > 0, 'a finite number > 0', given);
}

/**
 * Checks a finite number >= 0, such as a drain timeout in milliseconds
 * (0: do not wait).
 *
 * @throws ConfigError `<field> must be a finite number >= 0, got <given>`
 */
function requireNonNegativeNumber(field: string, value: unknown, given?: string): number {
  return requireNumber(field, value, (n) => Number.isFinite(n) && n >= 0, 'a finite number >= 0', given);
}

/**
 * Runs `check` on a duration in milliseconds that becomes a Node timer, after
 * rejecting one longer than {@link MAX_TIMER_MS}, which Node would fire after 1 ms.
 */
function requireTimerMs(check: (field: string, value: unknown, given?: string) => number, field: string, value: unknown, given: string | undefined): number {
  if (typeof value === 'number' && Number.isFinite(value) && value > MAX_TIMER_MS) {
    throw new ConfigError(field, `${field} must be at most ${MAX_TIMER_MS} ms (the longest delay Node's timers take), got ${given ?? String(value)}`);
  }
  return check(field, value, given);
}

/**
 * Checks a timeout in whole milliseconds that becomes a Node timer, such as
 * the proxy's `timeoutMs`: an integer from 1 to {@link MAX_TIMER_MS}.
 *
 * @throws ConfigError `<field> must be at most 2147483647 ms (the longest delay Node's timers take), got <given>`,
 *   or as {@link requirePositiveInteger}
 */
export function requireTimeoutMs(field: string, value: unknown, given?: string): number {
  return requireTimerMs(requirePositiveInteger, field, value, given);
}

/**
 * Checks a timeout in whole milliseconds that may be off, such as the
 * proxy's `idleTimeoutMs`: 0 (off) or an integer from 1 to {@link MAX_TIMER_MS}.
 *
 * @throws ConfigError `<field> must be at most 2147483647 ms (the longest delay Node's timers take), got <given>`,
 *   or as {@link requireNonNegativeInteger}
 */
export function requireTimeoutMsOrOff(field: string, value: unknown, given?: string): number {
  return requireTimerMs(requireNonNegativeInteger, field, value, given);
}

/**
 * Checks a period in milliseconds that becomes a Node interval, such as
 * `reportingPeriodMs`: a number > 0 (fractions allowed) and at most {@link MAX_TIMER_MS}.
 *
 * @throws ConfigError `<field> must be at most 2147483647 ms (the longest delay Node's timers take), got <given>`,
 *   or as {@link requirePositiveNumber}
 */
export function requirePeriodMs(field: string, value: unknown, given?: string): number {
  return requireTimerMs(requirePositiveNumber, field, value, given);
}

/**
 * Checks how long to wait, in milliseconds, before a Node timer gives up,
 * such as a drain timeout: from 0 (do not wait) to {@link MAX_TIMER_MS}.
 *
 * @throws ConfigError `<field> must be at most 2147483647 ms (the longest delay Node's timers take), got <given>`,
 *   or as {@link requireNonNegativeNumber}
 */
export function requireWaitMs(field: string, value: unknown, given?: string): number {
  return requireTimerMs(requireNonNegativeNumber, field, value, given);
}

/**
 * Checks a name that must be a non-empty string, such as a Knative name.
 *
 * @throws ConfigError `<field> must not be empty` for an empty string or a value that is not a string
 */
export function requireNonEmpty(field: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') throw new ConfigError(field, `${field} must not be empty`);
  return value;
}

/**
 * What a URL option may hold: `origin`, an `http://` scheme, host and port
 * and nothing else (the proxy's upstream: it forwards each request's own
 * target and cannot send credentials); `endpoint`, any `http://` or
 * `https://` URL (an OTLP endpoint).
 */
export type UrlKind = 'origin' | 'endpoint';

/**
 * Parses and checks a URL option.
 *
 * @param given - how the value is shown in messages. Default: in double quotes.
 * @throws ConfigError naming `field` when `value` is not a URL of `kind`'s
 *   scheme, or, for an `origin`, carries credentials (not echoed in the
 *   message), a path other than `/`, a query or a fragment
 */
export function requireHttpUrl(field: string, value: unknown, kind: UrlKind, given = `"${String(value)}"`): URL {
  const url = typeof value === 'string' && URL.canParse(value) ? new URL(value) : undefined;
  if (kind === 'endpoint') {
    if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      throw new ConfigError(field, `${field} must be an http or https URL, got ${given}`);
    }
    return url;
  }
  if (url === undefined || url.protocol !== 'http:') throw new ConfigError(field, `${field} must be an http:// URL, got ${given}`);
  if (url.username !== '' || url.password !== '') {
    throw new ConfigError(field, `${field} must not contain credentials (user:password@): the proxy does not send them`);
  }
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '') {
    throw new ConfigError(field, `${field} must have no path, query or fragment (each request keeps its own), got ${given}`);
  }
  return url;
}

/**
 * How the proxy speaks to the app: `auto` sends HTTP/2 requests over h2c and
 * HTTP/1.1 ones over HTTP/1.1 (Knative's queue-proxy); `http1` sends every
 * request over HTTP/1.1 (an app that speaks only HTTP/1.1); `h2c` sends every
 * request over h2c (an app that speaks only HTTP/2), HTTP/1.1 upgrades aside.
 */
export type UpstreamProtocol = 'auto' | 'http1' | 'h2c';

/**
 * Checks an upstream protocol.
 *
 * @throws ConfigError `<field> must be auto, http1 or h2c, got <given>`
 */
export function requireUpstreamProtocol(field: string, value: unknown, given = `"${String(value)}"`): UpstreamProtocol {
  if (value === 'auto' || value === 'http1' || value === 'h2c') return value;
  throw new ConfigError(field, `${field} must be auto, http1 or h2c, got ${given}`);
}

/** A TLS protocol version as Knative's `QUEUE_PROXY_TLS_MIN_VERSION` and `QUEUE_PROXY_TLS_MAX_VERSION` spell it. */
export type TlsVersion = '1.2' | '1.3';

/**
 * Checks a TLS version: `1.2` or `1.3` (older ones are refused: OpenSSL 3's
 * default security level no longer negotiates them).
 *
 * @throws ConfigError `<field> must be 1.2 or 1.3, got <given>`
 */
export function requireTlsVersion(field: string, value: unknown, given = `"${String(value)}"`): TlsVersion {
  if (value === '1.2' || value === '1.3') return value;
  throw new ConfigError(field, `${field} must be 1.2 or 1.3, got ${given}`);
}

/** A cipher suite by its Go name (`tls.CipherSuiteName`), as knative/pkg reads `QUEUE_PROXY_TLS_CIPHER_SUITES`. */
export type TlsCipherSuite = keyof typeof TLS12_CIPHER_SUITES | (typeof TLS13_CIPHER_SUITES)[number];

/** A key-exchange group by a name knative/pkg reads in `QUEUE_PROXY_TLS_CURVE_PREFERENCES`: Go's constant name or the standard one. */
export type TlsCurve = keyof typeof TLS_CURVES;

/** The names of a comma-separated list as knative/pkg splits it: each trimmed, empty ones skipped. */
function listNames(text: string): string[] {
  return text
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
}

function requireNameList(field: string, value: unknown, what: string): readonly unknown[] {
  if (!Array.isArray(value)) throw new ConfigError(field, `${field} must be an array of ${what} names`);
  return value as readonly unknown[];
}

function isCipherSuite(name: unknown): name is TlsCipherSuite {
  return typeof name === 'string' && (Object.hasOwn(TLS12_CIPHER_SUITES, name) || (TLS13_CIPHER_SUITES as readonly string[]).includes(name));
}

/**
 * Checks a list of cipher suites by Go's names: those of Go's
 * `tls.CipherSuites()`, the TLS 1.3 ones included (which change nothing, as in
 * Go). An empty list is valid: TLS 1.2 then offers no suite.
 *
 * @throws ConfigError `<field> must be an array of cipher suite names`, or
 *   `<field>: unknown cipher suite "<name>" (...)`
 */
export function requireCipherSuites(field: string, value: unknown): TlsCipherSuite[] {
  return requireNameList(field, value, 'cipher suite').map((name) => {
    if (isCipherSuite(name)) return name;
    throw new ConfigError(field, `${field}: unknown cipher suite "${String(name)}" (Go's crypto/tls names, such as TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)`);
  });
}

/**
 * Parses a comma-separated list of cipher suites by Go's names, as knative/pkg
 * reads `QUEUE_PROXY_TLS_CIPHER_SUITES`: blanks around names and empty entries
 * are skipped.
 *
 * @throws ConfigError as {@link requireCipherSuites}
 */
export function parseCipherSuites(field: string, text: string): TlsCipherSuite[] {
  return requireCipherSuites(field, listNames(text));
}

/**
 * Checks a list of key-exchange groups by the names knative/pkg accepts (Go's
 * `CurveP256`, `CurveP384`, `CurveP521`, `X25519`, `X25519MLKEM768`, and
 * `P-256`, `P-384`, `P-521`). An empty list is valid: Node's default groups,
 * as Go's. Whether the running Node's OpenSSL supports each is the TLS side's
 * check (`openSslGroups` in `proxy/tls/openssl-groups.ts`), so that this
 * module loads no `node:tls`.
 *
 * @throws ConfigError `<field> must be an array of curve names`, or
 *   `<field>: unknown curve "<name>" (...)`
 */
export function requireCurvePreferences(field: string, value: unknown): TlsCurve[] {
  return requireNameList(field, value, 'curve').map((name) => {
    if (typeof name !== 'string' || !Object.hasOwn(TLS_CURVES, name)) {
      throw new ConfigError(field, `${field}: unknown curve "${String(name)}" (one of ${Object.keys(TLS_CURVES).join(', ')})`);
    }
    return name as TlsCurve;
  });
}

/**
 * Parses a comma-separated list of key-exchange groups, as knative/pkg reads
 * `QUEUE_PROXY_TLS_CURVE_PREFERENCES`: blanks around names and empty entries
 * are skipped.
 *
 * @throws ConfigError as {@link requireCurvePreferences}
 */
export function parseCurvePreferences(field: string, text: string): TlsCurve[] {
  return requireCurvePreferences(field, listNames(text));
}

/**
 * Checks that a cipher-suite list leaves a handshake possible: with TLS 1.3
 * off (`maxVersion` 1.2), it must name a TLS 1.2 suite.
 *
 * @param maxVersionField - the option, flag or variable that gave `maxVersion`, for the message
 * @throws ConfigError `<field> names no TLS 1.2 cipher suite and <maxVersionField> is 1.2: no handshake could succeed`
 */
export function requireTls12Suite(field: string, suites: readonly TlsCipherSuite[], maxVersionField: string, maxVersion: TlsVersion | undefined): void {
  if (maxVersion === '1.2' && !suites.some((suite) => Object.hasOwn(TLS12_CIPHER_SUITES, suite))) {
    throw new ConfigError(field, `${field} names no TLS 1.2 cipher suite and ${maxVersionField} is 1.2: no handshake could succeed`);
  }
}
