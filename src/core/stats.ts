/**
 * Time-weighted request statistics, with the semantics of Knative's
 * `netstats.RequestStats` (knative/networking pkg/http/stats): between two
 * changes the current concurrency is weighted by the time it lasted, and a
 * report divides the weighted sum by the time that passed. Pure: no clock,
 * no I/O; every time is an argument in milliseconds.
 */

/** The kind of a request event. Proxied events also count as plain ones. */
export enum ReqEventType {
  /** A request arrived. */
  ReqIn = 0,
  /** A request finished. */
  ReqOut = 1,
  /** A request that came through the activator (`K-Proxy-Request: activator`) arrived. */
  ProxiedIn = 2,
  /** A proxied request finished. */
  ProxiedOut = 3,
}

/** One request event. */
export interface ReqEvent {
  /** When it happened, in milliseconds on the same clock as every other time given. */
  time: number;
  /** What happened. */
  type: ReqEventType;
}

/** What one reporting window measured. */
export interface StatsReport {
  /** Time-weighted average number of requests in flight over the window. */
  averageConcurrency: number;
  /** Time-weighted average number of proxied requests in flight over the window. */
  averageProxiedConcurrency: number;
  /** Requests that arrived in the window (proxied ones included). */
  requestCount: number;
  /** Proxied requests that arrived in the window. */
  proxiedRequestCount: number;
}

function badTime(time: number): never {
  throw new RangeError(`time must be a finite number of milliseconds, got ${String(time)}`);
}

function checkTime(time: number): void {
  // The throw lives in its own function so the inlined check keeps `time` unboxed.
  if (!Number.isFinite(time)) badTime(time);
}

/** A time in milliseconds as a whole number of microseconds. */
function toMicroseconds(timeMs: number): number {
  return Math.round(timeMs * 1000);
}

/**
 * Accumulates request events and turns them into one {@link StatsReport} per
 * reporting window.
 *
 * @example
 * const stats = new RequestStats(0);
 * stats.handle(ReqEventType.ReqIn, 0);
 * stats.handle(ReqEventType.ReqOut, 500);
 * stats.report(1000); // averageConcurrency 0.5, requestCount 1
 */
export class RequestStats {
  private concurrency = 0;
  private proxiedConcurrency = 0;
  // Time is kept in whole microseconds, and the weighted sums as integers (concurrency × µs): below 2^53 integer
  // sums are exact, so a window at a constant concurrency c reports exactly c. Summing c × seconds in floating point
  // does not (3 × 0.1 / 0.1 is 3.0000000000000004), and a gauge read as 3 must be 3. 1 µs is far finer than the 1 s
  // windows the autoscaler reads.
  private lastChangeUs = 0;
  private requestCount = 0;
  private proxiedCount = 0;
  private concurrencyUs = 0;
  private proxiedConcurrencyUs = 0;
  private usInUse = 0;

  /**
   * @param startedAtMs - when the first window starts, in milliseconds
   * @throws RangeError if `startedAtMs` is not a finite number
   */
  constructor(startedAtMs: number) {
    checkTime(startedAtMs);
    this.lastChangeUs = toMicroseconds(startedAtMs);
  }

  /** Requests in flight right now (proxied ones included). */
  get inFlight(): number {
    return this.concurrency;
  }

  /** Proxied requests in flight right now. */
  get proxiedInFlight(): number {
    return this.proxiedConcurrency;
  }

  /**
   * Records one event. Same as {@link RequestStats.handle}, for callers that
   * already hold an event object.
   *
   * @throws RangeError if the time is not finite or the type is unknown
   */
  handleEvent(event: ReqEvent): void {
    this.handle(event.type, event.time);
  }

  /**
   * Records one event without allocating. A time earlier than the last
   * change does not move time back, but the event still changes the counts.
   *
   * @param type - what happened
   * @param timeMs - when, in milliseconds
   * @throws RangeError if `timeMs` is not finite or `type` is unknown
   */
  handle(type: ReqEventType, timeMs: number): void {
    checkTime(timeMs);
    switch (type) {
      case ReqEventType.ProxiedIn:
        this.accumulate(timeMs);
        this.proxiedConcurrency++;
        this.proxiedCount++;
        this.concurrency++;
        this.requestCount++;
        return;
      case ReqEventType.ReqIn:
        this.accumulate(timeMs);
        this.concurrency++;
        this.requestCount++;
        return;
      case ReqEventType.ProxiedOut:
        this.accumulate(timeMs);
        this.proxiedConcurrency--;
        this.concurrency--;
        return;
      case ReqEventType.ReqOut:
        this.accumulate(timeMs);
        this.concurrency--;
        return;
      default:
        throw new RangeError(`type must be a ReqEventType, got ${String(type)}`);
    }
  }

  /**
   * Closes the window at `nowMs`: returns its averages and counts, then starts
   * a new window. Requests still in flight carry over into the new window.
   *
   * @param nowMs - the end of the window, in milliseconds
   * @throws RangeError if `nowMs` is not finite; nothing is reset then
   */
  report(nowMs: number): StatsReport {
    checkTime(nowMs);
    this.accumulate(nowMs);
    const us = this.usInUse;
    const report: StatsReport = {
      averageConcurrency: us > 0 ? this.concurrencyUs / us : 0,
      averageProxiedConcurrency: us > 0 ? this.proxiedConcurrencyUs / us : 0,
      requestCount: this.requestCount,
      proxiedRequestCount: this.proxiedCount,
    };
    this.requestCount = 0;
    this.proxiedCount = 0;
    this.concurrencyUs = 0;
    this.proxiedConcurrencyUs = 0;
    this.usInUse = 0;
    return report;
  }

  private accumulate(timeMs: number): void {
    const timeUs = toMicroseconds(timeMs);
    const elapsedUs = timeUs - this.lastChangeUs;
    if (elapsedUs > 0) {
      this.usInUse += elapsedUs;
      this.concurrencyUs += this.concurrency * elapsedUs;
      this.proxiedConcurrencyUs += this.proxiedConcurrency * elapsedUs;
      this.lastChangeUs = timeUs;
    }
  }
}
