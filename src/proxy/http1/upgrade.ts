import { ServerResponse, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { diag } from '@opentelemetry/api';
import type { Dispatcher } from 'undici';
import { bodyBytesOf, countBodyBytes } from '../../http/body-bytes.js';
import { downstreamResponseHeaders, upstreamRequestHeaders } from '../contract/hop-headers.js';
import { DEFAULT_STATUS, type RequestTimer, type UpgradeOutcome } from '../contract/request-timer.js';
import { withSpanHeaders } from '../contract/trace-context.js';
import { sendUpstreamFailure, type ExchangeContext } from './exchange.js';
import { requestSpan, sendQueueFull } from './http1-exchange.js';
import { LimitedExchange } from '../contract/limited-exchange.js';

const SWITCHING_PROTOCOLS = 101;

/**
 * How an upgrade request was answered, as Knative's queue-proxy records it in
 * its request log, request metrics and trace: an ordinary answer (the app's
 * refusal, the sidecar's 502, 503 or 504, a probe's answer) with its status
 * and body bytes; a tunnel as 200 with no bytes, since Go's reverse proxy
 * writes the 101 straight onto the hijacked connection, past the response
 * recorder that starts at 200. Each {@link closingResponse} on the client's
 * socket is recorded as the answer; the 101 is not.
 */
export class UpgradeAnswer implements UpgradeOutcome {
  private response: ServerResponse | undefined;

  /** Records `response` as the answer. */
  answeredWith(response: ServerResponse): void {
    this.response = response;
  }

  get status(): number {
    // A tunnel, or no answer at all (the client left first): Knative's recorder keeps its initial 200.
    return this.response?.statusCode ?? DEFAULT_STATUS;
  }

  get bytes(): number {
    return this.response === undefined ? 0 : bodyBytesOf(this.response);
  }
}

/**
 * A response that Node's HTTP code writes (and frames) onto a client socket
 * that has left Node's HTTP machinery, such as the socket of an `upgrade`
 * event. It asks the client to close, and the socket is closed once the
 * response is written: what the client sent after its request head is never
 * parsed as another request.
 *
 * @param answer - where the response is recorded as the request's answer
 */
export function closingResponse(request: IncomingMessage, socket: Duplex, answer: UpgradeAnswer): ServerResponse {
  const response = new ServerResponse(request);
  answer.answeredWith(response);
  response.shouldKeepAlive = false;
  response.assignSocket(socket as Socket);
  // Closed once written, as Node's server closes a `Connection: close` response's socket: waiting for the client
  // to close it would mean reading whatever it sends meanwhile.
  response.once('finish', () => {
    response.detachSocket(socket as Socket);
    socket.end(() => socket.destroy());
  });
  return response;
}

/**
 * An HTTP/1.1 upgrade request (Node's server `upgrade` event, e.g. a
 * WebSocket handshake) sent to the upstream through undici. Only a
 * `101 Switching Protocols` answer opens a tunnel, which then carries raw
 * bytes both ways until either side closes. Any other answer is forwarded
 * as an ordinary response and the client's connection is closed after it.
 * Like any request it goes through the breaker (503 when its queue is full)
 * and holds its slot while the tunnel is open; it is traced and timed, as
 * {@link UpgradeAnswer} records it, until the client's connection closes.
 * Upstream unreachable: 502; a revision timeout before the answer: 504.
 * Once the tunnel is open only the total timeout applies, and cuts it, as
 * in Knative; the response-start and idle timeouts do not
 * (knative/serving#16169).
 */
class UpgradeExchange extends LimitedExchange implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  private response: ServerResponse | undefined;
  private settled = false;
  private timedOut = false;
  private tunnelOpen = false;
  /** Handed to the pool and not yet on a connection (see UpstreamDemand). */
  private wanting = false;

  protected readonly dispatch = (): void => {
    if (this.settled) return;
    const request = this.request;
    const upgrade = request.headers.upgrade ?? '';
    const options = { path: request.url ?? '/', method: request.method ?? 'GET', headers: withSpanHeaders(upstreamRequestHeaders(request, undefined), this.span), body: null };
    // As Knative's request metrics handler, inside its breaker, times it: from the moment the request may go to the app.
    this.requestTimer?.startUpgrade(this.client, this.answer);
    this.wanting = this.context.demand.want();
    this.context.pool.dispatch(servedAsHttp1(request) ? options : { ...options, upgrade }, this);
  };

  private readonly requestTimer: RequestTimer | undefined;

  constructor(
    private readonly context: ExchangeContext,
    private readonly request: IncomingMessage,
    private readonly client: Duplex,
    private readonly early: Buffer[],
    kubeletProbe: boolean,
    private readonly answer: UpgradeAnswer,
  ) {
    super();
    this.requestTimer = kubeletProbe ? undefined : context.requestTimer;
    client.on('error', () => client.destroy());
    client.once('close', () => {
      this.closed(answer.status);
      if (this.settled) return;
      this.settle();
      this.controller?.abort(new Error('client closed the connection'));
    });
    if (!this.begin(context.timeouts, kubeletProbe ? undefined : context.breaker, requestSpan(context, request, kubeletProbe))) {
      this.settled = true;
      sendQueueFull(closingResponse(request, client, answer));
    }
  }

  protected expire(): void {
    if (this.tunnelOpen) {
      this.client.destroy();
      return;
    }
    this.timedOut = true;
    this.fail(new Error('upstream timed out'));
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    this.wanting = this.context.demand.satisfied(this.wanting);
    if (this.settled) controller.abort(new Error('request abandoned'));
  }

  onRequestUpgrade(_controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders, upstream: Duplex): void {
    if (this.settled || statusCode !== SWITCHING_PROTOCOLS) {
      upstream.destroy();
      return;
    }
    this.settled = true;
    this.tunnelOpen = true;
    this.onlyTotalTimeout();
    const client = this.client;
    const response = new ServerResponse(this.request);
    response.sendDate = false;
    response.assignSocket(client as Socket);
    response.writeHead(statusCode, { ...downstreamResponseHeaders(headers), connection: 'Upgrade', upgrade: headers.upgrade ?? '' });
    response.end();
    response.detachSocket(client as Socket);
    // As Go's reverse proxy does: the tunnel ends once either side has sent all it will (its end, passed on by
    // pipe, has been written out), since a half-open tunnel would hold its connections, and its count, forever.
    const closeBoth = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.removeAllListeners('data');
    client.removeAllListeners('end');
    upstream.on('error', closeBoth);
    upstream.once('close', closeBoth);
    upstream.once('finish', closeBoth);
    client.once('close', closeBoth);
    client.once('finish', closeBoth);
    for (const chunk of this.early) upstream.write(chunk);
    upstream.pipe(client);
    client.pipe(upstream);
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    if (this.settled || statusCode < 200) return;
    this.wrote();
    const response = closingResponse(this.request, this.client, this.answer);
    this.response = response;
    try {
      response.writeHead(statusCode, downstreamResponseHeaders(headers));
    } catch (error) {
      controller.abort(error instanceof Error ? error : new Error(String(error)));
    }
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    const response = this.response;
    if (this.settled || response === undefined) return;
    this.wrote();
    countBodyBytes(response, chunk.length);
    if (response.write(chunk)) return;
    controller.pause();
    response.once('drain', () => controller.resume());
  }

  onResponseEnd(): void {
    if (this.settled) return;
    this.settle();
    this.response?.end();
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.wanting = this.context.demand.satisfied(this.wanting);
    this.fail(error);
  }

  private fail(error: Error): void {
    if (this.settled) return;
    this.settle();
    this.controller?.abort(error);
    if (this.response !== undefined) {
      this.client.destroy();
      return;
    }
    diag.debug(`proxy: upgrade request failed: ${error.message}`);
    sendUpstreamFailure(closingResponse(this.request, this.client, this.answer), this.timedOut);
  }

  private settle(): void {
    this.settled = true;
    this.wanting = this.context.demand.satisfied(this.wanting);
    this.stopClock();
  }
}

