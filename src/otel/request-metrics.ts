import type { Attributes, BatchObservableCallback, Histogram, Meter, Observable } from '@opentelemetry/api';
import type { BreakerReadings } from '../core/breaker.js';
import { REQUEST_METRIC } from '../core/metric-names.js';
import type { RequestObserver } from '../core/request-observer.js';
import { queueStatsMeter } from './meter.js';

/** Options of {@link RequestMetrics}. */
export interface RequestMetricsOptions {
  /** Meter to record on. Default: this package's meter from the global API's MeterProvider. */
  meter?: Meter;
  /**
   * Reads the concurrency limit's load at each collection, for the gauge
   * `kn.serving.queue.depth` and the counters `queue.wait.requests` and
   * `queue.wait.time`; a reading of `undefined` observes nothing. Absent
   * (no limit, as Knative has no breaker then): none of the three is registered.
   */
  breaker?: () => BreakerReadings | undefined;
}

/**
 * Knative's request metrics on the OTel Meter API: the histogram
 * `kn.serving.invocation.duration` (seconds, Knative's buckets from 5 ms to
 * 10 s, attribute `http.response.status_code`) fed by
 * {@link RequestMetrics.requestEnded}, and, with a breaker, the gauge
 * `kn.serving.queue.depth`: the requests in the breaker, at the app or
 * waiting (Knative's `Breaker.InFlight`). Knative records that number on a
 * synchronous gauge as each request enters its app; an observable gauge reads
 * it at collection time instead and costs the requests nothing. Two
 * counters of our own make the time spent waiting observable, which
 * Knative's metrics do not: `queue.wait.requests` (requests that waited for a
 * slot) and `queue.wait.time` (their total wait, in seconds).
 */
export class RequestMetrics implements RequestObserver {
  private readonly duration: Histogram;
  private readonly meter: Meter;
  private readonly queueObservables: Observable[] = [];
  private readonly queueCallback: BatchObservableCallback | undefined;
  /** One frozen attribute set per status code seen, so recording allocates none (Node keeps codes within 100 to 999). */
  private readonly attributesByStatus = new Map<number, Attributes>();

  constructor(options: RequestMetricsOptions = {}) {
    this.meter = options.meter ?? queueStatsMeter();
    this.duration = this.meter.createHistogram(REQUEST_METRIC.duration, {
      description: REQUEST_METRIC.durationHelp,
      unit: REQUEST_METRIC.durationUnit,
      advice: { explicitBucketBoundaries: [...REQUEST_METRIC.durationBuckets] },
    });
    const read = options.breaker;
    if (read !== undefined) {
      const depth = this.meter.createObservableGauge(REQUEST_METRIC.queueDepth, { description: REQUEST_METRIC.queueDepthHelp, unit: REQUEST_METRIC.queueDepthUnit });
      const waited = this.meter.createObservableCounter(REQUEST_METRIC.queueWaitRequests, { description: REQUEST_METRIC.queueWaitRequestsHelp, unit: REQUEST_METRIC.queueDepthUnit });
      const waitTime = this.meter.createObservableCounter(REQUEST_METRIC.queueWaitTime, { description: REQUEST_METRIC.queueWaitTimeHelp, unit: REQUEST_METRIC.durationUnit });
      this.queueObservables.push(depth, waited, waitTime);
      this.queueCallback = (result) => {
        const breaker = read();
        if (breaker === undefined) return;
        result.observe(depth, breaker.inFlight + breaker.queueDepth);
        result.observe(waited, breaker.queuedRequests);
        result.observe(waitTime, breaker.queuedMs / 1000);
      };
      this.meter.addBatchObservableCallback(this.queueCallback, this.queueObservables);
    }
  }

  /**
   * Records one request's duration under its status code.
   *
   * @param statusCode - the response's status code
   * @param durationSeconds - seconds from the moment the request could go to the app to the response's close
   */
  requestEnded(statusCode: number, durationSeconds: number): void {
    let attributes = this.attributesByStatus.get(statusCode);
    if (attributes === undefined) {
      attributes = Object.freeze({ [REQUEST_METRIC.statusCodeAttribute]: statusCode });
      this.attributesByStatus.set(statusCode, attributes);
    }
    this.duration.record(durationSeconds, attributes);
  }

  /** Stops reading the breaker; the histogram keeps what it recorded. Idempotent. */
  shutdown(): void {
    if (this.queueCallback !== undefined) this.meter.removeBatchObservableCallback(this.queueCallback, this.queueObservables);
  }
}
