import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ServerHttp2Stream } from 'node:http2';
import { monotonicNow } from '../../core/clock.js';
import type { RequestObserver } from '../../core/request-observer.js';
import { onConnectionCloseWhileQueued } from '../../http/queued-response.js';

/** Arrival time in milliseconds, set on a timed response; -1 once its end was told. */
const ARRIVED = Symbol('arrived');

/** The request of a timed response, for observers that log it. */
const REQUEST = Symbol('request');

type TimedResponse = ServerResponse & { [ARRIVED]?: number; [REQUEST]?: IncomingMessage };
type TimedStream = ServerHttp2Stream & { [ARRIVED]?: number };

/** The status of a stream that closed before any response head was sent: what a `ServerResponse` reports then. */
const DEFAULT_STATUS = 200;

/** The `:status` a stream was answered with, or {@link DEFAULT_STATUS} when it closed before a response head. */
export function streamStatus(stream: ServerHttp2Stream): number {
  const status = stream.sentHeaders?.[':status'];
  return status === undefined ? DEFAULT_STATUS : Number(status);
}

/**
 * Tells a {@link RequestObserver} the status and duration of each request it
 * is given, exactly once, when the response closes (finished, cut short or
 * its client gone) or, for a pipelined response still queued, when its
 * connection closes. Per request: one timestamp and one shared listener, no closure.
 */
export class RequestTimer {
  private readonly onResponseClose: (this: TimedResponse) => void;
  private readonly onStreamClose: (this: TimedStream) => void;

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
    const arrived = timed[ARRIVED]!;
    if (arrived < 0) return;
    timed[ARRIVED] = -1;
    this.observer.requestEnded(status, (this.now() - arrived) / 1000, (timed as TimedResponse)[REQUEST]);
  };

  /** Starts timing `request` now; its end is told once `response` closes. */
  start(request: IncomingMessage, response: ServerResponse): void {
    (response as TimedResponse)[ARRIVED] = this.now();
    (response as TimedResponse)[REQUEST] = request;
    response.on('close', this.onResponseClose);
    // Rare (pipelining): a closure of its own is fine.
    if (response.socket === null) onConnectionCloseWhileQueued(request, response, () => this.ended(response, response.statusCode));
  }

  /** Starts timing an HTTP/2 stream now; its end (with the `:status` it was answered) is told once it closes. */
  startStream(stream: ServerHttp2Stream): void {
    (stream as TimedStream)[ARRIVED] = this.now();
    stream.on('close', this.onStreamClose);
  }
}
