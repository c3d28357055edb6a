import type { IncomingMessage } from 'node:http';
import type { OutgoingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { firstRawHeaderValue } from '../../core/raw-headers.js';
import type { RequestSpan, TracedRequest } from '../../core/request-tracer.js';

/** A request as a tracer reads it, over Node's raw header list (HTTP/2 pseudo-headers included). Built only when tracing is on. */
class RawTracedRequest implements TracedRequest {
  readonly authority: string | undefined;

  constructor(
    readonly scheme: string,
    readonly method: string,
    readonly target: string,
    readonly protocolVersion: string,
    readonly clientAddress: string | undefined,
    readonly clientPort: number | undefined,
    private readonly rawHeaders: readonly string[],
  ) {
    this.authority = firstRawHeaderValue(rawHeaders, ':authority') ?? firstRawHeaderValue(rawHeaders, 'host');
  }

  header(lowerName: string): string | undefined {
    return firstRawHeaderValue(this.rawHeaders, lowerName);
  }
}

/** The scheme of a request that came over `socket`: a TLS socket says `encrypted` (Node's `tls.TLSSocket`, `Http2Session`). */
function schemeOf(socket: { encrypted?: boolean } | null | undefined): string {
  return socket?.encrypted === true ? 'https' : 'http';
}

/** An HTTP/1.1 request (or an HTTP/2 one through Node's compatibility API) as a tracer reads it. */
export function tracedMessage(request: IncomingMessage): TracedRequest {
  const socket = request.socket as (IncomingMessage['socket'] & { encrypted?: boolean }) | null;
  return new RawTracedRequest(
    schemeOf(socket),
    request.method ?? 'GET',
    request.url ?? '/',
    request.httpVersion === '2.0' ? '2' : request.httpVersion,
    socket?.remoteAddress,
    socket?.remotePort,
    request.rawHeaders,
  );
}

/** An HTTP/2 stream, with its raw header list, as a tracer reads it. */
export function tracedStream(stream: ServerHttp2Stream, rawHeaders: readonly string[]): TracedRequest {
  const session = stream.session;
  const socket = session?.socket;
  return new RawTracedRequest(
    schemeOf(session),
    firstRawHeaderValue(rawHeaders, ':method') ?? 'GET',
    firstRawHeaderValue(rawHeaders, ':path') ?? '/',
    '2',
    socket?.remoteAddress,
    socket?.remotePort,
    rawHeaders,
  );
}

/**
 * The flat `name, value, ...` headers of a request to the app with the span's
 * trace context in place of the client's: the app's spans then nest under the
 * sidecar's. Without a span, `headers` as they are.
 */
export function withSpanHeaders(headers: string[], span: RequestSpan | undefined): string[] {
  if (span === undefined) return headers;
  const replaced = span.replacedHeaders;
  const result: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    if (!replaced.has(name.toLowerCase())) result.push(name, headers[i + 1]!);
  }
  result.push(...span.upstreamHeaders);
  return result;
}

/** The same for the header object of an h2c stream to the app (names in lower case). */
export function setSpanHeaders(headers: OutgoingHttpHeaders, span: RequestSpan | undefined): void {
  if (span === undefined) return;
  for (const name of span.replacedHeaders) delete headers[name];
  const added = span.upstreamHeaders;
  for (let i = 0; i < added.length; i += 2) headers[added[i]!] = added[i + 1]!;
}
