import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { diag } from '@opentelemetry/api';
import type { Dispatcher } from 'undici';
import { downstreamResponseHeaders, upstreamRequestHeaders } from '../contract/hop-headers.js';
import { countBodyBytes } from '../../http/body-bytes.js';
import { sendText } from '../../http/plain-text.js';
import type { Breaker } from '../../core/breaker.js';
import type { RequestTimer } from '../contract/request-timer.js';
import type { RequestTracer } from '../../core/request-tracer.js';
import { withSpanHeaders } from '../contract/trace-context.js';
import type { RevisionTimeouts } from '../../core/revision-timeouts.js';
import { Http1Exchange } from './http1-exchange.js';
import { upstreamBody } from './request-body.js';
import type { UpstreamDemand } from '../upstream/upstream-demand.js';

/** State every exchange of one proxy shares. */
export interface ExchangeContext {
  /** Keep-alive connections to the upstream. */
  readonly pool: Dispatcher;
  /** The pool's requests waiting for a connection: each exchange says when it starts and stops waiting. */
  readonly demand: UpstreamDemand;
  /** Longest silence of a request body, in milliseconds, before the request is answered 408 and the upstream one aborted; 0: no bound. */
  readonly requestBodyIdleMs: number;
  /** Longest wait for a connection of the pool, in milliseconds, past which the request gets a 503; 0: no bound (an uncapped pool opens one at once). */
  readonly connectionWaitMs: number;
  /** The revision timeouts of every exchange, counted from its arrival. */
  readonly timeouts: RevisionTimeouts;
  /** The concurrency limit; `undefined` when there is none (`containerConcurrency` 0). */
  readonly breaker: Breaker | undefined;
  /** Times each request from the moment it gets to go to the app; `undefined` when no observer wants to know. */
  readonly requestTimer: RequestTimer | undefined;
  /** Traces each request that goes to the app (probes excluded); `undefined` when tracing is off. */
  readonly tracer: RequestTracer | undefined;
  /** True once the proxy drains: each finished response then closes idle client connections. */
  draining: boolean;
  /** Closes client connections that have no request in flight. */
  closeIdleConnections(): void;
}

/** Methods whose requests may be sent twice (RFC 9110 section 9.2.1, safe methods). */
const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

/**
 * undici's codes for a connection that failed under a request before any
 * answer: what a kept-alive connection that the app closed at that moment
 * gives. A safe request without a body is sent once more on a new one.
 */
const STALE_CONNECTION_CODES: ReadonlySet<string> = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE']);

const EARLY_HINTS = 103;
/** The body of a 504, and what a chunked response that timed out after its head ends with (as Knative's timeout handler writes). */
const TIMEOUT_TEXT = 'upstream timed out\n';
/** undici's code for a request it refuses to send, such as a request target that is not origin- or absolute-form. */
const INVALID_ARGUMENT = 'UND_ERR_INVALID_ARG';

/** Whether a header object has any field: most responses end without trailers. */
function hasAny(headers: IncomingHttpHeaders): boolean {
  for (const _ in headers) return true;
  return false;
}

/** The sidecar's own answer to a request whose upstream failed before any of its answer was sent: 504 or 502. */
export function sendUpstreamFailure(response: ServerResponse, timedOut: boolean): void {
  if (timedOut) sendText(response, 504, TIMEOUT_TEXT);
  else sendText(response, 502, 'upstream unavailable\n');
}

/**
 * Tells a client that its exchange with the app failed. Before the response
 * head: 504 (timed out) or 502. After it, the status line is out, so a
 * chunked response that timed out ends with the timeout text, as Knative's
 * timeout handler ends it, and any other is cut short: ending the socket
 * (rather than destroying it) first delivers what was already written, which
 * Node may still hold corked.
 */
export function failResponse(response: ServerResponse, timedOut: boolean): void {
  if (response.destroyed) return;
  if (!response.headersSent) {
    sendUpstreamFailure(response, timedOut);
    return;
  }
  if (timedOut && response.chunkedEncoding) {
    countBodyBytes(response, Buffer.byteLength(TIMEOUT_TEXT));
    response.end(TIMEOUT_TEXT);
    return;
  }
  const socket = response.socket;
  if (socket === null) response.destroy();
  else socket.end(() => socket.destroy());
}

