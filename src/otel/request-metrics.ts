import type { Attributes, Histogram, Meter, ObservableCallback, ObservableGauge } from '@opentelemetry/api';
import { REQUEST_METRIC } from '../core/metric-names.js';
import type { RequestObserver } from '../core/request-observer.js';
import { queueStatsMeter } from './meter.js';

/** Options of {@link RequestMetrics}. */
export interface RequestMetricsOptions {
  /** Meter to record on. Default: this package's meter from the global API's MeterProvider. */
  meter?: Meter;
  /**
   * Reads how many requests wait in the queue, read at each collection for
   * the `kn.serving.queue.depth` gauge. Absent: the gauge is not registered.
   */
  queueDepth?: () => number;
}

/**
 * Knative's request metrics on the OTel Meter API: the histogram
 * `kn.serving.invocation.duration` (seconds, Knative's buckets from 5 ms to
 * 10 s, attribute `http.response.status_code`) fed by
 * {@link RequestMetrics.requestEnded}, and the gauge `kn.serving.queue.depth`
 * read from `queueDepth`. Knative records the depth on a synchronous gauge at
 * each request's arrival; an observable gauge reads the same number at
 * collection time and costs the requests nothing.
 */
export class RequestMetrics implements RequestObserver {
  private readonly duration: Histogram;
  private readonly meter: Meter;
  private readonly depthGauge: ObservableGauge | undefined;
  private readonly depthCallback: ObservableCallback | undefined;
  /** One frozen attribute set per status code seen, so recording allocates none (Node keeps codes within 100 to 999). */
  private readonly attributesByStatus = new Map<number, Attributes>();

  constructor(options: RequestMetricsOptions = {}) {
    this.meter = options.meter ?? queueStatsMeter();
    this.duration = this.meter.createHistogram(REQUEST_METRIC.duration, {
      description: REQUEST_METRIC.durationHelp,
      unit: REQUEST_METRIC.durationUnit,
      advice: { explicitBucketBoundaries: [...REQUEST_METRIC.durationBuckets] },
    });
    const queueDepth = options.queueDepth;
    if (queueDepth !== undefined) {
      this.depthGauge = this.meter.createObservableGauge(REQUEST_METRIC.queueDepth, { description: REQUEST_METRIC.queueDepthHelp, unit: REQUEST_METRIC.queueDepthUnit });
      this.depthCallback = (result) => result.observe(queueDepth());
      this.depthGauge.addCallback(this.depthCallback);
    }
  }

  /**
   * Records one request's duration under its status code.
   *
   * @param statusCode - the response's status code
   * @param durationSeconds - seconds from arrival to the response's close
   */
  requestEnded(statusCode: number, durationSeconds: number): void {
    let attributes = this.attributesByStatus.get(statusCode);
    if (attributes === undefined) {
      attributes = Object.freeze({ [REQUEST_METRIC.statusCodeAttribute]: statusCode });
      this.attributesByStatus.set(statusCode, attributes);
    }
    this.duration.record(durationSeconds, attributes);
  }

  /** Stops reading the queue depth; the histogram keeps what it recorded. Idempotent. */
  shutdown(): void {
    if (this.depthGauge !== undefined && this.depthCallback !== undefined) this.depthGauge.removeCallback(this.depthCallback);
  }
}
