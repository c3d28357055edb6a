import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { monotonicNow } from '../core/clock.js';
import { classifyHeaders, classifyRequest, RequestKind, type HeadersObject } from '../core/request-kind.js';
import { onConnectionCloseWhileQueued } from '../http/queued-response.js';
import { ReqEventType, type RequestStats } from '../core/stats.js';

/** The responses begun on one client connection and not yet closed ({@link RequestTracker.trackOnConnection}). */
interface OpenResponses {
  count: number;
}

/**
 * A shared 'close' listener of a response tracked by {@link RequestTracker.trackOnConnection}: gives back the
 * response's place on its connection in `open`, then calls `end` (its out-event), if given.
 */
function releasing(open: WeakMap<Socket, OpenResponses>, end?: () => void): (this: ServerResponse) => void {
  return function (this: ServerResponse): void {
    open.get(this.req.socket)!.count--;
    end?.();
  };
}

/**
 * Turns HTTP requests into {@link RequestStats} events: an in-event when a
 * request arrives, and exactly one out-event when its response finishes or
 * its connection closes, whichever comes first, so aborted clients do not
 * leak concurrency. Probes are not counted.
 *
 * Works as a wrapper around a Node request listener ({@link RequestTracker.wrap}),
 * as Connect/Express middleware ({@link RequestTracker.middleware}), and on
 * the streams of a `node:http2` server ({@link RequestTracker.trackStream}).
 */
export class RequestTracker {
  // Shared listeners, so tracking a request allocates no closure and adds no property to it. A response emits
  // 'close' exactly once, when it is finished or its connection is gone (an upgraded socket too), except a pipelined
  // response still queued behind another when the connection dies: Node 22 never emits it for that one, so a queued
  // response also waits for its connection's 'close' (trackQueued).
  private readonly onDirectEnd = (): void => {
    this.stats.handle(ReqEventType.ReqOut, this.now());
  };
  private readonly onProxiedEnd = (): void => {
    this.stats.handle(ReqEventType.ProxiedOut, this.now());
  };
  // trackOnConnection's: one listener per response, which both releases its place on its connection and records its
  // out-event (a probe only releases).
  private readonly openResponses = new WeakMap<Socket, OpenResponses>();
  private readonly onConnectionDirectEnd = releasing(this.openResponses, this.onDirectEnd);
  private readonly onConnectionProxiedEnd = releasing(this.openResponses, this.onProxiedEnd);
  private readonly onConnectionRelease = releasing(this.openResponses);

  /**
   * @param stats - where the events go
   * @param now - clock in milliseconds; must be the clock the reporting loop uses. Default `performance.now`.
   */
  constructor(
    readonly stats: RequestStats,
    private readonly now: () => number = monotonicNow,
  ) {}

  /**
   * Records the arrival of `request` and arranges its departure event.
   *
   * @param queued - whether `response` waits behind another response on its
   *   connection (pipelining). Default: whether it has no socket yet, which
   *   holds from a 'request' listener; before the server assigns the socket
   *   (Node's `http.server.request.start` channel) the caller must tell
   *   (telling true when unsure is safe, only slower).
   * @returns how the request was classified; probes are not tracked
   */
  track(request: IncomingMessage, response: ServerResponse, queued = response.socket === null): RequestKind {
    const kind = classifyRequest(request.rawHeaders);
    this.begin(kind, request, response, queued, this.onDirectEnd, this.onProxiedEnd);
    return kind;
  }

  /**
   * Same as {@link RequestTracker.track}, for a caller that has the request
   * before the server has given its response the connection, as Node's
   * `http.server.request.start` channel publishes it: tells a queued
   * (pipelined) response by counting the responses open on `socket`, probes
   * included (they hold the connection as much as any). A response finishes
   * before it closes, so the count errs only towards "queued", which costs a
   * listener, never a lost out-event.
   *
   * @param socket - the connection the request came on
   * @returns how the request was classified; probes are not tracked
   */
  trackOnConnection(request: IncomingMessage, response: ServerResponse, socket: Socket): RequestKind {
    // Node publishes a request before it hands the response its connection, and queues the response of a pipelined
    // request while an earlier one on the connection is unfinished: test/all-servers.test.ts 'ends a pipelined request
    // still queued...' fails on Node 22 when a queued response is taken for an ordinary one.
    let open = this.openResponses.get(socket);
    if (open === undefined) this.openResponses.set(socket, (open = { count: 0 }));
    const queued = open.count > 0;
    open.count++;
    const kind = classifyRequest(request.rawHeaders);
    if (queued || (kind !== RequestKind.Direct && kind !== RequestKind.Proxied)) response.on('close', this.onConnectionRelease);
    this.begin(kind, request, response, queued, this.onConnectionDirectEnd, this.onConnectionProxiedEnd);
    return kind;
  }