/**
 * Tells a client whose request body stopped arriving (see
 * `requestBodyIdleTimeoutMs`): before the response head, 408 with the
 * connection closed, since the rest of the body will not be read; after
 * it, the response is cut short.
 */
export function failStalledBody(response: ServerResponse): void {
  if (response.destroyed) return;
  if (response.headersSent) {
    failResponse(response, false);
    return;
  }
  response.shouldKeepAlive = false;
  sendText(response, 408, 'request body timed out\n');
}

function errorCode(error: Error): string | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * One request forwarded to the upstream through undici and its response
 * streamed back: a dispatch handler that writes straight into the client's
 * `ServerResponse`, with backpressure both ways (undici reads the request
 * body as the upstream takes it; the upstream is paused while the client
 * lags). With a breaker, the request first waits for a slot (503 when the
 * queue is full). A revision timeout (see LimitedExchange) before the
 * response head: 504; after it, a chunked response ends with the timeout
 * text, as Knative's does, and any other is cut short.
 * Upstream refused, reset or malformed before the head: 502 (a safe request
 * without a body is first tried once more on a new connection); after it:
 * the response is cut short. A client that goes away aborts the upstream
 * request. `103 Early Hints` and response trailers are relayed.
 */
export class ProxyExchange extends Http1Exchange implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  private options: Dispatcher.DispatchOptions | undefined;
  private timedOut = false;
  /** Whether a failure on a stale connection may still be retried: once, and only for a safe request without a body. */
  private retryLeft = false;
  /** The upstream response ended or failed, or was given up: nothing left to abort. */
  private settled = false;
  private listeningForDrain = false;
  /** Handed to the pool and not yet on a connection (see UpstreamDemand). */
  private wanting = false;
  /** Bounds the wait for a connection of a capped pool. */
  private waitTimer: NodeJS.Timeout | undefined;
  private noConnection = false;
  private bodyStalled = false;
  private readonly requestTimer: RequestTimer | undefined;

  private readonly onClose = (): void => {
    this.closed(this.response.statusCode);
    if (!this.settled) {
      this.settle();
      this.controller?.abort(new Error('client closed the connection'));
    }
    if (this.context.draining) this.context.closeIdleConnections();
  };

  private readonly onNoConnection = (): void => {
    this.waitTimer = undefined;
    this.noConnection = true;
    this.fail(new Error('no upstream connection free'));
  };

  private readonly onBodyStall = (): void => {
    this.bodyStalled = true;
    this.fail(new Error('request body stalled'));
  };

  private readonly onResponseDrain = (): void => {
    this.controller?.resume();
  };

  protected readonly dispatch = (): void => {
    if (this.settled) return;
    const request = this.request;
    const { body, contentLength } = upstreamBody(request);
    this.options = {
      path: request.url ?? '/',
      method: request.method ?? 'GET',
      headers: withSpanHeaders(upstreamRequestHeaders(request, contentLength), this.span),
      body,
    };
    this.retryLeft = body === null && SAFE_METHODS.has(this.options.method);
    if (body !== null) this.watchBody(request, this.context.requestBodyIdleMs, this.onBodyStall);
    // As Knative's request metrics handler, inside its breaker, times it: from the moment the request may go to the app.
    this.requestTimer?.start(request, this.response);
    this.send();
  };

  private constructor(
    private readonly context: ExchangeContext,
    private readonly request: IncomingMessage,
    private readonly response: ServerResponse,
    kubeletProbe: boolean,
  ) {
    super();
    this.requestTimer = kubeletProbe ? undefined : context.requestTimer;
    if (!this.admitRequest(context, request, response, kubeletProbe, this.onClose)) this.settled = true;
  }

  /**
   * Forwards `request` to the context's upstream pool and streams the answer into `response`.
   *
   * @param kubeletProbe - the request is a kubelet probe: it skips the breaker and is not timed
   */
  static start(context: ExchangeContext, request: IncomingMessage, response: ServerResponse, kubeletProbe: boolean): void {
    new ProxyExchange(context, request, response, kubeletProbe);
  }

  protected expire(): void {
    this.timedOut = true;
    this.fail(new Error('upstream timed out'));
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    // Called again when the request is retried on a new connection.
    this.controller = controller;
    this.wanting = this.context.demand.satisfied(this.wanting);
    this.stopWaitTimer();
    // Gone or timed out while it waited for a connection, when there was nothing to abort yet.
    if (this.settled) controller.abort(new Error('request abandoned'));
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    if (this.settled) return;
    if (statusCode < 200) {
      // Node's server answered the client's `Expect: 100-continue` already; the others have no meaning past this hop.
      if (statusCode === EARLY_HINTS && this.request.httpVersionMinor === 1) this.response.writeEarlyHints(downstreamResponseHeaders(headers));
      return;
    }
    this.wrote();
    try {
      this.response.writeHead(statusCode, downstreamResponseHeaders(headers));
      // A pipelined response waiting for its turn holds its output in a queue, where Node has already put the
      // `100 Continue` it owed an `Expect` (or an early hint). Node puts a head in front of that queue when the first
      // body chunk is a Buffer, as undici's are: the client would read the interim answer inside our body. Queueing
      // the head now, as text, keeps it after them.
      if (this.response.socket === null) this.response.flushHeaders();
    } catch (error) {
      // Node rejects a header that undici let through: answer 502 via onResponseError.
      controller.abort(error instanceof Error ? error : new Error(String(error)));
    }
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.settled) return;
    this.wrote();
    countBodyBytes(this.response, chunk.length);
    if (this.response.write(chunk)) return;
    controller.pause();
    if (!this.listeningForDrain) {
      this.listeningForDrain = true;
      this.response.on('drain', this.onResponseDrain);
    }
  }

  onResponseEnd(_controller: Dispatcher.DispatchController, trailers: IncomingHttpHeaders): void {
    if (this.settled) return;
    this.settle();
    const response = this.response;
    if (response.destroyed) return;
    if (hasAny(trailers)) {
      try {
        response.addTrailers(downstreamResponseHeaders(trailers));
      } catch (error) {
        diag.debug(`proxy: upstream trailers dropped: ${(error as Error).message}`);
      }
    }
    response.end();
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    if (this.settled) return;
    // A connection that failed to open ends the wait too.
    this.wanting = this.context.demand.satisfied(this.wanting);
    const code = errorCode(error);
    if (this.retryLeft && !this.response.headersSent && code !== undefined && STALE_CONNECTION_CODES.has(code)) {
      this.retryLeft = false;
      this.controller = undefined;
      this.send();
      return;
    }
    this.fail(error);
  }

  /**
   * Gives the upstream request up and tells the client: 504 or 502 before the
   * head, a cut-short body after it, except that a chunked response that
   * timed out ends cleanly with the timeout text, as Knative's timeout handler
   * ends it (Go's server then writes the last chunk).
   */
  private fail(error: Error): void {
    if (this.settled) return;
    this.settle();
    // A no-op when the upstream request failed by itself.
    this.controller?.abort(error);
    const response = this.response;
    if (this.bodyStalled) {
      failStalledBody(response);
      return;
    }
    if (!response.headersSent && !response.destroyed) {
      diag.debug(`proxy: upstream request failed: ${error.message}`);
      // Node accepted the request, but it cannot be expressed upstream: the client's doing, not the app's.
      if (!this.timedOut && errorCode(error) === INVALID_ARGUMENT) {
        sendText(response, 400, 'request cannot be forwarded\n');
        return;
      }
      if (this.noConnection) {
        sendText(response, 503, 'no upstream connection available\n');
        return;
      }
    }
    failResponse(response, this.timedOut);
  }

  /** Hands the request to the pool, waiting for a connection. */
  private send(): void {
    this.wanting = this.context.demand.want();
    const waitMs = this.context.connectionWaitMs;
    if (waitMs > 0 && this.waitTimer === undefined) this.waitTimer = setTimeout(this.onNoConnection, waitMs);
    this.context.pool.dispatch(this.options!, this);
  }

  private stopWaitTimer(): void {
    if (this.waitTimer === undefined) return;
    clearTimeout(this.waitTimer);
    this.waitTimer = undefined;
  }

  private settle(): void {
    this.settled = true;
    // Given up while still waiting: no connection is opened for it any more.
    this.wanting = this.context.demand.satisfied(this.wanting);
    this.stopWaitTimer();
    this.stopClock();
  }
}
