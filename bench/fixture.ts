import type { Meter } from '@opentelemetry/api';
import { StatsReporter } from '../src/otel/reporter.js';
import type { StatsReport } from '../src/core/stats.js';

/**
 * The window every scrape benchmark serves, the one the Go reference
 * reporter serves: concurrency 3, proxied 1, 10 requests, 4 proxied.
 */
export const FIXED_REPORT: Readonly<StatsReport> = Object.freeze({
  averageConcurrency: 3,
  averageProxiedConcurrency: 1,
  requestCount: 10,
  proxiedRequestCount: 4,
});

/**
 * A StatsReporter with the Go reference reporter's labels (namespace
 * `default`, revision `helloworld-go-00001`, ...) and its 1 s period.
 */
export function benchReporter(meter: Meter): StatsReporter {
  return new StatsReporter({
    namespace: 'default',
    config: 'helloworld-go',
    revision: 'helloworld-go-00001',
    pod: 'helloworld-go-00001-deployment-abc',
    reportingPeriodMs: 1000,
    meter,
  });
}
