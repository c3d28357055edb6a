import type { Attributes, BatchObservableCallback, Meter, ObservableGauge } from '@opentelemetry/api';
import { monotonicNow } from '../core/clock.js';
import { requirePeriodMs } from '../core/checks.js';
import { DEFAULTS } from '../core/defaults.js';
import { checkIdentity, type Identity } from '../core/identity.js';
import { queueStatsMeter } from './meter.js';
import { LABEL, METRIC, METRIC_HELP } from '../core/metric-names.js';
import type { StatsReport } from '../core/stats.js';

/** Options of {@link StatsReporter}. */
export interface StatsReporterOptions extends Identity {
  /**
   * Length of one reporting window in milliseconds; the per-second rates divide by it. > 0 and at
   * most 2147483647, as the reporting loop's period it matches. Default 1000.
   */
  reportingPeriodMs?: number;
  /** Meter to register the gauges on. Default: this package's meter from the global API's MeterProvider. */
  meter?: Meter;
  /** Clock for `process_uptime`, in milliseconds. Default `performance.now`. */
  now?: () => number;
}

/** The fields of a report, in the order {@link StatsReporter.report} checks them. */
const REPORT_FIELDS = ['averageConcurrency', 'averageProxiedConcurrency', 'requestCount', 'proxiedRequestCount'] as const;

/**
 * Publishes Knative's autoscaling gauges (`queue_requests_per_second`,
 * `queue_proxied_operations_per_second`, `queue_average_concurrent_requests`,
 * `queue_average_proxied_concurrent_requests`, `process_uptime`) as OTel
 * ObservableGauges. {@link StatsReporter.report} only stores the latest
 * window; the gauges read it whenever a reader collects.
 */
export class StatsReporter {
  /** The attributes every series carries, in alphabetical order as client_golang sorts labels. */
  readonly attributes: Readonly<Attributes>;
  private readonly periodSeconds: number;
  private readonly meter: Meter;
  private readonly now: () => number;
  private readonly startedAtMs: number;
  private readonly gauges: ObservableGauge[];
  private readonly callback: BatchObservableCallback;
  private requestsPerSecond = 0;
  private proxiedRequestsPerSecond = 0;
  private averageConcurrency = 0;
  private averageProxiedConcurrency = 0;
  private stopped = false;

  /**
   * Registers the five gauges on the meter; each is exported with value 0
   * until the first {@link StatsReporter.report}.
   *
   * @throws ConfigError `namespace must not be empty` (then config, revision,
   *   pod, in that order), or when `reportingPeriodMs` is not a finite number > 0
   *   and at most 2147483647
   */
  constructor(options: StatsReporterOptions) {
    const { namespace, config, revision, pod } = checkIdentity(options);
    this.periodSeconds = requirePeriodMs('reportingPeriodMs', options.reportingPeriodMs ?? DEFAULTS.reportingPeriodMs) / 1000;
    this.attributes = Object.freeze({
      [LABEL.configuration]: config,
      [LABEL.namespace]: namespace,
      [LABEL.pod]: pod,
      [LABEL.revision]: revision,
    });
    this.now = options.now ?? monotonicNow;
    this.startedAtMs = this.now();
    this.meter = options.meter ?? queueStatsMeter();
    const gauge = (name: string) => this.meter.createObservableGauge(name, { description: METRIC_HELP[name] });
    const uptime = gauge(METRIC.processUptime);
    const concurrency = gauge(METRIC.averageConcurrentRequests);
    const proxiedConcurrency = gauge(METRIC.averageProxiedConcurrentRequests);
    const proxiedRate = gauge(METRIC.proxiedOperationsPerSecond);
    const rate = gauge(METRIC.requestsPerSecond);
    this.gauges = [uptime, concurrency, proxiedConcurrency, proxiedRate, rate];
    this.callback = (result) => {
      const attributes = this.attributes;
      result.observe(uptime, (this.now() - this.startedAtMs) / 1000, attributes);
      result.observe(concurrency, this.averageConcurrency, attributes);
      result.observe(proxiedConcurrency, this.averageProxiedConcurrency, attributes);
      result.observe(proxiedRate, this.proxiedRequestsPerSecond, attributes);
      result.observe(rate, this.requestsPerSecond, attributes);
    };
    this.meter.addBatchObservableCallback(this.callback, this.gauges);
  }

  /**
   * Replaces the values the gauges show with one window's results. The
   * counts are divided by the reporting period to give per-second rates.
   *
   * @throws RangeError naming the field when one is NaN, infinite or
   *   negative; the previous values stay then
   */
  report(report: StatsReport): void {
    for (const field of REPORT_FIELDS) {
      const value = report[field];
      if (typeof value !== 'number' || !(value >= 0) || value === Infinity) {
        throw new RangeError(`${field} must be a finite number >= 0, got ${String(value)}`);
      }
    }
    this.averageConcurrency = report.averageConcurrency;
    this.averageProxiedConcurrency = report.averageProxiedConcurrency;
    this.requestsPerSecond = report.requestCount / this.periodSeconds;
    this.proxiedRequestsPerSecond = report.proxiedRequestCount / this.periodSeconds;
  }

  /**
   * Stops observing: later collections no longer call this reporter.
   * Idempotent. The OTel SDK keeps exporting the last observed values
   * (opentelemetry-js #4096); shut the MeterProvider down to remove them.
   */
  shutdown(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.meter.removeBatchObservableCallback(this.callback, this.gauges);
  }
}
