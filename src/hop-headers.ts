import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

/**
 * Hop-by-hop headers (RFC 9110 section 7.6.1, plus the legacy `Keep-Alive`
 * and `Proxy-Connection`): they describe one connection, so a proxy must not
 * pass them on. Lower case, as Node and undici spell parsed header names.
 */
export const HOP_BY_HOP_HEADERS: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy-authorization',
  'proxy-authenticate',
]);

/**
 * Lower-case header names listed in a `Connection` header, which RFC 9110
 * makes hop-by-hop too. `undefined` for the usual `keep-alive`/`close`
 * values, so the common case allocates nothing.
 */
function connectionOptions(connection: string | string[] | undefined): string[] | undefined {
  if (connection === undefined) return undefined;
  const value = (typeof connection === 'string' ? connection : connection.join(',')).toLowerCase();
  if (value === 'keep-alive' || value === 'close') return undefined;
  return value.split(',').map((token) => token.trim());
}

/**
 * The value of a request header read from Node's `rawHeaders` (name,
 * value, name, value...), repeated lines joined with `, `; `undefined` when
 * absent. Reading `request.headers` instead would make Node build the
 * parsed header object of every request.
 *
 * @param lowerName - the header name in lower case
 */
export function rawHeaderValue(rawHeaders: readonly string[], lowerName: string): string | undefined {
  let value: string | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    // Comparing lengths first skips lower-casing (and allocating) almost every name.
    if (name.length !== lowerName.length || name.toLowerCase() !== lowerName) continue;
    value = value === undefined ? rawHeaders[i + 1]! : `${value}, ${rawHeaders[i + 1]!}`;
  }
  return value;
}

/** The client's address as `X-Forwarded-For` shows it: IPv4-mapped IPv6 addresses in their IPv4 form. */
function forwardedAddress(address: string | undefined): string {
  if (address === undefined) return 'unknown';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/**
 * Builds the headers a request carries to the upstream, in one pass over
 * Node's `rawHeaders` (names keep their case, repeated headers stay
 * repeated). Drops hop-by-hop headers, those named in `Connection`, and
 * `Expect` (Node's server has already answered `100-continue`, and undici
 * refuses the header). Appends the client to `X-Forwarded-For` (merging
 * repeated ones) and sets `X-Forwarded-Proto: http`.
 *
 * @param rawHeaders - the request's `rawHeaders`: name, value, name, value...
 * @param clientAddress - the client socket's `remoteAddress`
 * @returns a flat name, value, name, value... list, as undici takes it
 */
export function upstreamRequestHeaders(
  rawHeaders: readonly string[],
  clientAddress: string | undefined,
): string[] {
  const named = connectionOptions(rawHeaderValue(rawHeaders, 'connection'));
  const headers: string[] = [];
  let forwardedFor: string | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP_HEADERS.has(lower) || lower === 'expect' || lower === 'x-forwarded-proto') continue;
    if (named !== undefined && named.includes(lower)) continue;
    const value = rawHeaders[i + 1]!;
    if (lower === 'x-forwarded-for') {
      forwardedFor = forwardedFor === undefined ? value : `${forwardedFor}, ${value}`;
      continue;
    }
    headers.push(name, value);
  }
  const client = forwardedAddress(clientAddress);
  headers.push(
    'x-forwarded-for',
    forwardedFor === undefined ? client : `${forwardedFor}, ${client}`,
    'x-forwarded-proto',
    'http',
  );
  return headers;
}

/**
 * Copies an upstream response's parsed headers without the hop-by-hop ones
 * and those named in its `Connection` header; Node's server adds its own
 * framing (`Transfer-Encoding`, `Connection`, `Keep-Alive`).
 */
export function downstreamResponseHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const named = connectionOptions(headers.connection);
  const result: OutgoingHttpHeaders = {};
  for (const name in headers) {
    if (HOP_BY_HOP_HEADERS.has(name) || (named !== undefined && named.includes(name))) continue;
    result[name] = headers[name];
  }
  return result;
}
