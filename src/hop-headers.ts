import type { IncomingMessage } from 'node:http';

/**
 * Hop-by-hop headers (RFC 9110 section 7.6.1, plus the legacy `Keep-Alive`
 * and `Proxy-Connection`): they describe one connection, so a proxy must not
 * pass them on. Lower case.
 */
const HOP_BY_HOP_HEADERS: ReadonlySet<string> = new Set([
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
function connectionOptions(connection: string | undefined): string[] | undefined {
  if (connection === undefined) return undefined;
  const value = connection.toLowerCase();
  if (value === 'keep-alive' || value === 'close') return undefined;
  return value.split(',').map((token) => token.trim());
}

/**
 * The value of a header read from a flat name, value, name, value... list
 * such as Node's `rawHeaders`, repeated lines joined with `, `; `undefined`
 * when absent. Reading `request.headers` instead would make Node build the
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
 * Whether a header, by its lower-case name, stays on this hop: a hop-by-hop
 * header, or one named in the message's `Connection` header (`named`).
 */
function staysOnThisHop(lower: string, named: string[] | undefined): boolean {
  return HOP_BY_HOP_HEADERS.has(lower) || (named !== undefined && named.includes(lower));
}

/**
 * The request head a client's request carries to the upstream, built in one
 * pass over Node's `rawHeaders` (names keep their case, repeated headers
 * stay repeated). Drops hop-by-hop headers, those named in `Connection`, and
 * `Expect` (Node's server has already answered `100-continue`). Appends the
 * client to `X-Forwarded-For` (merging repeated ones), sets
 * `X-Forwarded-Proto: http`, and adds `Host` if the client sent none
 * (HTTP/1.0).
 *
 * @param request - the client's request as Node parsed it
 * @param host - the `Host` to send when the client gave none, e.g. `127.0.0.1:8080`
 * @param framing - header lines of this hop, each ending in CRLF, e.g. `connection: keep-alive\r\n`
 * @returns the request line and header lines, ending with the empty line, as latin1 text
 */
export function upstreamRequestHead(request: IncomingMessage, host: string, framing: string): string {
  const rawHeaders = request.rawHeaders;
  const named = connectionOptions(rawHeaderValue(rawHeaders, 'connection'));
  let head = `${request.method ?? 'GET'} ${request.url ?? '/'} HTTP/1.1\r\n`;
  let forwardedFor: string | undefined;
  let hasHost = false;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    const lower = name.toLowerCase();
    if (staysOnThisHop(lower, named) || lower === 'expect' || lower === 'x-forwarded-proto') continue;
    const value = rawHeaders[i + 1]!;
    if (lower === 'x-forwarded-for') {
      forwardedFor = forwardedFor === undefined ? value : `${forwardedFor}, ${value}`;
      continue;
    }
    if (lower === 'host') hasHost = true;
    head += `${name}: ${value}\r\n`;
  }
  const client = forwardedAddress(request.socket.remoteAddress);
  if (!hasHost) head += `host: ${host}\r\n`;
  return `${head}x-forwarded-for: ${forwardedFor === undefined ? client : `${forwardedFor}, ${client}`}\r\nx-forwarded-proto: http\r\n${framing}\r\n`;
}

/**
 * An upstream response's headers (flat name, value... as read) without the
 * hop-by-hop ones and those named in its `Connection` header; Node's server
 * adds its own framing (`Transfer-Encoding`, `Connection`, `Keep-Alive`).
 *
 * @returns a flat name, value... list, as `writeHead` takes it
 */
export function downstreamResponseHeaders(headers: readonly string[]): string[] {
  const named = connectionOptions(rawHeaderValue(headers, 'connection'));
  const result: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    if (!staysOnThisHop(name.toLowerCase(), named)) result.push(name, headers[i + 1]!);
  }
  return result;
}
