import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ServerHttp2Stream } from 'node:http2';
import type { Duplex } from 'node:stream';
import { monotonicNow } from '../../core/clock.js';
import type { ObservedRequest, RequestObserver } from '../../core/request-observer.js';
import { bodyBytesOf } from '../../http/body-bytes.js';
import { onConnectionCloseWhileQueued } from '../../http/queued-response.js';

/** Arrival time in milliseconds, set on a timed response; -1 once its end was told. One key per timer: a response may be timed by two (request metrics and request log). */
type Timed = Record<symbol, number | ObservedRequest | undefined>;
type TimedResponse = ServerResponse & Timed;
type TimedStream = ServerHttp2Stream & Timed;

/** The status of a request that closed before any response head was sent: what a `ServerResponse` reports then, and what Knative records. */
export const DEFAULT_STATUS = 200;

/** The `:status` a stream was answered with, or {@link DEFAULT_STATUS} when it closed before a response head. */
export function streamStatus(stream: ServerHttp2Stream): number {
  const status = stream.sentHeaders?.[':status'];
  return status === undefined ? DEFAULT_STATUS : Number(status);
}

/** How an upgrade request was answered, read once its connection has closed. */
export interface UpgradeOutcome {
  /** The status to record: an ordinary answer's, or 200 for a tunnel (as Knative's queue-proxy records one). */
  readonly status: number;
  /** The answer's body bytes written to the client; 0 for a tunnel. */
  readonly bytes: number;
}

/**
 * Tells a {@link RequestObserver} the status, duration and body bytes of each
 * request it is given, exactly once, when the response closes (finished, cut
 * short or its client gone) or, for a pipelined response still queued, when
 * its connection closes. Per request: one timestamp and one shared listener, no closure.
 */
export class RequestTimer {
  private readonly onResponseClose: (this: TimedResponse) => void;
  private readonly onStreamClose: (this: TimedStream) => void;
  /** This timer's keys on the objects it times: the arrival time and the request. */
  private readonly arrivedKey = Symbol('arrived');
  private readonly requestKey = Symbol('request');

  /**
   * @param observer - told of each ended request
   * @param now - clock in milliseconds. Default `performance.now`.
   */
  constructor(
    private readonly observer: RequestObserver,
    private readonly now: () => number = monotonicNow,
  ) {
    const ended = this.ended;
    this.onResponseClose = function () {
      ended(this, this.statusCode);
    };
    this.onStreamClose = function () {
      ended(this, streamStatus(this));
    };
  }

  private readonly ended = (timed: TimedResponse | TimedStream, status: number): void => {
    const arrived = timed[this.arrivedKey] as number;
    if (arrived < 0) return;
    timed[this.arrivedKey] = -1;
    this.observer.requestEnded(status, (this.now() - arrived) / 1000, timed[this.requestKey] as ObservedRequest | undefined, bodyBytesOf(timed));
  };

  /**
   * Starts timing `request` now; its end is told once `response` closes.
   *
   * @param observed - what observers are told of the request; undefined when none reads it
   */
  start(request: IncomingMessage, response: ServerResponse, observed?: ObservedRequest): void {
    const timed = response as TimedResponse;
    timed[this.arrivedKey] = this.now();
    timed[this.requestKey] = observed;
    response.on('close', this.onResponseClose);
    // Rare (pipelining): a closure of its own is fine.
    if (response.socket === null) onConnectionCloseWhileQueued(request, response, () => this.ended(timed, response.statusCode));
  }

  /**
   * Starts timing an HTTP/2 stream now; its end (with the `:status` it was answered) is told once it closes.
   *
   * @param request - what observers are told of the stream's request; undefined when none reads it
   */
  startStream(stream: ServerHttp2Stream, request?: ObservedRequest): void {
    const timed = stream as TimedStream;
    timed[this.arrivedKey] = this.now();
    timed[this.requestKey] = request;
    stream.on('close', this.onStreamClose);
  }

  /**
   * Starts timing an upgrade request (a `node:http` server's 'upgrade'
   * event, e.g. a WebSocket handshake) now; its end is told once the client's
   * connection closes, which for a tunnel is when the tunnel ends, with what
   * `outcome` then says.
   *
   * @param request - what observers are told of the request; undefined when none reads it
   */
  startUpgrade(socket: Duplex, outcome: UpgradeOutcome, request?: ObservedRequest): void {
    const arrived = this.now();
    // Rare next to requests: a closure of its own is fine.
    socket.once('close', () => this.observer.requestEnded(outcome.status, (this.now() - arrived) / 1000, request, outcome.bytes));
  }
}
