import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import { PassThrough, type Readable } from 'node:stream';

/** A client's request body as it goes upstream. */
export interface UpstreamBody {
  /** The body stream to send, or `null` when the request has none. */
  body: Readable | null;
  /** Its length in bytes as Node's parser framed it (`Content-Length`); `undefined` for none or a chunked body, which undici chunks again. */
  contentLength: string | undefined;
}

const NO_BODY: UpstreamBody = { body: null, contentLength: undefined };

/**
 * How the body of `request` travels upstream, decided only by what Node's
 * HTTP parser made of it: the framing headers are never read from the raw
 * header lines, which a `Connection` header can name and a filter can drop.
 *
 * Call it after the microtask queue of the `'request'` event has run: Node's
 * parser completes a message without a body in the same pass that emitted
 * the event, so a complete request with nothing buffered has no body, and
 * that common case needs no parsed header object. Otherwise Node's parsed
 * headers tell a chunked body (Node has removed the chunking) from one of
 * known length; Node answered 400 to a request that had both, or a repeated
 * or malformed `Content-Length`.
 */
export function upstreamBody(request: IncomingMessage): UpstreamBody {
  if (request.complete && request.readableLength === 0) return NO_BODY;
  if (request.httpVersionMajor === 2) return streamBody(request as unknown as Http2ServerRequest);
  const headers = request.headers;
  if (headers['transfer-encoding'] !== undefined) return { body: detachable(request), contentLength: undefined };
  const length = headers['content-length'];
  if (length === undefined || length === '0') return NO_BODY;
  return { body: detachable(request), contentLength: length };
}

/**
 * The body of an HTTP/2 request forwarded over HTTP/1.1 (`upstreamProtocol:
 * 'http1'`), read through Node's compatibility API: none when the HEADERS
 * frame ended the stream; else its `Content-Length` when the client sent one
 * (nghttp2 checks it against the DATA frames), else undici chunks it.
 */
function streamBody(request: Http2ServerRequest): UpstreamBody {
  if (request.stream.endAfterHeaders) return NO_BODY;
  const length = request.headers['content-length'];
  if (length === '0') return NO_BODY;
  return { body: detachable(request as unknown as IncomingMessage), contentLength: length };
}

/**
 * The request's body through a stream of its own, with backpressure. undici
 * destroys the body it was given when the upstream request fails; destroying
 * Node's request would reset the client's connection before it got its 502.
 * Destroying this stream instead lets Node read and discard the rest of the
 * body, so the client gets its answer and its next request is parsed.
 */
function detachable(request: IncomingMessage): Readable {
  const body = new PassThrough();
  request.pipe(body);
  body.once('close', () => {
    if (request.readableEnded) return;
    request.unpipe(body);
    request.resume();
  });
  return body;
}
