import { metrics, type Meter, type MeterProvider } from '@opentelemetry/api';
import { PACKAGE_NAME, VERSION } from '../core/version.js';

/**
 * The meter the gauges are recorded on: instrumentation scope
 * {@link PACKAGE_NAME} at {@link VERSION} (`otel_scope_name` and
 * `otel_scope_version` when scope labels are on).
 *
 * @param provider - where the meter comes from. Default: the global API's MeterProvider.
 */
export function queueStatsMeter(provider: MeterProvider = metrics.getMeterProvider()): Meter {
  return provider.getMeter(PACKAGE_NAME, VERSION);
}
