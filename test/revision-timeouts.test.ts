import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { timeoutDeadline } from '../src/core/revision-timeouts.js';

describe('timeoutDeadline', () => {
  const cases: [string, { totalMs: number; responseStartMs: number; idleMs: number }, number, number | undefined, number][] = [
    ['total only, nothing written: arrival + total', { totalMs: 1000, responseStartMs: 0, idleMs: 0 }, 100, undefined, 1100],
    ['total only, written at 500: still arrival + total', { totalMs: 1000, responseStartMs: 0, idleMs: 0 }, 100, 500, 1100],
    ['response start, nothing written: arrival + start', { totalMs: 1000, responseStartMs: 300, idleMs: 0 }, 100, undefined, 400],
    ['response start, head written at 200: no longer applies', { totalMs: 1000, responseStartMs: 300, idleMs: 0 }, 100, 200, 1100],
    ['idle, nothing written: arrival + idle', { totalMs: 1000, responseStartMs: 0, idleMs: 200 }, 100, undefined, 300],
    ['idle, last write at 700: 700 + idle', { totalMs: 1000, responseStartMs: 0, idleMs: 200 }, 100, 700, 900],
    ['idle, last write at 1000: the total comes first', { totalMs: 1000, responseStartMs: 0, idleMs: 200 }, 100, 1000, 1100],
    ['all three, nothing written: the earliest', { totalMs: 1000, responseStartMs: 300, idleMs: 250 }, 0, undefined, 250],
  ];
  for (const [name, timeouts, arrivedAt, lastWriteAt, expected] of cases) {
    it(`${name} gives ${expected}`, () => {
      assert.equal(timeoutDeadline(timeouts, arrivedAt, lastWriteAt), expected);
    });
  }
});
