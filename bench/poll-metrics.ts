/** Knative's autoscaler scrapes every pod once a second. */
const SCRAPE_INTERVAL_MS = 1000;
const REQUESTS_PER_SECOND = /^queue_requests_per_second\{[^}]*\} (\S+)$/m;

/** A background scraper of a queue-stats /metrics endpoint. */
export interface Scraper {
  /** Stops scraping. Idempotent. */
  stop(): void;
  /**
   * The highest `queue_requests_per_second` seen so far.
   *
   * @throws Error when a scrape failed
   */
  peak(): number;
}

/**
 * Scrapes `url` every {@link SCRAPE_INTERVAL_MS}, as the autoscaler would,
 * until stopped. Its peak `queue_requests_per_second` shows that the
 * requests were counted.
 */
export function scrapeRegularly(url: string): Scraper {
  let peak = 0;
  let failure: unknown;
  const timer = setInterval(() => {
    fetch(url)
      .then((response) => response.text())
      .then((body) => {
        peak = Math.max(peak, Number(REQUESTS_PER_SECOND.exec(body)?.[1] ?? 0));
      })
      .catch((error: unknown) => {
        failure ??= error;
      });
  }, SCRAPE_INTERVAL_MS);
  return {
    stop: () => clearInterval(timer),
    peak() {
      if (failure !== undefined) throw new Error(`scraping ${url} failed`, { cause: failure });
      return peak;
    },
  };
}
