/**
 * Benchmark server: /metrics on 127.0.0.1:<port>, from our startMetricsServer (`ours`: defaults, target_info on,
 * scope labels off) or from the OTel PrometheusExporter's own default server (`exporter`: scope labels and
 * target_info on), with a StatsReporter holding the Go reference reporter's labels and window (concurrency 3,
 * proxied 1, 10 requests, 4 proxied).
 * Usage: node dist/bench/servers/serve-metrics.js <port> ours|exporter
 */
import type { Meter } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { startMetricsServer } from '../../src/metrics-server/server.js';
import { StatsReporter } from '../../src/otel/reporter.js';
import { exitWithParent, portArgument } from '../lib/serve-process.js';

async function meter(kind: string | undefined): Promise<Meter> {
  if (kind === 'ours') return (await startMetricsServer({ port: portArgument(), host: '127.0.0.1' })).meterProvider.getMeter('queue-stats-exporter');
  if (kind !== 'exporter') {
    console.error(`usage: serve-metrics.js <port> ours|exporter`);
    process.exit(2);
  }
  const exporter = new PrometheusExporter({ port: portArgument(), host: '127.0.0.1' }, (error) => {
    // The exporter only logs a failed start; exit so the parent sees it.
    if (error !== undefined) {
      console.error(error);
      process.exit(1);
    }
  });
  // Its server is unref()'d; the stdin pipe keeps the process up.
  return new MeterProvider({ readers: [exporter] }).getMeter('queue-stats-exporter');
}

const identity = { namespace: 'default', config: 'helloworld-go', revision: 'helloworld-go-00001', pod: 'helloworld-go-00001-deployment-abc' };
new StatsReporter({ ...identity, reportingPeriodMs: 1000, meter: await meter(process.argv[3]) }).report({
  averageConcurrency: 3,
  averageProxiedConcurrency: 1,
  requestCount: 10,
  proxiedRequestCount: 4,
});
exitWithParent();
