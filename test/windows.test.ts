import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sumWindows, type StatSample } from './helpers/windows.js';

/** Samples every `stepSeconds` from 0, one per entry of [rate, concurrency]. */
function samples(stepSeconds: number, values: ReadonlyArray<readonly [number, number]>): StatSample[] {
  return values.map(([requestsPerSecond, averageConcurrency], i) => ({ uptimeSeconds: i * stepSeconds, requestsPerSecond, averageConcurrency }));
}

describe("sumWindows (the soak's exact count of reported requests)", () => {
  it('counts each run of equal values once: 0, 20 x3, 24 x4, 0 sampled every 0.125 s with a 0.75 s period gives 2 windows, (20 + 24) x 0.75 = 33 requests', () => {
    const seen = samples(0.125, [
      [0, 0],
      [20, 3.5],
      [20, 3.5],
      [20, 3.5],
      [24, 4.25],
      [24, 4.25],
      [24, 4.25],
      [24, 4.25],
      [0, 0],
    ]);
    assert.deepEqual(sumWindows(seen, 0.75), { busyWindows: 2, requests: 33, maxGapSeconds: 0.125 });
  });

  it('tells equal rates apart by their concurrency', () => {
    const seen = samples(0.2, [
      [5, 1],
      [5, 1],
      [5, 2],
      [5, 2],
    ]);
    assert.equal(sumWindows(seen, 1).requests, 10);
  });

  it('throws when scrapes are a quarter period or more apart', () => {
    assert.throws(
      () =>
        sumWindows(
          samples(0.25, [
            [1, 1],
            [2, 1],
          ]),
          1,
        ),
      /0\.250 s between two scrapes/,
    );
  });

  it('throws when the same non-zero values last 1.5 periods (two equal windows in a row)', () => {
    const seen = samples(
      0.2,
      Array.from({ length: 9 }, () => [7, 1] as const),
    );
    assert.throws(() => sumWindows(seen, 1), /on show for 1\.600 s/);
  });

  it('throws when rate x period is not a whole number of requests', () => {
    assert.throws(() => sumWindows(samples(0.1, [[2.5, 1]]), 1), /not a whole count/);
  });
});
