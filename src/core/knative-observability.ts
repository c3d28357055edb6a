import { ConfigError } from './errors.js';

/**
 * Knative's `OBSERVABILITY_CONFIG` (its config-observability ConfigMap as one JSON object, set on queue-proxy by
 * knative/serving `pkg/reconciler/revision/resources/queue.go`) as an object, for the readers of its parts: the
 * tracing settings and the request log's.
 *
 * @param text - the variable's value
 * @param variable - the variable's name, for the error
 * @throws ConfigError naming `variable` when `text` is not JSON or not a JSON object (where queue-proxy exits with
 *   "failed to parse OBSERVABILITY_CONFIG")
 */
export function parseKnativeObservability(text: string, variable: string): Record<string, unknown> {
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch {
    throw new ConfigError(variable, `${variable}: is not JSON`);
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new ConfigError(variable, `${variable}: must be a JSON object`);
  return config as Record<string, unknown>;
}
