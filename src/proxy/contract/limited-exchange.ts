import type { Readable } from 'node:stream';
import { Admission, type Breaker, type BreakerWaiter } from '../../core/breaker.js';
import { monotonicNow } from '../../core/clock.js';
import type { RequestSpan } from '../../core/request-tracer.js';
import { timeoutDeadline, type RevisionTimeouts } from '../../core/revision-timeouts.js';

/** How close to its deadline, in milliseconds, a timer may fire and still count as due (Node's timers keep a coarser clock than `performance.now`). */
const TIMER_SLACK_MS = 1;

const NO_SLOT = 0;
const QUEUED = 1;
const HOLDING = 2;

/**
 * What an exchange with the app shares, whether it streams a response or
 * opens an upgrade tunnel: the revision timeouts, counted from arrival with
 * one timer, and its place in the breaker (a slot, or a place in the queue).
 * A subclass calls {@link begin} once, says when it writes, and calls
 * {@link closed} (or {@link leaveBreaker}, untraced) when its client
 * connection is done with the exchange; the slot is released exactly once,
 * whatever ended the exchange. With a trace span, the span is told of the
 * wait in the breaker's queue and of the end here, so that the exchanges
 * themselves only forward its headers.
 */
export abstract class LimitedExchange implements BreakerWaiter {
  private readonly arrivedAt = monotonicNow();
  private lastWriteAt: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private timeouts: RevisionTimeouts | undefined;
  private breaker: Breaker | undefined;
  private slot = NO_SLOT;
  /** Whether only the total timeout applies now (an open tunnel). */
  private totalOnly = false;
  private bodyTimer: NodeJS.Timeout | undefined;
  /** The request's trace span, until it ends; undefined when tracing is off or the request is not traced. */
  protected span: RequestSpan | undefined;

  /** Sends the request upstream; runs in a microtask once the request holds a slot (at once without a breaker). */
  protected abstract readonly dispatch: () => void;

  /** A timeout passed: answer 504, or cut what has started. */
  protected abstract expire(): void;

  private readonly onDeadline = (): void => {
    const timeouts = this.timeouts!;
    const deadline = this.totalOnly ? this.arrivedAt + timeouts.totalMs : timeoutDeadline(timeouts, this.arrivedAt, this.lastWriteAt);
    const left = deadline - monotonicNow();
    if (left < TIMER_SLACK_MS) {
      this.timer = undefined;
      this.expire();
    } else {
      this.timer = setTimeout(this.onDeadline, left);
    }
  };

  /**
   * Starts the exchange's clock and asks `breaker` (none: no limit) for a slot.
   *
   * @param span - the request's trace span, told of its wait in the breaker's queue and ended by {@link closed}
   * @returns false when the breaker's queue is full: nothing runs, the caller answers 503
   */
  protected begin(timeouts: RevisionTimeouts, breaker: Breaker | undefined, span?: RequestSpan): boolean {
    this.span = span;
    if (breaker !== undefined) {
      const admission = breaker.acquire(this, this.arrivedAt);
      if (admission === Admission.Full) return false;
      this.breaker = breaker;
      this.slot = admission === Admission.Run ? HOLDING : QUEUED;
      if (this.slot === QUEUED) span?.waitStarted();
    }
    this.timeouts = timeouts;
    this.timer = setTimeout(this.onDeadline, timeoutDeadline(timeouts, this.arrivedAt, undefined) - this.arrivedAt);
    // Node's parser finishes a request without a body right after the 'request' event: see upstreamBody.
    if (this.slot !== QUEUED) queueMicrotask(this.dispatch);
    return true;
  }

  /** The breaker passed a slot to this waiting request. */
  admit(): void {
    this.slot = HOLDING;
    this.span?.waitEnded();
    queueMicrotask(this.dispatch);
  }

  /** Records a write to the client (the response head, or a body chunk): it starts the response and resets the idle timeout. */
  protected wrote(): void {
    if (this.lastWriteAt === undefined || this.timeouts!.idleMs > 0) this.lastWriteAt = monotonicNow();
  }

  /**
   * Bounds the silences of the request body: `onStalled` runs once `body`
   * has brought no byte for `idleMs` milliseconds before its end (0: no
   * bound). Time while the body is paused does not count: the proxy then
   * holds it back itself, the app not taking it as fast (TCP flow control
   * stops the client, through no fault of its own). Stopped with the clock.
   */
  protected watchBody(body: Readable, idleMs: number, onStalled: () => void): void {
    if (idleMs === 0) return;
    const timer = setTimeout(() => {
      if (body.isPaused()) timer.refresh();
      else onStalled();
    }, idleMs);
    this.bodyTimer = timer;
    body.on('data', () => timer.refresh());
    body.once('end', () => clearTimeout(timer));
  }

  /** From now on only the total timeout applies: an upgrade tunnel is open. */
  protected onlyTotalTimeout(): void {
    this.totalOnly = true;
  }

  /** Stops the clock: the exchange is over, or has failed. A request still queued leaves the queue and never runs. */
  protected stopClock(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    clearTimeout(this.bodyTimer);
    if (this.slot === QUEUED) {
      this.slot = NO_SLOT;
      this.breaker!.cancel(this);
      this.span?.waitEnded();
    }
  }

  /** The client connection is done with the exchange: the clock stops and the slot, if held, goes to the next request. */
  protected leaveBreaker(): void {
    this.stopClock();
    if (this.slot !== HOLDING) return;
    this.slot = NO_SLOT;
    this.breaker!.release(monotonicNow());
  }

  /**
   * The client connection is done with the exchange, its response closed
   * with `statusCode` (200 when no head was sent): as {@link leaveBreaker},
   * and the trace span, if any, ends.
   */
  protected closed(statusCode: number): void {
    this.leaveBreaker();
    const span = this.span;
    if (span === undefined) return;
    this.span = undefined;
    span.ended(statusCode);
  }
}
