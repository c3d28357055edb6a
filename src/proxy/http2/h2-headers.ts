import type { OutgoingHttpHeaders } from 'node:http2';
import { firstRawHeaderValue } from '../../core/raw-headers.js';
import { forwardedFromXForwarded } from '../contract/forwarded-header.js';
import { forwardedAddress, ORIGINAL_HOST_HEADER } from '../contract/hop-headers.js';

/**
 * Request fields of an HTTP/2 stream that never pass to the app as the
 * client wrote them. nghttp2 has already refused the connection-specific
 * ones (`Connection`, `Keep-Alive`, `Transfer-Encoding`, `Upgrade`, and `TE`
 * other than `trailers`) with a protocol error, so only these remain:
 * `:scheme` (Node's client sets its own, `http`), the proxy headers that
 * describe one hop, `Expect` (nothing to continue over HTTP/2),
 * `X-Forwarded-Proto` (the sidecar's own) and the activator's
 * `Knative-Serving-Revision` and `-Namespace`, as on the HTTP/1.1 path.
 */
const REPLACED_STREAM_HEADERS: ReadonlySet<string> = new Set([
  ':scheme',
  'proxy-authorization',
  'proxy-authenticate',
  'expect',
  'x-forwarded-proto',
  'knative-serving-revision',
  'knative-serving-namespace',
]);

/** Adds one field line, keeping repeated names as a list (HTTP/2 may split `Cookie` over several). */
function append(headers: OutgoingHttpHeaders, name: string, value: string): void {
  const existing = headers[name];
  if (existing === undefined) headers[name] = value;
  else if (Array.isArray(existing)) existing.push(value);
  else headers[name] = [String(existing), value];
}

/**
 * The headers an HTTP/2 stream carries to the app over h2c, as the object
 * Node's `ClientHttp2Session.request` takes, built in one pass over the
 * stream's raw headers (HTTP/2 names are lower case; nghttp2 refuses others).
 * `:method`, `:path` and `:authority` pass as they came, so the app sees the
 * client's authority, as Go's reverse proxy in Knative's queue-proxy keeps
 * the request's Host; `host` never passes: it becomes `:authority` when the
 * client sent none, and is dropped when it did (Go's server takes
 * `:authority` then, RFC 9113 section 8.3.1). `grpc-timeout` and `te: trailers` pass.
 *
 * The same contract as the HTTP/1.1 path's `upstreamRequestHeaders`: drops
 * {@link REPLACED_STREAM_HEADERS}; a non-empty first `K-Original-Host`
 * becomes `:authority` (with every `K-Original-Host` gone);
 * a blank or absent first `Forwarded` is built from `X-Forwarded-For`,
 * `-Host` and `-Proto` when they give one; the client's address is appended
 * to `X-Forwarded-For` and `X-Forwarded-Proto` is `http`, or `https` from the TLS port.
 *
 * @param rawHeaders - the stream's fields as a flat name, value... list (the 'stream' event's fourth argument)
 * @param clientAddress - the client connection's remote address
 * @param encrypted - whether the client's connection is TLS
 */
export function upstreamStreamHeaders(rawHeaders: readonly string[], clientAddress: string | undefined, encrypted = false): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {};
  let forwardedFor: string | undefined;
  let host: string | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    const value = rawHeaders[i + 1]!;
    if (name === 'x-forwarded-for') forwardedFor = forwardedFor === undefined ? value : `${forwardedFor}, ${value}`;
    else if (name === 'host') host ??= value;
    else if (!REPLACED_STREAM_HEADERS.has(name)) append(headers, name, value);
  }
  // One authority reaches the app, as from Go's server and transport in Knative's queue-proxy: `:authority` when the
  // client sent it (a `host` that disagrees loses, RFC 9113 section 8.3.1), else its first `host`.
  if (host !== undefined && headers[':authority'] === undefined) headers[':authority'] = host;
  // Knative reads these first lines before its reverse proxy drops any header.
  const originalHost = firstRawHeaderValue(rawHeaders, ORIGINAL_HOST_HEADER);
  if (originalHost !== undefined && originalHost !== '') {
    delete headers[ORIGINAL_HOST_HEADER];
    headers[':authority'] = originalHost;
  }
  const forwarded = firstRawHeaderValue(rawHeaders, 'forwarded');
  if (forwarded === undefined || forwarded.trim() === '') {
    const xForwarded = (name: string): string | undefined => firstRawHeaderValue(rawHeaders, name);
    const shim = forwardedFromXForwarded(xForwarded('x-forwarded-for'), xForwarded('x-forwarded-host'), xForwarded('x-forwarded-proto'));
    if (shim !== '') headers['forwarded'] = shim;
  }
  const client = forwardedAddress(clientAddress);
  headers['x-forwarded-for'] = forwardedFor === undefined ? client : `${forwardedFor}, ${client}`;
  headers['x-forwarded-proto'] = encrypted ? 'https' : 'http';
  return headers;
}
