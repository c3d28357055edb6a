import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { monotonicNow } from '../core/clock.js';
import { classifyHeaders, classifyRequest, RequestKind, type HeadersObject } from '../core/request-kind.js';
import { onConnectionCloseWhileQueued } from '../http/queued-response.js';
import { ReqEventType, type RequestStats } from '../core/stats.js';

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
    if (kind === RequestKind.Direct) {
      this.stats.handle(ReqEventType.ReqIn, this.now());
      if (queued) this.trackQueued(request, response, ReqEventType.ReqOut);
      else response.on('close', this.onDirectEnd);
    } else if (kind === RequestKind.Proxied) {
      this.stats.handle(ReqEventType.ProxiedIn, this.now());
      if (queued) this.trackQueued(request, response, ReqEventType.ProxiedOut);
      else response.on('close', this.onProxiedEnd);
    }
    return kind;
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
