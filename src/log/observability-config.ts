import { ConfigError } from '../core/errors.js';
import { parseKnativeObservability } from '../core/knative-observability.js';

/** The request log's settings in Knative's `OBSERVABILITY_CONFIG`; a setting it leaves out is undefined. */
export interface ObservedRequestLogSettings {
  enableRequestLog: boolean | undefined;
  requestLogTemplate: string | undefined;
  enableProbeRequestLog: boolean | undefined;
}

/** The JSON names of knative/serving `pkg/observability.Config`'s request log fields, and the type each must have. */
const FIELDS = { enableRequestLog: 'boolean', requestLogTemplate: 'string', enableProbeRequestLog: 'boolean' } as const;

/**
 * The request log's settings in `json`, Knative's `OBSERVABILITY_CONFIG` (current Knative passes the config-observability
 * ConfigMap to queue-proxy as this one JSON object, `pkg/reconciler/revision/resources/queue.go`): its
 * `enableRequestLog`, `requestLogTemplate` and `enableProbeRequestLog`, matched without regard to case and `null`
 * taken as absent, as Go's `encoding/json` reads them; its other fields (metrics, tracing, runtime) are not read here.
 * An empty text is no config, as queue-proxy takes it.
 *
 * @throws ConfigError naming `field` for malformed JSON, a value that is not an object, or a field of the wrong type
 *   (where queue-proxy exits with "failed to parse OBSERVABILITY_CONFIG")
 */
export function parseObservabilityConfig(json: string, field: string): ObservedRequestLogSettings {
  const settings: ObservedRequestLogSettings = { enableRequestLog: undefined, requestLogTemplate: undefined, enableProbeRequestLog: undefined };
  if (json === '') return settings;
  for (const [key, value] of Object.entries(parseKnativeObservability(json, field))) {
    const name = (Object.keys(FIELDS) as (keyof typeof FIELDS)[]).find((known) => known.toLowerCase() === key.toLowerCase());
    if (name === undefined || value === null) continue;
    if (typeof value !== FIELDS[name]) throw new ConfigError(field, `${field}: ${name} must be a ${FIELDS[name]}`);
    (settings as unknown as Record<string, unknown>)[name] = value;
  }
  return settings;
}
