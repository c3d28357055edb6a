import { requireNonEmpty } from './checks.js';

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
  for (const field of FIELDS) requireNonEmpty(field, identity[field]);
  return { namespace: identity.namespace!, config: identity.config!, revision: identity.revision!, pod: identity.pod! };
}
