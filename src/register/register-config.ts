/**
 * The `--import` register mode's configuration, read from the environment
 * alone (the app's command line belongs to the app). Pure: the environment
 * and the hostname are arguments.
 */
import { parsePortText, requireNonEmpty } from '../core/checks.js';
import { DEFAULTS, DEMO_IDENTITY, KNATIVE_ENV, SIDECAR_ENV } from '../core/defaults.js';
import { ConfigError } from '../core/errors.js';
import type { Identity } from '../core/identity.js';
import type { Env } from '../otel/otel-env.js';

/** Where the register mode records the gauges. */
export type MeterProviderChoice = 'own' | 'global';

/** What the register mode runs with. */
export interface RegisterConfig {
  /** Knative's four names: `SERVING_NAMESPACE`, `SERVING_CONFIGURATION`, `SERVING_REVISION`, `SERVING_POD`; unset ones take the demo's names, the pod the hostname. */
  identity: Identity;
  /** Port of our metrics server (`QUEUE_STATS_METRICS_PORT`). Default 9090. Unused with the global MeterProvider. */
  metricsPort: number;
  /**
   * `QUEUE_STATS_METER_PROVIDER`: `own` (default) serves the gauges on our metrics server (and OTLP when the
   * `OTEL_*` variables say so); `global` records them on the app's global MeterProvider and starts no server.
   */
  meterProvider: MeterProviderChoice;
}

/**
 * Reads the register mode's settings from `env`.
 *
 * @param hostname - the pod name when `SERVING_POD` is unset
 * @throws ConfigError naming the variable: an empty name, a port that is not 1 to 65535, a meter provider other than `own` or `global`
 */
export function registerConfigFromEnv(env: Env, hostname: string): RegisterConfig {
  const name = (variable: string, fallback: string): string => {
    const value = env[variable];
    return value === undefined ? fallback : requireNonEmpty(variable, value);
  };
  const port = env[SIDECAR_ENV.metricsPort];
  const choice = env[SIDECAR_ENV.meterProvider] ?? 'own';
  if (choice !== 'own' && choice !== 'global') {
    throw new ConfigError(SIDECAR_ENV.meterProvider, `${SIDECAR_ENV.meterProvider} must be own or global, got "${choice}"`);
  }
  return {
    identity: {
      namespace: name(KNATIVE_ENV.namespace, DEMO_IDENTITY.namespace),
      config: name(KNATIVE_ENV.config, DEMO_IDENTITY.config),
      revision: name(KNATIVE_ENV.revision, DEMO_IDENTITY.revision),
      pod: name(KNATIVE_ENV.pod, hostname),
    },
    metricsPort: port === undefined ? DEFAULTS.metricsPort : parsePortText(SIDECAR_ENV.metricsPort, port),
    meterProvider: choice,
  };
}
