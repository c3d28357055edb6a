/**
 * Gives memory back to the system once a burst is over: an attack (rapid
 * reset, thousands of held HTTP/2 streams) or a spike of real traffic grows
 * V8's heap by a hundred megabytes, and V8 keeps the freed pages resident
 * afterwards. Its own memory reducer does not run in a sidecar that keeps
 * allocating a little every second (the reporting loop): it waits for a low
 * allocation rate that it never sees, and a full GC leaves the pages in V8's
 * pool (measured on 22.23.5 and 24.22.3: 77 MB before, 185 MB 40 s after a
 * rapid reset, 93 MB after a memory-reducing GC). The CLI asks for that GC
 * itself, when nothing is in flight and the process has grown well past the
 * size it settled at, so that it pauses no request and never runs twice for
 * the same growth.
 */

/** How much larger than its settled size the process must be before memory is released: 30 %. */
export const RELEASE_GROWTH = 1.3;
/** How often the CLI checks, in milliseconds. */
export const RELEASE_CHECK_INTERVAL_MS = 5000;

/**
 * The decision, without I/O: release when the resident size exceeds
 * {@link RELEASE_GROWTH} times the settled size and no request is in flight.
 * The settled size starts at the size after start-up, follows the process
 * down, and is reset to what remains after each release, so that memory that
 * stays (a larger steady load) triggers no second release.
 */
export class MemoryReleasePolicy {
  private settledBytes: number;

  /** @param startBytes - the resident size after start-up, in bytes */
  constructor(startBytes: number) {
    this.settledBytes = startBytes;
  }

  /**
   * @param residentBytes - the process's resident size now, in bytes
   * @param inFlight - requests in flight now
   * @returns whether to release memory now
   */
  shouldRelease(residentBytes: number, inFlight: number): boolean {
    this.settledBytes = Math.min(this.settledBytes, residentBytes);
    return inFlight === 0 && residentBytes > this.settledBytes * RELEASE_GROWTH;
  }

  /** @param residentBytes - the resident size right after a release, in bytes */
  released(residentBytes: number): void {
    this.settledBytes = residentBytes;
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
  const timer = setInterval(() => {
    if (!policy.shouldRelease(process.memoryUsage.rss(), inFlight())) return;
    gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
    policy.released(process.memoryUsage.rss());
  }, RELEASE_CHECK_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
