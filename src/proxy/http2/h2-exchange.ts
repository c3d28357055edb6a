import { constants, type ClientHttp2Stream, type IncomingHttpHeaders, type IncomingHttpStatusHeader, type ServerHttp2Stream } from 'node:http2';
import { diag } from '@opentelemetry/api';
import type { Breaker } from '../../core/breaker.js';
import { countBodyBytes } from '../../http/body-bytes.js';
import type { RevisionTimeouts } from '../../core/revision-timeouts.js';
import { forwardBody } from '../contract/forward-body.js';
import type { H2cUpstream } from '../upstream/h2c-upstream.js';
import { upstreamStreamHeaders } from './h2-headers.js';
import { LimitedExchange } from '../contract/limited-exchange.js';
import { streamStatus, type RequestTimer } from '../contract/request-timer.js';
import type { RequestTracer } from '../../core/request-tracer.js';
import { setSpanHeaders, tracedStream } from '../contract/trace-context.js';

/** State every HTTP/2 exchange of one proxy shares. */
export interface H2ExchangeContext {
  /** The h2c sessions to the app. */
  readonly upstream: H2cUpstream;
  /** The revision timeouts of every exchange, counted from its arrival. */
  readonly timeouts: RevisionTimeouts;
  /** The concurrency limit; `undefined` when there is none. */
  readonly breaker: Breaker | undefined;
  /** Times each stream from the moment it gets to go to the app; `undefined` when no observer wants to know. */
  readonly requestTimer: RequestTimer | undefined;
  /** Traces each stream that goes to the app (probes excluded); `undefined` when tracing is off. */
  readonly tracer: RequestTracer | undefined;
  /** Longest silence of a request body, in milliseconds, before the stream is answered 408 and the app's cancelled; 0: no bound. */
  readonly requestBodyIdleMs: number;
}

const CONTENT_TYPE = 'text/plain; charset=utf-8';
const END_STREAM = constants.NGHTTP2_FLAG_END_STREAM;

/**
 * Answers a stream with a short plain-text body, unless it is gone or
 * answered already: the sidecar's own answers on the HTTP/2 path (probes,
 * 502, 503, 504), never app content.
 */
export function respondText(stream: ServerHttp2Stream, status: number, body: string): void {
  if (stream.destroyed || stream.headersSent) return;
  const length = Buffer.byteLength(body);
  stream.respond({ ':status': status, 'content-type': CONTENT_TYPE, 'content-length': length });
  countBodyBytes(stream, length);
  stream.end(body);
}

const ignore = (): void => {};

/**
 * One HTTP/2 stream forwarded to the app as one h2c stream (Knative's
 * queue-proxy forwards an HTTP/2 request over h2c): the request body and the
 * response body are piped with backpressure both ways, so HTTP/2 flow
 * control holds end to end and a large gRPC message is never buffered whole.
 * The response's HEADERS keep their END_STREAM (a gRPC trailers-only
 * answer stays one), and the app's trailers (`grpc-status`,
 * `grpc-message`) follow the body; a request's trailers follow its body to
 * the app the same way. A reset on either side resets the other
 * with the same code (a cancelled gRPC call is cancelled at the app).
 *
 * Shares the HTTP/1.1 path's rules through {@link LimitedExchange}: the
 * breaker (503 when its queue is full) and the revision timeouts (504
 * before the response head; after it the stream is reset with CANCEL).
 * The app unreachable, or failing before the head: 502.
 */
export class H2Exchange extends LimitedExchange {
  private upstream: ClientHttp2Stream | undefined;
  private responded = false;
  private settled = false;
  private trailers: IncomingHttpHeaders | undefined;
  private requestTrailers: IncomingHttpHeaders | undefined;
  private readonly requestTimer: RequestTimer | undefined;

  protected readonly dispatch = (): void => {
    if (this.settled) return;
    const client = this.client;
    const endStream = client.readableEnded || (this.flags & END_STREAM) !== 0;
    // A request with a body may end with trailers: the app's stream waits for them (an empty set when none came).
    const headers = upstreamStreamHeaders(this.rawHeaders, client.session?.socket?.remoteAddress, client.session?.encrypted === true);
    setSpanHeaders(headers, this.span);
    const upstream = this.context.upstream.request(headers, endStream, !endStream);
    if (upstream === undefined) {
      this.fail(502, 'upstream unavailable\n');
      return;
    }
    this.upstream = upstream;
    this.requestTimer?.startStream(client);
    upstream.on('error', ignore);
    upstream.on('response', this.onResponse);
    upstream.on('trailers', this.onTrailers);
    upstream.on('close', this.onUpstreamClose);
    if (this.context.timeouts.idleMs > 0) upstream.on('data', this.onData);
    if (!endStream) {
      client.on('trailers', this.onRequestTrailers);
      upstream.on('wantTrailers', this.onUpstreamWantsTrailers);
      this.watchBody(client, this.context.requestBodyIdleMs, this.onBodyStall);
      forwardBody(client, upstream);
    }
  };

  private readonly onBodyStall = (): void => {
    if (this.settled) return;
    if (this.responded) this.cut(constants.NGHTTP2_CANCEL);
    else this.fail(408, 'request body timed out\n');
  };

