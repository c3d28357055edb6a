/**
 * Bench server: our startMetricsServer (defaults: target_info on, scope
 * labels off) with the bench StatsReporter, on 127.0.0.1:<port>/metrics.
 * Usage: node build/bench/serve-ours.js <port>
 */
import { startMetricsServer } from '../src/metrics-server/server.js';
import { benchReporter, FIXED_REPORT } from './fixture.js';
import { exitWithParent, portArgument } from './serve-process.js';

const server = await startMetricsServer({ port: portArgument(), host: '127.0.0.1' });
benchReporter(server.meterProvider.getMeter('queue-stats-exporter')).report(FIXED_REPORT);
exitWithParent();
