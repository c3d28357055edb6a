/**
 * The concurrency limit in front of the app (Knative's breaker,
 * `pkg/queue/breaker.go`): at most `capacity` requests run at once, up to
 * `maxQueueDepth` more wait in arrival order, and one more is refused.
 * Pure state: no timers, no I/O; time comes in as an argument.
 */

/** What {@link Breaker.acquire} did with a request. */
export enum Admission {
  /** A slot was free: the request runs now and must {@link Breaker.release} it. */
  Run = 0,
  /** No slot was free: the request waits until its waiter's `admit`, or until {@link Breaker.cancel}. */
  Queued = 1,
  /** No slot and the queue is full: refused (Knative answers 503 "pending request queue full"). */
  Full = 2,
}

/** A request waiting in the breaker's queue. */
export interface BreakerWaiter {
  /** Called once, synchronously from {@link Breaker.release}, when the slot passes to this request; it must release it later. */
  admit(): void;
}

/**
 * Counts running requests against a capacity and keeps a FIFO queue of
 * waiting ones. A release hands the slot straight to the oldest waiter, so a
 * slot is free only while nobody waits.
 */
export class Breaker {
  /** Most requests running at once. */
  readonly capacity: number;
  /** Most requests waiting at once. */
  readonly maxQueueDepth: number;
  private running = 0;
  /** The waiters in arrival order (a Map keeps insertion order), each with the time it was queued, in milliseconds. */
  private readonly queue = new Map<BreakerWaiter, number>();
  private admittedFromQueue = 0;
  private waitedMs = 0;

  /**
   * @param capacity - most requests running at once, an integer >= 1
   * @param maxQueueDepth - most requests waiting at once, an integer >= 1
   * @throws RangeError if either is not an integer >= 1 (options are checked before, in core/checks.ts)
   */
  constructor(capacity: number, maxQueueDepth: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`breaker capacity must be an integer >= 1, got ${capacity}`);
    if (!Number.isSafeInteger(maxQueueDepth) || maxQueueDepth < 1) throw new RangeError(`breaker queue depth must be an integer >= 1, got ${maxQueueDepth}`);
    this.capacity = capacity;
    this.maxQueueDepth = maxQueueDepth;
  }

  /** Requests holding a slot now. */
  get inFlight(): number {
    return this.running;
  }

  /** Requests waiting in the queue now. */
  get queueDepth(): number {
    return this.queue.size;
  }

  /** Requests that waited in the queue and then got a slot, since the breaker was made. */
  get queuedRequests(): number {
    return this.admittedFromQueue;
  }

  /** Total time those requests waited, in milliseconds. */
  get queuedMs(): number {
    return this.waitedMs;
  }

  /**
   * Takes a slot for `waiter` if one is free, else queues it if the queue has
   * room.
   *
   * @param now - the time, in milliseconds of the clock later given to {@link release}
   */
  acquire(waiter: BreakerWaiter, now: number): Admission {
    if (this.running < this.capacity) {
      this.running++;
      return Admission.Run;
    }
    if (this.queue.size >= this.maxQueueDepth) return Admission.Full;
    this.queue.set(waiter, now);
    return Admission.Queued;
  }

  /**
   * Gives a slot back: the oldest waiter gets it (its `admit` runs before
   * this returns), or it becomes free.
   *
   * @param now - the time, in milliseconds, that ends the waiter's time in the queue
   * @throws Error if no slot is held: an acquire and a release that do not pair are a bug of the caller
   */
  release(now: number): void {
    if (this.running === 0) throw new Error('breaker: release without a slot held');
    for (const [waiter, queuedAt] of this.queue) {
      this.queue.delete(waiter);
      this.admittedFromQueue++;
      this.waitedMs += now - queuedAt;
      waiter.admit();
      return;
    }
    this.running--;
  }

  /**
   * Takes a waiter out of the queue without a slot (its client left, or its
   * time ran out).
   *
   * @returns whether it was waiting
   */
  cancel(waiter: BreakerWaiter): boolean {
    return this.queue.delete(waiter);
  }
}
