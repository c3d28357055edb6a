/**
 * Gives memory back to the system once a burst is over: an attack (rapid
 * reset, thousands of held HTTP/2 streams) or a spike of real traffic grows
 * V8's heap by a hundred megabytes, and V8 keeps the freed pages resident
 * afterwards. Its own memory reducer does not run in a sidecar that keeps
 * allocating a little every second (the reporting loop): it waits for a low
 * allocation rate that it never sees, and a full GC leaves the pages in V8's
 * pool (measured on 22.23.5 and 24.22.3: 77 MB before, 185 MB 40 s after a
 * rapid reset, 93 MB after a memory-reducing GC). The CLI asks for that GC
 * itself, when nothing is in flight and the process has grown well past its
 * smallest size, so that it pauses no request and never runs twice for the
 * same growth.
 */

/** How much larger than its smallest size the process must be before memory is released: 30 %. */
export const RELEASE_GROWTH = 1.3;
/** How much it must have grown since the last release for another: 10 %. */
export const REGROWTH = 1.1;
/** The most of the last check interval the event loop may have been busy for the process to count as quiet: 5 %. */
export const QUIET_UTILIZATION = 0.05;
/** How often the CLI checks, in milliseconds. */
export const RELEASE_CHECK_INTERVAL_MS = 5000;

/**
 * The decision, without I/O: release when the process is quiet (no request
 * in flight, the event loop idle most of the last interval: not in the
 * middle of an attack whose streams come and go) and the resident size exceeds {@link RELEASE_GROWTH} times the smallest size seen
 * (from start-up on) and, after a release, {@link REGROWTH} times what that
 * release left, so that memory that stays (a larger steady load) triggers no
 * second release while a second burst does.
 */
export class MemoryReleasePolicy {
  private smallestBytes: number;
  private releasedToBytes = 0;

  /** @param startBytes - the resident size after start-up, in bytes */
  constructor(startBytes: number) {
    this.smallestBytes = startBytes;
  }

  /**
   * @param residentBytes - the process's resident size now, in bytes
   * @param inFlight - requests in flight now
   * @param utilization - the share of the last interval the event loop was busy, 0 to 1
   * @returns whether to release memory now
   */
  shouldRelease(residentBytes: number, inFlight: number, utilization: number): boolean {
    this.smallestBytes = Math.min(this.smallestBytes, residentBytes);
    return inFlight === 0 && utilization <= QUIET_UTILIZATION && residentBytes > this.smallestBytes * RELEASE_GROWTH && residentBytes > this.releasedToBytes * REGROWTH;
  }

  /** @param residentBytes - the resident size right after a release, in bytes */
  released(residentBytes: number): void {
    this.releasedToBytes = residentBytes;
  }
}

/** V8's `gc` extension, present when Node runs with `--expose-gc` (the bin's shebang passes it). */
type MemoryReducingGc = (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;

/**
 * Checks every {@link RELEASE_CHECK_INTERVAL_MS} and runs V8's memory-reducing
 * full GC (the one V8 runs under memory pressure, which also frees its pooled
 * pages) when {@link MemoryReleasePolicy} says so. Without `--expose-gc` it
 * does nothing.
 *
 * @param inFlight - the requests in flight now
 * @returns a function that stops the checks
 */
export function startMemoryRelease(inFlight: () => number): () => void {
  const gc = (globalThis as { gc?: MemoryReducingGc }).gc;
  if (gc === undefined) return () => {};
  const policy = new MemoryReleasePolicy(process.memoryUsage.rss());
  let loopBefore = performance.eventLoopUtilization();
  const timer = setInterval(() => {
    const loopNow = performance.eventLoopUtilization();
    const { utilization } = performance.eventLoopUtilization(loopNow, loopBefore);
    loopBefore = loopNow;
    if (!policy.shouldRelease(process.memoryUsage.rss(), inFlight(), utilization)) return;
    gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
    policy.released(process.memoryUsage.rss());
  }, RELEASE_CHECK_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
