import { PerformanceObserver, performance, type PerformanceEntry } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { medianBy } from './median.js';

/**
 * A benchmark loop: performs `iterations` operations in one call. Each
 * benchmark writes its own loop function, so the operation is inlined into
 * it rather than called through a shared, polymorphic call site.
 */
export type Loop = (iterations: number) => void;

/** Sizes of one {@link measureLoop}. */
export interface LoopOptions {
  /** Operations per timed run. */
  iterations: number;
  /** Timed runs; the median is reported. Default 3. */
  repeats?: number;
  /**
   * Untimed calls first, of iterations / 50 operations each, so the loop
   * function itself gets optimised (one long call would run in the
   * interpreter until on-stack replacement, allocating as it goes). Default 20.
   */
  warmupCalls?: number;
}

/** What {@link measureLoop} measured. */
export interface LoopResult {
  /** Median over the timed runs, in nanoseconds per operation. */
  nsPerOp: number;
  /** Garbage collections (any kind) that started during the timed runs. */
  gcCount: number;
  /** Bytes allocated per operation, from a short run that saw no garbage collection; NaN if none did. */
  bytesPerOp: number;
}

/** Operations in one allocation probe: small enough to fit in the young generation, large enough to show 1 byte per operation. */
const PROBE_ITERATIONS = 100_000;
const PROBE_ATTEMPTS = 5;

/** True when a result shows no allocation in the loop: no GC during the timed runs, and under 1 byte per operation allocated. */
export function allocatesNothing(result: LoopResult): boolean {
  return result.gcCount === 0 && result.bytesPerOp < 1;
}

// GC entries are created in an immediate after the collection ends, so wait a
// little before reading them.
const flushGcEntries = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));

interface Window {
  start: number;
  end: number;
  grownBytes: number;
}

function runWindow(loop: Loop, iterations: number): Window {
  const heapBefore = getHeapStatistics().used_heap_size;
  const start = performance.now();
  loop(iterations);
  const end = performance.now();
  return { start, end, grownBytes: getHeapStatistics().used_heap_size - heapBefore };
}

/**
 * Times a loop and measures what it allocates.
 *
 * V8 allocates every JS object in the young generation, a few MiB, so a
 * timed run of millions of operations that allocated even a few bytes each
 * starts at least one scavenge; `perf_hooks` reports each as a `gc` entry,
 * and the entries that started inside a timed run are counted. The bytes per
 * operation come from short probe runs: in a probe that saw no GC, used heap
 * size only grows by what was allocated, so growth over operations is the
 * allocation per operation.
 */
export async function measureLoop(loop: Loop, options: LoopOptions): Promise<LoopResult> {
  const { iterations } = options;
  const warmupCalls = options.warmupCalls ?? 20;
  for (let call = 0; call < warmupCalls; call++) loop(Math.ceil(iterations / 50));

  const gcEntries: PerformanceEntry[] = [];
  const observer = new PerformanceObserver((list) => {
    gcEntries.push(...list.getEntries());
  });
  observer.observe({ entryTypes: ['gc'] });
  const collectionsIn = (window: Window): number => gcEntries.filter((entry) => entry.startTime >= window.start && entry.startTime <= window.end).length;
  try {
    await flushGcEntries();
    const timed: Window[] = [];
    for (let repeat = 0; repeat < (options.repeats ?? 3); repeat++) timed.push(runWindow(loop, iterations));
    const probes: Window[] = [];
    for (let attempt = 0; attempt < PROBE_ATTEMPTS; attempt++) probes.push(runWindow(loop, PROBE_ITERATIONS));
    await flushGcEntries();

    const clean = probes.find((probe) => collectionsIn(probe) === 0);
    return {
      nsPerOp: medianBy(
        timed.map((window) => ((window.end - window.start) * 1e6) / iterations),
        (value) => value,
      ),
      gcCount: timed.reduce((sum, window) => sum + collectionsIn(window), 0),
      bytesPerOp: clean === undefined ? Number.NaN : Math.max(0, clean.grownBytes) / PROBE_ITERATIONS,
    };
  } finally {
    observer.disconnect();
  }
}
