import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { diag } from '@opentelemetry/api';
import type { Dispatcher } from 'undici';
import { downstreamResponseHeaders, rawHeaderValue, upstreamRequestHeaders } from './hop-headers.js';
import { sendText } from './plain-text.js';

/** State every exchange of one proxy shares. */
export interface ExchangeContext {
  /** Keep-alive connections to the upstream. */
  readonly pool: Dispatcher;
  /** True once the proxy drains: each finished response then closes idle client connections. */
  draining: boolean;
  /** Closes client connections that have no request in flight. */
  closeIdleConnections(): void;
}

/** undici's error code when no response headers arrived within `headersTimeout`. */
const HEADERS_TIMEOUT = 'UND_ERR_HEADERS_TIMEOUT';
/** undici's error code for a request it refuses to send, e.g. the asterisk-form target of `OPTIONS *`. */
const INVALID_ARGUMENT = 'UND_ERR_INVALID_ARG';

/** Status and body for an exchange that failed before the response head went out. */
function failureAnswer(error: Error): [status: number, body: string] {
  const code = (error as { code?: unknown }).code;
  if (code === HEADERS_TIMEOUT) return [504, 'upstream timed out\n'];
  // Node accepted the request but undici cannot express it: the client's doing, not the upstream's.
  if (code === INVALID_ARGUMENT) return [400, 'request cannot be forwarded\n'];
  return [502, 'upstream unavailable\n'];
}

function hasBody(rawHeaders: readonly string[]): boolean {
  if (rawHeaderValue(rawHeaders, 'transfer-encoding') !== undefined) return true;
  const length = rawHeaderValue(rawHeaders, 'content-length');
  return length !== undefined && length !== '0';
}

/**
 * One request forwarded to the upstream and its response streamed back:
 * an undici dispatch handler that writes straight into the client's
 * `ServerResponse`, with backpressure both ways (undici reads the request
 * body as the upstream takes it; the upstream is paused while the client
 * lags). A client that goes away aborts the upstream request; an upstream
 * failure answers 502, or 504 when no headers came in time, or cuts the
 * response short when it had already started; a request undici refuses to
 * send (`OPTIONS *`) answers 400.
 */
export class ProxyExchange implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  /** The upstream response ended or failed: nothing left to abort. */
  private settled = false;
  private clientGone = false;
  private listeningForDrain = false;

  private readonly onClose = (): void => {
    if (!this.settled) {
      this.clientGone = true;
      this.controller?.abort(new Error('client closed the connection'));
    }
    if (this.context.draining) this.context.closeIdleConnections();
  };

  private readonly onDrain = (): void => {
    this.controller?.resume();
  };

  private constructor(
    private readonly context: ExchangeContext,
    private readonly response: ServerResponse,
  ) {
    response.on('close', this.onClose);
  }

  /** Forwards `request` to the context's upstream pool and streams the answer into `response`. */
  static start(context: ExchangeContext, request: IncomingMessage, response: ServerResponse): void {
    const rawHeaders = request.rawHeaders;
    context.pool.dispatch(
      {
        path: request.url ?? '/',
        method: request.method ?? 'GET',
        headers: upstreamRequestHeaders(rawHeaders, request.socket.remoteAddress),
        body: hasBody(rawHeaders) ? request : null,
      },
      new ProxyExchange(context, response),
    );
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    // Called again if undici retries the request on a fresh connection.
    this.controller = controller;
    if (this.clientGone) controller.abort(new Error('client closed the connection'));
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    // Informational answers (103 Early Hints) are not relayed; the final one follows.
    if (statusCode < 200 || this.clientGone) return;
    try {
      this.response.writeHead(statusCode, downstreamResponseHeaders(headers));
    } catch (error) {
      // Node rejects a header that undici let through: answer 502 via onResponseError.
      controller.abort(error instanceof Error ? error : new Error(String(error)));
    }
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.clientGone || this.response.write(chunk)) return;
    controller.pause();
    if (!this.listeningForDrain) {
      this.listeningForDrain = true;
      this.response.on('drain', this.onDrain);
    }
  }

  onResponseEnd(): void {
    this.settled = true;
    if (!this.clientGone) this.response.end();
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.settled = true;
    const response = this.response;
    if (this.clientGone || response.destroyed) return;
    if (response.headersSent) {
      // The status line is out: the only way to tell the client is to cut the body short.
      response.destroy();
      return;
    }
    diag.debug(`proxy: upstream request failed: ${error.message}`);
    const [status, body] = failureAnswer(error);
    sendText(response, status, body);
  }
}
