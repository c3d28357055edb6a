import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { constants, type ClientHttp2Stream, type IncomingHttpStatusHeader, type OutgoingHttpHeaders } from 'node:http2';
import { diag } from '@opentelemetry/api';
import { countBodyBytes } from '../../http/body-bytes.js';
import { failResponse, failStalledBody, type ExchangeContext } from './exchange.js';
import type { H2cUpstream } from '../upstream/h2c-upstream.js';
import { downstreamResponseHeaders, upstreamRequestHeaders } from '../contract/hop-headers.js';
import { Http1Exchange } from './http1-exchange.js';
import { upstreamBody } from './request-body.js';
import type { RequestSpan } from '../../core/request-tracer.js';
import { withSpanHeaders } from '../contract/trace-context.js';

const ignore = (): void => {};

/** The HTTP/1.1 request's forwarded headers (see `upstreamRequestHeaders`), with `span`'s trace context, as the fields of an h2c stream. */
function streamHeaders(request: IncomingMessage, contentLength: string | undefined, span: RequestSpan | undefined): OutgoingHttpHeaders {
  const flat = withSpanHeaders(upstreamRequestHeaders(request, contentLength), span);
  const headers: OutgoingHttpHeaders = { ':method': request.method ?? 'GET', ':path': request.url ?? '/' };
  for (let i = 0; i < flat.length; i += 2) {
    const name = flat[i]!.toLowerCase();
    const value = flat[i + 1]!;
    // The connection-specific fields HTTP/2 forbids (RFC 9113 section 8.2.2) are hop-by-hop, dropped already; Host
    // becomes `:authority`.
    if (name === 'host') headers[':authority'] ??= value;
    else {
      const existing = headers[name];
      headers[name] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [String(existing), value];
    }
  }
  return headers;
}

/** An h2c response head as the head of an HTTP/1.1 response: pseudo-headers out, hop-by-hop ones too. */
function responseHeaders(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const result = downstreamResponseHeaders(headers);
  for (const name in result) if (name.startsWith(':')) delete result[name];
  return result;
}

/**
 * One HTTP/1.1 request sent to the app as an h2c stream (`upstreamProtocol:
 * 'h2c'`, for an app that speaks only HTTP/2), its answer written back as an
 * HTTP/1.1 response. Node parses both sides: the client's request through
 * its HTTP/1.1 server, the app's stream through nghttp2. The body is piped
 * with backpressure both ways; the app's trailers follow the body when the
 * response is chunked. The same rules as the HTTP/1.1 exchange through
 * {@link Http1Exchange}: the breaker (503 when its queue is full), the
 * revision timeouts (504 before the head; after it a chunked response ends
 * with the timeout text and any other is cut short), 502 when the app is unreachable or fails before the head, and a
 * client that leaves resets the app's stream with CANCEL.
 */
export class H1ToH2cExchange extends Http1Exchange {
  private upstream: ClientHttp2Stream | undefined;
  private settled = false;
  private timedOut = false;
  private trailers: IncomingHttpHeaders | undefined;

  protected readonly dispatch = (): void => {
    if (this.settled) return;
    const request = this.request;
    const { body, contentLength } = upstreamBody(request);
    const upstream = this.h2c.request(streamHeaders(request, contentLength, this.span), body === null);
    if (upstream === undefined) {
      this.fail();
      return;
    }
    this.upstream = upstream;
    if (!this.kubeletProbe) this.context.requestTimer?.start(request, this.response);
    upstream.on('error', ignore);
    upstream.on('response', this.onResponse);
    upstream.on('trailers', this.onTrailers);
    upstream.on('end', this.onUpstreamEnd);
    upstream.once('close', this.onUpstreamClose);
    if (body !== null) {
      this.watchBody(request, this.context.requestBodyIdleMs, this.onBodyStall);
      body.pipe(upstream);
    }
  };

  private readonly onBodyStall = (): void => {
    this.settle();
    this.upstream?.close(constants.NGHTTP2_CANCEL);
    failStalledBody(this.response);
  };

  private readonly onResponse = (headers: IncomingHttpHeaders & IncomingHttpStatusHeader): void => {
    const status = headers[':status'] ?? 0;
    // Interim answers (100, 103) have no meaning past this hop: Node's server answered `Expect` itself.
    if (this.settled || status < 200) return;
    this.wrote();
    try {
      this.response.writeHead(status, responseHeaders(headers));
    } catch (error) {
      diag.debug(`proxy: h2c response head refused: ${(error as Error).message}`);
      this.upstream?.close(constants.NGHTTP2_CANCEL);
      this.fail();
      return;
    }
    this.upstream!.pipe(this.response, { end: false });
    this.upstream!.on('data', this.onResponseData);
  };

  private readonly onResponseData = (chunk: Buffer): void => {
    countBodyBytes(this.response, chunk.length);
  };

  private readonly onTrailers = (trailers: IncomingHttpHeaders): void => {
    this.trailers = trailers;
  };

  private readonly onUpstreamEnd = (): void => {
    if (this.settled) return;
    this.settle();
    const response = this.response;
    if (response.destroyed) return;
    if (this.trailers !== undefined) {
      try {
        response.addTrailers(downstreamResponseHeaders(this.trailers));
      } catch (error) {
        diag.debug(`proxy: upstream trailers dropped: ${(error as Error).message}`);
      }
    }
    response.end();
  };

  /** The app's stream closed: ended (handled at 'end'), reset, or failed. */
  private readonly onUpstreamClose = (): void => {
    if (this.settled) return;
    const code = this.upstream!.rstCode ?? constants.NGHTTP2_NO_ERROR;
    // A stream that ended cleanly closes once its body was read through the pipe: 'end' finishes the response.
    if (code === constants.NGHTTP2_NO_ERROR && this.response.headersSent) return;
    this.fail();
  };

  private readonly onClose = (): void => {
    this.closed(this.response.statusCode);
    if (this.settled) return;
    this.settle();
    this.upstream?.close(constants.NGHTTP2_CANCEL);
  };

  private constructor(
    private readonly context: ExchangeContext,
    private readonly h2c: H2cUpstream,
    private readonly request: IncomingMessage,
    private readonly response: ServerResponse,
    private readonly kubeletProbe: boolean,
  ) {
    super();
    if (!this.admitRequest(context, request, response, kubeletProbe, this.onClose)) this.settled = true;
  }

  /**
   * Sends `request` to the app over `h2c` and writes its answer into `response`.
   *
   * @param kubeletProbe - the request is a kubelet probe: it skips the breaker and is not timed
   */
  static start(context: ExchangeContext, h2c: H2cUpstream, request: IncomingMessage, response: ServerResponse, kubeletProbe: boolean): void {
    new H1ToH2cExchange(context, h2c, request, response, kubeletProbe);
  }

  protected expire(): void {
    this.timedOut = true;
    this.upstream?.close(constants.NGHTTP2_CANCEL);
    this.fail();
  }

  /** Tells the client, as the HTTP/1.1 exchange does (see `failResponse`). */
  private fail(): void {
    this.settle();
    failResponse(this.response, this.timedOut);
  }

  private settle(): void {
    this.settled = true;
    this.stopClock();
  }
}
