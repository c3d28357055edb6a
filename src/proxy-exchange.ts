import type { IncomingMessage, ServerResponse } from 'node:http';
import { diag } from '@opentelemetry/api';
import { downstreamResponseHeaders, rawHeaderValue, upstreamRequestHead } from './hop-headers.js';
import { sendText } from './plain-text.js';
import type { UpstreamConnection, UpstreamRequest } from './upstream-connection.js';
import type { UpstreamPool } from './upstream-pool.js';

/** State every exchange of one proxy shares. */
export interface ExchangeContext {
  /** Keep-alive connections to the upstream. */
  readonly pool: UpstreamPool;
  /** The `Host` header for requests that came without one. */
  readonly authority: string;
  /** Milliseconds from a request's arrival to its response head before it gets a 504. */
  readonly timeoutMs: number;
  /** True once the proxy drains: each finished response then closes idle client connections. */
  draining: boolean;
  /** Closes client connections that have no request in flight. */
  closeIdleConnections(): void;
}

/** Methods whose requests may be sent twice (RFC 9110 9.2.1, safe methods). */
const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);
const KEEP_ALIVE = 'connection: keep-alive\r\n';
const KEEP_ALIVE_CHUNKED = 'connection: keep-alive\r\ntransfer-encoding: chunked\r\n';
const LAST_CHUNK = '0\r\n\r\n';

/** How the request body travels upstream. */
const enum Body {
  None,
  /** As it came, `Content-Length` bytes. */
  Length,
  /** Re-chunked: Node's server has removed the client's chunked framing. */
  Chunked,
}

function requestBody(rawHeaders: readonly string[]): Body {
  if (rawHeaderValue(rawHeaders, 'transfer-encoding') !== undefined) return Body.Chunked;
  const length = rawHeaderValue(rawHeaders, 'content-length');
  return length !== undefined && length !== '0' ? Body.Length : Body.None;
}

/**
 * One request forwarded to the upstream and its response streamed back,
 * with backpressure both ways (the client's body is read as the upstream
 * connection takes it; the upstream connection is paused while the client
 * lags). No response head within the context's `timeoutMs` of arrival: 504.
 * Upstream refused, reset or malformed before the head: 502; after it: the
 * response is cut short. A client that goes away closes the upstream
 * connection, which aborts the request there.
 */
export class ProxyExchange implements UpstreamRequest {
  readonly requestHead: string;
  readonly headRequest: boolean;
  readonly replayable: boolean;
  sent: boolean;
  private connection: UpstreamConnection | undefined;
  private readonly framing: Body;
  private readonly timer: NodeJS.Timeout;
  private timedOut = false;
  /** The upstream response ended or failed: nothing left to abort. */
  private settled = false;
  private clientGone = false;
  private listeningForDrain = false;

  private readonly onClose = (): void => {
    if (!this.settled) {
      this.clientGone = true;
      this.settle();
      this.abandonUpstream();
    }
    if (this.context.draining) this.context.closeIdleConnections();
  };

  private readonly onTimeout = (): void => {
    this.timedOut = true;
    this.abandonUpstream();
    this.failed(new Error('upstream timed out'));
  };

  private readonly onResponseDrain = (): void => {
    this.connection?.resume();
  };

  private constructor(
    private readonly context: ExchangeContext,
    private readonly request: IncomingMessage,
    private readonly response: ServerResponse,
  ) {
    const method = request.method ?? 'GET';
    this.framing = requestBody(request.rawHeaders);
    this.requestHead = upstreamRequestHead(request, context.authority, this.framing === Body.Chunked ? KEEP_ALIVE_CHUNKED : KEEP_ALIVE);
    this.headRequest = method === 'HEAD';
    this.replayable = this.framing === Body.None && SAFE_METHODS.has(method);
    this.sent = this.framing === Body.None;
    this.timer = setTimeout(this.onTimeout, context.timeoutMs);
    response.on('close', this.onClose);
  }

  /** Forwards `request` through the context's pool and streams the answer into `response`. */
  static start(context: ExchangeContext, request: IncomingMessage, response: ServerResponse): void {
    context.pool.send(new ProxyExchange(context, request, response));
  }

  started(connection: UpstreamConnection): void {
    this.connection = connection;
    // Gone or timed out while its connection was still being opened: cancel() could no longer find it queued.
    if (this.settled) connection.abort();
    else if (this.framing !== Body.None) this.streamBody(connection);
  }

  head(status: number, reason: string, headers: string[]): void {
    clearTimeout(this.timer);
    if (this.clientGone) return;
    try {
      this.response.writeHead(status, reason === '' ? undefined : reason, downstreamResponseHeaders(headers));
    } catch (error) {
      // Node rejects a header the parser let through: answer 502 instead.
      this.connection?.abort();
      this.failed(error as Error);
    }
  }

  body(chunk: Buffer): void {
    if (this.clientGone || this.response.write(chunk)) return;
    this.connection?.pause();
    if (!this.listeningForDrain) {
      this.listeningForDrain = true;
      this.response.on('drain', this.onResponseDrain);
    }
  }

  end(): void {
    this.settle();
    if (!this.clientGone && !this.response.destroyed) this.response.end();
  }

  failed(error: Error): void {
    if (this.settled) return;
    this.settle();
    const response = this.response;
    if (this.clientGone || response.destroyed) return;
    if (response.headersSent) {
      // The status line is out: the only way to tell the client is to cut the body short. Ending the socket
      // (rather than destroying it) first delivers what was already written, which Node may still hold corked.
      const socket = response.socket;
      if (socket === null) response.destroy();
      else socket.end(() => socket.destroy());
      return;
    }
    diag.debug(`proxy: upstream request failed: ${error.message}`);
    if (this.timedOut) sendText(response, 504, 'upstream timed out\n');
    else sendText(response, 502, 'upstream unavailable\n');
  }

  /** Stops the upstream side: closing its connection is how HTTP/1.1 aborts a request; a queued one is taken back. */
  private abandonUpstream(): void {
    if (this.connection !== undefined) this.connection.abort();
    else this.context.pool.cancel(this);
  }

  private settle(): void {
    this.settled = true;
    clearTimeout(this.timer);
    // A body still coming in may be paused for an upstream connection that is now gone and will never drain:
    // let Node read and discard the rest, so that the client's next request on its connection is parsed.
    if (!this.sent) this.request.resume();
  }

  /** Copies the client's body to the upstream connection, chunked again if it came chunked, pausing the client while the connection is full. */
  private streamBody(connection: UpstreamConnection): void {
    const request = this.request;
    const chunked = this.framing === Body.Chunked;
    const resume = (): void => void request.resume();
    request.on('data', (chunk: Buffer) => {
      if (connection !== this.connection || this.settled) return;
      if (chunked) connection.write(`${chunk.length.toString(16)}\r\n`);
      const writable = connection.write(chunk);
      if (chunked) connection.write('\r\n');
      if (!writable) {
        request.pause();
        connection.onceDrained(resume);
      }
    });
    request.on('end', () => {
      if (connection !== this.connection || this.settled) return;
      if (chunked) connection.write(LAST_CHUNK);
      this.sent = true;
    });
  }
}
