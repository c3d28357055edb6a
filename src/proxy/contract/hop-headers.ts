import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { rawHeaderValue } from '../../core/raw-headers.js';
import { forwardedFromXForwarded } from './forwarded-header.js';

/**
 * Hop-by-hop headers (RFC 9110 section 7.6.1, plus the legacy `Keep-Alive`
 * and `Proxy-Connection`): they describe one connection, so a proxy must not
 * pass them on. Lower case.
 */
const HOP_BY_HOP_HEADERS: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'transfer-encoding', 'upgrade', 'proxy-authorization', 'proxy-authenticate']);

/**
 * Request headers that never pass as the client wrote them, whatever its
 * `Connection` header says. The body's framing (`Content-Length`,
 * `Transfer-Encoding`) is set from what Node's parser decided, never copied;
 * `Expect` was answered by Node's server already (and undici refuses it);
 * `Trailer` announces request trailers that undici cannot send;
 * `X-Forwarded-Proto` is the sidecar's own; `Knative-Serving-Revision` and
 * `Knative-Serving-Namespace` are the activator's, which Knative's
 * queue-proxy removes before the app (knative/serving `pkg/activator/activator.go`).
 * HTTP/1.1 requests never have the HTTP/2 pseudo-headers (`:` is not a token character).
 */
const REPLACED_REQUEST_HEADERS: ReadonlySet<string> = new Set([
  'content-length',
  'expect',
  'trailer',
  'x-forwarded-proto',
  'knative-serving-revision',
  'knative-serving-namespace',
  // An HTTP/2 request forwarded over HTTP/1.1 (`upstreamProtocol: 'http1'`): its pseudo-headers become the request line and Host.
  ':method',
  ':path',
  ':scheme',
  ':authority',
]);

/**
 * Where Knative's activator keeps a request's `Host` so that Istio's host
 * routing does not see it; the queue-proxy puts it back (knative/networking
 * `pkg/http/header`, RewriteHostOut).
 */
export const ORIGINAL_HOST_HEADER = 'k-original-host';

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

/** The client's address as `X-Forwarded-For` shows it: IPv4-mapped IPv6 addresses in their IPv4 form. */
export function forwardedAddress(address: string | undefined): string {
  if (address === undefined) return 'unknown';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/** Removes every `name` (lower case) field from a flat name, value... list. Rare: only on the paths below. */
function removeHeader(headers: string[], name: string): void {
  for (let i = headers.length - 2; i >= 0; i -= 2) {
    if (headers[i]!.toLowerCase() === name) headers.splice(i, 2);
  }
}

/**
 * The headers a client's request carries to the upstream, built in one pass
 * over Node's `rawHeaders` (names keep their case, repeated headers stay
 * repeated), as the flat name, value... list undici takes. Drops hop-by-hop
 * headers and those named in `Connection` (but never `Host`: it names the
 * resource, and Node's parser has read it), and the headers of
 * {@link REPLACED_REQUEST_HEADERS}. Appends the client to `X-Forwarded-For`
 * (merging repeated ones) and sets `X-Forwarded-Proto`: `http`, or `https`
 * when the client's connection is TLS (the TLS port).
 *
 * Knative's queue-proxy header contract, with Go's `Header.Get` meaning "the
 * first line": a non-empty first `K-Original-Host` becomes `Host` and every
 * `K-Original-Host` line goes (an empty one leaves both as they are); when the
 * first `Forwarded` line is absent or blank, a `Forwarded` built from the
 * client's `X-Forwarded-For`, `-Host` and `-Proto` ({@link forwardedFromXForwarded},
 * before this hop is appended) replaces the `Forwarded` lines, if it is not empty.
 *
 * @param request - the client's request as Node parsed it
 * @param contentLength - the body's length in bytes when it has a known one, from {@link upstreamBody}; undici frames the rest
 */
export function upstreamRequestHeaders(request: IncomingMessage, contentLength: string | undefined): string[] {
  const rawHeaders = request.rawHeaders;
  const named = connectionOptions(rawHeaderValue(rawHeaders, 'connection'));
  const headers: string[] = [];
  let forwardedFor: string | undefined;
  let firstForwardedFor: string | undefined;
  let forwardedHost: string | undefined;
  let forwardedProto: string | undefined;
  let forwarded: string | undefined;
  let originalHost: string | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    const lower = name.toLowerCase();
    const value = rawHeaders[i + 1]!;
    // Knative reads these before its reverse proxy drops any header, so they are noted before the checks below.
    if (lower === 'x-forwarded-for') firstForwardedFor ??= value;
    else if (lower === 'x-forwarded-host') forwardedHost ??= value;
    else if (lower === 'x-forwarded-proto') forwardedProto ??= value;
    else if (lower === 'forwarded') forwarded ??= value;
    else if (lower === ORIGINAL_HOST_HEADER) originalHost ??= value;
    if (HOP_BY_HOP_HEADERS.has(lower) || REPLACED_REQUEST_HEADERS.has(lower)) continue;
    if (named !== undefined && lower !== 'host' && named.includes(lower)) continue;
    if (lower === 'x-forwarded-for') {
      forwardedFor = forwardedFor === undefined ? value : `${forwardedFor}, ${value}`;
      continue;
    }
    headers.push(name, value);
  }
  // An HTTP/2 request has `:authority` where HTTP/1.1 has Host (Node's http2 client sends no Host). With both, the
  // authority wins, as in Go's server in Knative's queue-proxy (RFC 9113 section 8.3.1).
  if (request.httpVersionMajor === 2) {
    const authority = rawHeaderValue(rawHeaders, ':authority');
    if (authority !== undefined) {
      if (rawHeaderValue(rawHeaders, 'host') !== undefined) removeHeader(headers, 'host');
      headers.unshift('host', authority);
    }
  }
  if (originalHost !== undefined && originalHost !== '') {
    removeHeader(headers, ORIGINAL_HOST_HEADER);
    removeHeader(headers, 'host');
    headers.unshift('host', originalHost);
  }
  if (forwarded === undefined || forwarded.trim() === '') {
    const shim = forwardedFromXForwarded(firstForwardedFor, forwardedHost, forwardedProto);
    if (shim !== '') {
      if (forwarded !== undefined) removeHeader(headers, 'forwarded');
      headers.push('forwarded', shim);
    }
  }
  if (contentLength !== undefined) headers.push('content-length', contentLength);
  const client = forwardedAddress(request.socket.remoteAddress);
  // A TLS socket says so in `encrypted` (an HTTP/2 request's socket, through upstreamProtocol http1, too).
  const proto = (request.socket as { encrypted?: boolean } | null)?.encrypted === true ? 'https' : 'http';
  headers.push('x-forwarded-for', forwardedFor === undefined ? client : `${forwardedFor}, ${client}`, 'x-forwarded-proto', proto);
  return headers;
}

/**
 * An upstream response's headers, as undici parsed them, without the
 * hop-by-hop ones and those named in its `Connection` header: Node's
 * server adds its own framing (`Transfer-Encoding`, `Connection`,
 * `Keep-Alive`). Also used for response trailers.
 */
export function downstreamResponseHeaders(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const named = connectionOptions(headers.connection);
  const result: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || HOP_BY_HOP_HEADERS.has(name) || (named !== undefined && named.includes(name))) continue;
    result[name] = value;
  }
  return result;
}
