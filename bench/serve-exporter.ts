/**
 * Bench server: the OTel PrometheusExporter's own default server (scope
 * labels and target_info on) reading a MeterProvider with the bench
 * StatsReporter, on 127.0.0.1:<port>/metrics.
 * Usage: node build/bench/serve-exporter.js <port>
 */
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { benchReporter, FIXED_REPORT } from './fixture.js';
import { exitWithParent, portArgument } from './serve-process.js';

const exporter = new PrometheusExporter({ port: portArgument(), host: '127.0.0.1' }, (error) => {
  // The exporter only logs a failed start; exit so the parent sees it.
  if (error !== undefined) {
    console.error(error);
    process.exit(1);
  }
});
const meterProvider = new MeterProvider({ readers: [exporter] });
benchReporter(meterProvider.getMeter('queue-stats-exporter')).report(FIXED_REPORT);
// The exporter's server is unref()'d; the stdin pipe keeps the process up.
exitWithParent();
