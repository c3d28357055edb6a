import { ConfigError } from './errors.js';

/** Which revision and pod the stats describe: Knative's four names. */
export interface Identity {
  /** Kubernetes namespace (`destination_namespace`). */
  namespace: string;
  /** Knative configuration (`destination_configuration`). */
  config: string;
  /** Knative revision (`destination_revision`). */
  revision: string;
  /** Pod (`destination_pod`). */
  pod: string;
}

const FIELDS = ['namespace', 'config', 'revision', 'pod'] as const;

/**
 * Checks the four names in Knative's order (namespace, config, revision, pod).
 *
 * @throws ConfigError `<field> must not be empty` for the first empty or missing one
 */
export function checkIdentity(identity: Partial<Identity>): Identity {
  for (const field of FIELDS) {
    const value = identity[field];
    if (typeof value !== 'string' || value === '') {
      throw new ConfigError(field, `${field} must not be empty`);
    }
  }
  return { namespace: identity.namespace!, config: identity.config!, revision: identity.revision!, pod: identity.pod! };
}

/**
 * Checks a reporting period in milliseconds, defaulting to 1000.
 *
 * @throws ConfigError naming `reportingPeriodMs` unless it is a finite number > 0
 */
export function checkReportingPeriodMs(value: number | undefined): number {
  const periodMs = value ?? 1000;
  if (typeof periodMs !== 'number' || !Number.isFinite(periodMs) || periodMs <= 0) {
    throw new ConfigError('reportingPeriodMs', `reportingPeriodMs must be a finite number > 0, got ${String(periodMs)}`);
  }
  return periodMs;
}
