import { createNoopMeter, type Meter } from '@opentelemetry/api';
import { SIDECAR_ENV } from '../core/defaults.js';
import { ConfigError, PortInUseError } from '../core/errors.js';
import { queueStatsMeter } from '../otel/meter.js';
import type { Env } from '../otel/otel-env.js';
import { startQueueStats, type QueueStats } from '../queue-stats/queue-stats.js';
import { trackAllServers } from '../tracking/all-servers.js';
import { registerConfigFromEnv } from './register-config.js';

/** The register mode's running parts. */
export interface InProcessTracking {
  /** The tracker, statistics, reporter and metrics server (none with the global MeterProvider). */
  readonly queueStats: QueueStats;
  /** Stops tracking the process's servers, then closes `queueStats`. Idempotent. */
  close(): Promise<void>;
}

/** What the register mode prints before every line of its own. */
export const REGISTER_PREFIX = 'queue-stats-exporter/register:';

/**
 * Tracks every request of every `node:http`/`node:https` server, and every
 * stream of every `node:http2` server, in this process (see
 * {@link trackAllServers}) and publishes the gauges as `env` says
 * ({@link registerConfigFromEnv}, plus the `OTEL_*` variables with our own
 * MeterProvider). Never throws: a bad setting, a metrics port in
 * use, or `global` without a global MeterProvider is reported as one line
 * through `warn` and the app runs untracked. Nothing it starts keeps the
 * process alive, and it adds no signal handler, so the app's own exit
 * behaviour is unchanged.
 *
 * @param hostname - the pod name when `SERVING_POD` is unset
 * @param warn - where the one line goes. Default: stderr.
 * @returns the running parts, or undefined when the app runs untracked
 */
export async function startInProcess(env: Env, hostname: string, warn = (line: string): void => void process.stderr.write(`${line}\n`)): Promise<InProcessTracking | undefined> {
  let queueStats: QueueStats;
  try {
    const config = registerConfigFromEnv(env, hostname);
    let meter: Meter | undefined;
    if (config.meterProvider === 'global') {
      meter = queueStatsMeter();
      // The API hands out its no-op meter until an SDK registers a global MeterProvider.
      if (meter === createNoopMeter()) {
        throw new ConfigError(SIDECAR_ENV.meterProvider, `${SIDECAR_ENV.meterProvider}=global but no global MeterProvider is set yet: import the SDK before this module`);
      }
    }
    queueStats = await startQueueStats({ ...config.identity, port: config.metricsPort, unref: true, meter, env });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const variable = error instanceof PortInUseError ? ` (${SIDECAR_ENV.metricsPort})` : '';
    warn(`${REGISTER_PREFIX} ${message}${variable}; requests are not tracked`);
    return undefined;
  }
  const stopTracking = trackAllServers(queueStats.tracker);
  return {
    queueStats,
    close() {
      stopTracking();
      return queueStats.close();
    },
  };
}
