import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Admission, Breaker, type BreakerWaiter } from '../src/core/breaker.js';

/** A waiter that records, in `admitted`, its name when it gets a slot. */
function waiters(admitted: string[], ...names: string[]): BreakerWaiter[] {
  return names.map((name) => ({ admit: () => admitted.push(name) }));
}

describe('Breaker admission', () => {
  it('runs up to capacity, queues up to the depth, refuses one more', () => {
    const breaker = new Breaker(2, 3);
    const [a, b, c, d, e, f] = waiters([], 'a', 'b', 'c', 'd', 'e', 'f');
    assert.deepEqual(
      [a, b, c, d, e, f].map((w) => breaker.acquire(w!, 0)),
      [Admission.Run, Admission.Run, Admission.Queued, Admission.Queued, Admission.Queued, Admission.Full],
    );
    assert.deepEqual([breaker.inFlight, breaker.queueDepth], [2, 3]);
  });

  it('with capacity 1 and depth 10, 20 at once: 1 runs, 10 wait, 9 are refused', () => {
    const breaker = new Breaker(1, 10);
    const results = waiters([], ...Array.from({ length: 20 }, (_, i) => String(i))).map((w) => breaker.acquire(w, 0));
    assert.deepEqual(
      [Admission.Run, Admission.Queued, Admission.Full].map((kind) => results.filter((r) => r === kind).length),
      [1, 10, 9],
    );
  });
});

describe('Breaker release', () => {
  it('hands the slot to the oldest waiter first (FIFO), frees it once nobody waits, and sums the waits: in at 10, out at 20, 30, 40 gives 60 ms', () => {
    const admitted: string[] = [];
    const breaker = new Breaker(1, 5);
    const [a, b, c, d] = waiters(admitted, 'a', 'b', 'c', 'd');
    breaker.acquire(a!, 0);
    for (const w of [b, c, d]) breaker.acquire(w!, 10);
    breaker.release(20);
    breaker.release(30);
    assert.deepEqual(admitted, ['b', 'c']);
    assert.deepEqual([breaker.inFlight, breaker.queueDepth], [1, 1]);
    breaker.release(40);
    breaker.release(50);
    assert.deepEqual(admitted, ['b', 'c', 'd']);
    assert.deepEqual([breaker.inFlight, breaker.queueDepth], [0, 0]);
    assert.deepEqual([breaker.queuedRequests, breaker.queuedMs], [3, 60]);
    assert.equal(breaker.acquire(a!, 60), Admission.Run);
  });

  it('refuses a release without a slot held', () => {
    assert.throws(() => new Breaker(1, 1).release(0), { message: 'breaker: release without a slot held' });
  });
});

describe('Breaker cancel', () => {
  it('takes a waiter out of the queue: it never gets a slot, and makes room for another', () => {
    const admitted: string[] = [];
    const breaker = new Breaker(1, 2);
    const [a, b, c, d] = waiters(admitted, 'a', 'b', 'c', 'd');
    assert.deepEqual(
      [a, b, c, d].map((w) => breaker.acquire(w!, 0)),
      [Admission.Run, Admission.Queued, Admission.Queued, Admission.Full],
    );
    assert.equal(breaker.cancel(b!), true);
    assert.equal(breaker.cancel(b!), false);
    assert.equal(breaker.acquire(d!, 0), Admission.Queued);
    breaker.release(1);
    breaker.release(2);
    assert.deepEqual(admitted, ['c', 'd']);
    assert.equal(breaker.queuedRequests, 2);
  });

  it('is false for a request that holds a slot', () => {
    const breaker = new Breaker(1, 1);
    const [a] = waiters([], 'a');
    breaker.acquire(a!, 0);
    assert.equal(breaker.cancel(a!), false);
    assert.equal(breaker.inFlight, 1);
  });
});

describe('Breaker construction', () => {
  for (const [capacity, depth, message] of [
    [0, 10, 'breaker capacity must be an integer >= 1, got 0'],
    [1.5, 10, 'breaker capacity must be an integer >= 1, got 1.5'],
    [1, 0, 'breaker queue depth must be an integer >= 1, got 0'],
  ] as const) {
    it(`refuses capacity ${capacity} with depth ${depth}`, () => {
      assert.throws(() => new Breaker(capacity, depth), { name: 'RangeError', message });
    });
  }
});