  private readonly onRequestTrailers = (trailers: IncomingHttpHeaders): void => {
    this.requestTrailers = trailers;
  };

  private readonly onUpstreamWantsTrailers = (): void => {
    // The client's trailers arrive before the end of its body, which forwardBody passes on: they are known here.
    this.upstream?.sendTrailers(this.requestTrailers ?? {});
  };

  private readonly onResponse = (headers: IncomingHttpHeaders & IncomingHttpStatusHeader, flags: number): void => {
    const status = headers[':status'] ?? 0;
    // Interim answers (100, 103) have no meaning past this hop.
    if (this.settled || status < 200) return;
    this.wrote();
    this.responded = true;
    const client = this.client;
    if (client.destroyed) return;
    const endStream = (flags & END_STREAM) !== 0;
    try {
      client.respond(headers, { endStream, waitForTrailers: !endStream });
    } catch (error) {
      diag.debug(`proxy: h2 response head refused: ${(error as Error).message}`);
      this.cut(constants.NGHTTP2_INTERNAL_ERROR);
      return;
    }
    // A HEADERS frame that ended the stream (a gRPC trailers-only answer) leaves nothing to pipe; reading the
    // empty body lets Node close the app's stream.
    if (endStream) this.upstream!.resume();
    else forwardBody(this.upstream!, client);
  };

  private readonly onTrailers = (trailers: IncomingHttpHeaders): void => {
    this.trailers = trailers;
  };

  private readonly onWantTrailers = (): void => {
    // No trailers from the app: Node ends the stream with an empty DATA frame instead.
    this.client.sendTrailers(this.trailers ?? {});
  };

  private readonly onData = (): void => {
    this.wrote();
  };

  /** The app's stream is done: ended, reset, or failed. */
  private readonly onUpstreamClose = (): void => {
    if (this.settled) return;
    const upstream = this.upstream!;
    const code = upstream.rstCode ?? constants.NGHTTP2_NO_ERROR;
    if (code === constants.NGHTTP2_NO_ERROR && this.responded) {
      // Node closes a stream that ended cleanly only after its body was read: the end is through the forwarded body. The
      // total timeout still bounds its delivery: a session nghttp2 ended for a protocol error stops reading and
      // writing without closing its streams, and would otherwise hold this one (and its count) for ever.
      this.settled = true;
      this.onlyTotalTimeout();
      return;
    }
    if (this.responded) this.cut(code === constants.NGHTTP2_NO_ERROR ? constants.NGHTTP2_INTERNAL_ERROR : code);
    else this.fail(502, 'upstream unavailable\n');
  };

  /** The client's stream is done: the exchange leaves the breaker, and an upstream stream still open is reset. */
  private readonly onClientClose = (): void => {
    this.closed(streamStatus(this.client));
    if (this.settled) return;
    this.settle();
    const code = this.client.rstCode;
    this.upstream?.close(code === undefined || code === constants.NGHTTP2_NO_ERROR ? constants.NGHTTP2_CANCEL : code);
  };

  private constructor(
    private readonly context: H2ExchangeContext,
    private readonly client: ServerHttp2Stream,
    private readonly rawHeaders: readonly string[],
    private readonly flags: number,
    kubeletProbe: boolean,
  ) {
    super();
    this.requestTimer = kubeletProbe ? undefined : context.requestTimer;
    client.on('close', this.onClientClose);
    client.on('wantTrailers', this.onWantTrailers);
    const span = kubeletProbe ? undefined : context.tracer?.start(tracedStream(client, rawHeaders));
    if (!this.begin(context.timeouts, kubeletProbe ? undefined : context.breaker, span)) {
      this.settled = true;
      respondText(client, 503, 'pending request queue full\n');
    }
  }

  /**
   * Forwards the client's stream to the app over h2c and streams the answer back.
   *
   * @param rawHeaders - the stream's fields as a flat name, value... list
   * @param flags - the flags of the stream's HEADERS frame (END_STREAM: no body)
   * @param kubeletProbe - the request is a kubelet probe: it skips the breaker and is not timed
   */
  static start(context: H2ExchangeContext, client: ServerHttp2Stream, rawHeaders: readonly string[], flags: number, kubeletProbe: boolean): void {
    new H2Exchange(context, client, rawHeaders, flags, kubeletProbe);
  }

  protected expire(): void {
    if (this.responded) this.cut(constants.NGHTTP2_CANCEL);
    else this.fail(504, 'upstream timed out\n');
  }

  /** Before the response head: the sidecar's own answer, and the app's stream (if any) is cancelled. */
  private fail(status: number, body: string): void {
    this.settle();
    this.upstream?.close(constants.NGHTTP2_CANCEL);
    respondText(this.client, status, body);
  }

  /**
   * After the response head: both streams are reset with `code`, the only way
   * to tell the client its answer is cut short. The client's stream is also
   * destroyed, so that it closes even in a session that no longer sends.
   */
  private cut(code: number): void {
    this.settle();
    this.upstream?.close(constants.NGHTTP2_CANCEL);
    const client = this.client;
    if (client.destroyed) return;
    client.close(code);
    client.destroy();
  }

  private settle(): void {
    this.settled = true;
    this.stopClock();
  }
}
