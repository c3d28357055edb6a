import { diag } from '@opentelemetry/api';
import type { StatsReport, RequestStats } from '../core/stats.js';
import { monotonicNow } from '../core/clock.js';
import { requirePeriodMs } from '../core/checks.js';
import { DEFAULTS } from '../core/defaults.js';

/** Where the loop hands each window's report; {@link StatsReporter} is one. */
export interface ReportSink {
  report(report: StatsReport): void;
}

/** Options of {@link ReportingLoop}. */
export interface ReportingLoopOptions {
  /** The statistics to close a window on every tick. */
  stats: RequestStats;
  /** Receives each window's report. */
  sink: ReportSink;
  /** Tick period in milliseconds: > 0 and at most 2147483647 (the longest delay Node's timers take). Default 1000 (Knative's reporting period). */
  periodMs?: number;
  /** Clock in milliseconds; must be the one the tracker uses. Default `performance.now`. */
  now?: () => number;
}

/**
 * Every period, closes the current stats window at the real current time and
 * hands the report to the sink. The timer does not keep the process alive.
 */
export class ReportingLoop {
  private readonly stats: RequestStats;
  private readonly sink: ReportSink;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;

  /**
   * Starts ticking at once.
   *
   * @throws ConfigError naming `periodMs` when it is not a finite number > 0 and at most 2147483647
   */
  constructor(options: ReportingLoopOptions) {
    this.stats = options.stats;
    this.sink = options.sink;
    this.now = options.now ?? monotonicNow;
    this.timer = setInterval(() => this.tick(), requirePeriodMs('periodMs', options.periodMs ?? DEFAULTS.reportingPeriodMs)).unref();
  }

  /**
   * Closes the window now and reports it. A sink that throws is logged
   * through the OTel diag logger, never thrown into the timer.
   *
   * @returns the report handed to the sink
   */
  tick(): StatsReport {
    const report = this.stats.report(this.now());
    try {
      this.sink.report(report);
    } catch (error) {
      diag.error('stats report rejected', error);
    }
    return report;
  }

  /** Stops the timer and reports the last, partial window. Idempotent: later calls do nothing. */
  stop(): void {
    if (this.timer === undefined) return;
    clearInterval(this.timer);
    this.timer = undefined;
    this.tick();
  }
}
