/** One scrape of the sidecar's Knative `Stat` (protobuf `/metrics`). */
export interface StatSample {
  /** `process_uptime` at the scrape, in seconds on the sidecar's clock. */
  uptimeSeconds: number;
  /** `queue_requests_per_second` of the last closed window. */
  requestsPerSecond: number;
  /** `queue_average_concurrent_requests` of the last closed window. */
  averageConcurrency: number;
}

/** What {@link sumWindows} found. */
export interface WindowSum {
  /** Windows with at least one request that the samples told apart. */
  busyWindows: number;
  /** Requests the sidecar reported over those windows: the sum of rate × period. */
  requests: number;
  /** Longest time between two consecutive samples, in seconds. */
  maxGapSeconds: number;
}

/**
 * Adds up the request counts of the reporting windows a series of scrapes
 * saw. Each window's values stay on show from its report tick to the next,
 * at least `periodSeconds`, so a run of samples with equal values is one
 * window, provided that
 * (a) consecutive samples are less than a quarter period apart, so no window
 *     falls between two of them; and
 * (b) a run of equal non-zero values spans less than 1.5 periods: by (a),
 *     two equal windows in a row would span at least 1.5 periods.
 * Both are checked, so the sum is exact or the call throws.
 *
 * @param samples - in scrape order
 * @param periodSeconds - the sidecar's reporting period, in seconds
 * @throws Error when (a) or (b) fails, or a rate × period is not a whole number of requests
 */
export function sumWindows(samples: readonly StatSample[], periodSeconds: number): WindowSum {
  let busyWindows = 0;
  let requests = 0;
  let maxGapSeconds = 0;
  let runStart: StatSample | undefined;
  let previous: StatSample | undefined;
  const closeRun = (last: StatSample): void => {
    if (runStart === undefined || runStart.requestsPerSecond === 0) return;
    const spanSeconds = last.uptimeSeconds - runStart.uptimeSeconds;
    if (spanSeconds >= 1.5 * periodSeconds) {
      throw new Error(`the same non-zero values were on show for ${spanSeconds.toFixed(3)} s: windows cannot be told apart`);
    }
    const count = runStart.requestsPerSecond * periodSeconds;
    if (Math.abs(count - Math.round(count)) > 1e-6) throw new Error(`rate ${runStart.requestsPerSecond} × ${periodSeconds} s is not a whole count`);
    busyWindows++;
    requests += Math.round(count);
  };
  for (const sample of samples) {
    if (previous !== undefined) {
      const gapSeconds = sample.uptimeSeconds - previous.uptimeSeconds;
      maxGapSeconds = Math.max(maxGapSeconds, gapSeconds);
      if (gapSeconds >= periodSeconds / 4) {
        throw new Error(`${gapSeconds.toFixed(3)} s between two scrapes: a window may have been missed`);
      }
      if (sample.requestsPerSecond !== previous.requestsPerSecond || sample.averageConcurrency !== previous.averageConcurrency) {
        closeRun(previous);
        runStart = sample;
      }
    } else {
      runStart = sample;
    }
    previous = sample;
  }
  if (previous !== undefined) closeRun(previous);
  return { busyWindows, requests, maxGapSeconds };
}