/**
 * Runs `next` once no response to an earlier request is being written on
 * `socket`, so that the answer to an upgrade request pipelined behind other
 * requests comes after theirs. Node hands a connection to its queued
 * responses one after the other and marks the one writing as the socket's
 * `_httpMessage` (internal, but unchanged since Node's first releases).
 */
export function afterEarlierResponses(socket: Duplex, next: () => void): void {
  const writing = (socket as { _httpMessage?: ServerResponse | null })._httpMessage;
  if (writing === null || writing === undefined) next();
  else writing.once('close', () => afterEarlierResponses(socket, next));
}

/**
 * Sends an HTTP/1.1 upgrade request to the upstream through the context's
 * pool, once the answers to earlier requests on its connection are out, and
 * relays the answer: a tunnel on `101`, an ordinary response (then the
 * connection closes) otherwise. Never throws; errors on either socket only
 * close the tunnel.
 *
 * @param head - bytes the client sent after its request head: sent upstream, with what follows, only once the tunnel is open
 * @param kubeletProbe - the request is a kubelet probe: it skips the breaker, and is neither traced nor timed
 * @param answer - where the answer is recorded
 */
export function tunnelUpgrade(context: ExchangeContext, request: IncomingMessage, client: Duplex, head: Buffer, kubeletProbe: boolean, answer: UpgradeAnswer): void {
  const early = readUntilAnswered(client, head);
  afterEarlierResponses(client, () => {
    if (!client.destroyed) new UpgradeExchange(context, request, client, early, kubeletProbe, answer);
  });
}

/**
 * Whether an upgrade request is sent to the app as plain HTTP/1.1, without
 * its Upgrade (dropped as hop-by-hop): an `Upgrade: h2c` (RFC 7540 section
 * 3.2, deprecated by RFC 9113) without a body. The sidecar never switches a
 * connection to HTTP/2 itself (RFC 9110 section 7.8 lets a server ignore
 * Upgrade), and the app cannot switch it either, which would take its
 * streams past the per-stream counting; the connection closes after the
 * answer. gRPC clients and `h2load` use prior knowledge, which the port
 * accepts. One with a body keeps the generic path (Node leaves an upgrade
 * request's body unparsed, so it cannot go as an ordinary request).
 */
function servedAsHttp1(request: IncomingMessage): boolean {
  const headers = request.headers;
  if (headers.upgrade?.trim().toLowerCase() !== 'h2c' || headers['transfer-encoding'] !== undefined) return false;
  const length = headers['content-length'];
  return length === undefined || length === '0';
}

/** Most bytes a client may send after an upgrade request before it is answered; past it the connection is closed. */
const MAX_EARLY_BYTES = 64 * 1024;

/**
 * Reads what the client sends while its upgrade request waits for an
 * answer, so that a client that goes away is noticed (a socket nobody reads
 * never reports its end), and keeps it for the tunnel.
 *
 * @returns the bytes read so far; {@link UpgradeExchange} stops the reading when it answers
 */
function readUntilAnswered(client: Duplex, head: Buffer): Buffer[] {
  const early = head.length > 0 ? [head] : [];
  let bytes = head.length;
  client.on('data', (chunk: Buffer) => {
    early.push(chunk);
    bytes += chunk.length;
    if (bytes > MAX_EARLY_BYTES) client.destroy();
  });
  client.once('end', () => client.destroy());
  return early;
}