  /** The in-event of a request of `kind`, and the out-event when its response closes: by `onDirectEnd` or `onProxiedEnd`, or (queued) by {@link RequestTracker.trackQueued}. */
  private begin(
    kind: RequestKind,
    request: IncomingMessage,
    response: ServerResponse,
    queued: boolean,
    onDirectEnd: (this: ServerResponse) => void,
    onProxiedEnd: (this: ServerResponse) => void,
  ): void {
    if (kind === RequestKind.Direct) {
      this.stats.handle(ReqEventType.ReqIn, this.now());
      if (queued) this.trackQueued(request, response, ReqEventType.ReqOut);
      else response.on('close', onDirectEnd);
    } else if (kind === RequestKind.Proxied) {
      this.stats.handle(ReqEventType.ProxiedIn, this.now());
      if (queued) this.trackQueued(request, response, ReqEventType.ProxiedOut);
      else response.on('close', onProxiedEnd);
    }
  }

  /** Rare (pipelining): the out-event of a queued response, whichever of it and its connection closes first; a closure of its own is fine. */
  private trackQueued(request: IncomingMessage, response: ServerResponse, type: ReqEventType.ReqOut | ReqEventType.ProxiedOut): void {
    let ended = false;
    const end = (): void => {
      if (ended) return;
      ended = true;
      this.stats.handle(type, this.now());
    };
    response.on('close', end);
    onConnectionCloseWhileQueued(request, response, end);
  }

  /**
   * Records an upgraded connection (a `node:http` server's 'upgrade' event,
   * e.g. a WebSocket) as one request for its whole lifetime: the in-event
   * now, the out-event when `socket` closes.
   *
   * @returns how the request was classified; probes are not tracked
   */
  trackUpgrade(request: IncomingMessage, socket: Duplex): RequestKind {
    return this.trackStream(request.rawHeaders, socket);
  }

  /**
   * Records an HTTP/2 stream of a `node:http2` server as one request for its
   * whole lifetime: the in-event now, the out-event when `stream` closes (it
   * emits 'close' once, whether it ended, was reset, or its session was
   * destroyed or went away with GOAWAY). For the 'stream' event, pass its
   * fourth argument; with the compatibility API ('request' event), pass
   * `request.rawHeaders` and `request.stream`.
   *
   * @example
   * server.on('stream', (stream, headers, flags, rawHeaders) => tracker.trackStream(rawHeaders, stream));
   *
   * @param rawHeaders - the stream's headers as a flat name, value... list
   * @returns how the request was classified; probes are not tracked
   */
  trackStream(rawHeaders: readonly string[], stream: Duplex): RequestKind {
    return this.trackUntilClose(classifyRequest(rawHeaders), stream);
  }

  /**
   * Same as {@link RequestTracker.trackStream}, for a caller that holds the
   * stream's headers object rather than the raw list (Node's
   * `http2.server.stream.start` channel).
   *
   * @param headers - the stream's headers object, lower-case names as Node's `http2` gives them
   * @returns how the request was classified; probes are not tracked
   */
  trackStreamHeaders(headers: HeadersObject, stream: Duplex): RequestKind {
    return this.trackUntilClose(classifyHeaders(headers), stream);
  }

  private trackUntilClose(kind: RequestKind, stream: Duplex): RequestKind {
    if (kind === RequestKind.Direct) {
      this.stats.handle(ReqEventType.ReqIn, this.now());
      stream.on('close', this.onDirectEnd);
    } else if (kind === RequestKind.Proxied) {
      this.stats.handle(ReqEventType.ProxiedIn, this.now());
      stream.on('close', this.onProxiedEnd);
    }
    return kind;
  }

  /** Wraps a `node:http` request listener so that every request it serves is tracked. */
  wrap(listener: RequestListener): RequestListener {
    return (request, response) => {
      this.track(request, response);
      listener(request, response);
    };
  }

  /**
   * Connect/Express middleware: tracks the request, then calls `next()`.
   * For Fastify, call {@link RequestTracker.track} from an `onRequest` hook
   * with `request.raw` and `reply.raw`.
   */
  readonly middleware = (request: IncomingMessage, response: ServerResponse, next: () => void): void => {
    this.track(request, response);
    next();
  };
}
