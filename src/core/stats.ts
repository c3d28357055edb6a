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
  // Initialised so the field starts as a double, not undefined (a boxed store per event otherwise).
  private lastChangeMs = 0;
  private requestCount = 0;
  private proxiedCount = 0;
  private concurrencySeconds = 0;
  private proxiedConcurrencySeconds = 0;
  private secondsInUse = 0;

  /**
   * @param startedAtMs - when the first window starts, in milliseconds
   * @throws RangeError if `startedAtMs` is not a finite number
   */
  constructor(startedAtMs: number) {
    checkTime(startedAtMs);
    this.lastChangeMs = startedAtMs;
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
    const seconds = this.secondsInUse;
    const report: StatsReport = {
      averageConcurrency: seconds > 0 ? this.concurrencySeconds / seconds : 0,
      averageProxiedConcurrency: seconds > 0 ? this.proxiedConcurrencySeconds / seconds : 0,
      requestCount: this.requestCount,
      proxiedRequestCount: this.proxiedCount,
    };
    this.requestCount = 0;
    this.proxiedCount = 0;
    this.concurrencySeconds = 0;
    this.proxiedConcurrencySeconds = 0;
    this.secondsInUse = 0;
    return report;
  }

  private accumulate(timeMs: number): void {
    const elapsedMs = timeMs - this.lastChangeMs;
    if (elapsedMs > 0) {
      const seconds = elapsedMs / 1000;
      this.secondsInUse += seconds;
      this.concurrencySeconds += this.concurrency * seconds;
      this.proxiedConcurrencySeconds += this.proxiedConcurrency * seconds;
      this.lastChangeMs = timeMs;
    }
  }
}
