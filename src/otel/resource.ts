/**
 * The OpenTelemetry Resource that says which pod the metrics come from.
 * Pure: the environment is an argument.
 */
import type { Attributes } from '@opentelemetry/api';
import { defaultResource, resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import type { Identity } from '../core/identity.js';
import { VERSION } from '../core/version.js';
import { parseKeyValueList, readEnv, type Env } from './otel-env.js';

/**
 * Builds the Resource for a MeterProvider. Its attributes, later rows
 * overriding earlier ones:
 *
 * 1. the SDK defaults: `telemetry.sdk.language`, `telemetry.sdk.name`,
 *    `telemetry.sdk.version` (and `service.name=unknown_service:node`);
 * 2. the identity, with the keys Knative's own OTel queue-proxy uses:
 *    `service.name` = configuration, `service.instance.id` = pod,
 *    `k8s.namespace.name`, `k8s.pod.name`, `kn.configuration.name`,
 *    `kn.revision.name`;
 * 3. `extra`, attributes the caller adds or changes (the request metrics'
 *    `kn.service.name`, for instance);
 * 4. `OTEL_RESOURCE_ATTRIBUTES` (`k=v,k2=v2`, percent-decoded);
 * 5. `OTEL_SERVICE_NAME` as `service.name` (the spec makes it win over a
 *    `service.name` in `OTEL_RESOURCE_ATTRIBUTES`).
 *
 * The spec ranks `OTEL_RESOURCE_ATTRIBUTES` below resource attributes "provided
 * by the user" in code. The identity here is not chosen by a user but derived
 * from the pod's environment, and the variables are the operator's only way to
 * correct it, so they win over it.
 *
 * @param env - the environment to read; default `process.env`
 * @param extra - attributes over the identity's; default none
 * @throws ConfigError naming `OTEL_RESOURCE_ATTRIBUTES` when it is malformed
 *   (the spec says to discard it then; this package refuses to start instead)
 */
export function buildResource(identity: Identity, env: Env = process.env, extra: Attributes = {}): Resource {
  const fromEnv = parseKeyValueList('OTEL_RESOURCE_ATTRIBUTES', readEnv(env, 'OTEL_RESOURCE_ATTRIBUTES'));
  const serviceName = readEnv(env, 'OTEL_SERVICE_NAME');
  return defaultResource().merge(
    resourceFromAttributes({
      'service.name': identity.config,
      'service.instance.id': identity.pod,
      'k8s.namespace.name': identity.namespace,
      'k8s.pod.name': identity.pod,
      'kn.configuration.name': identity.config,
      'kn.revision.name': identity.revision,
      ...extra,
      ...fromEnv,
      ...(serviceName === undefined ? {} : { 'service.name': serviceName }),
    }),
  );
}

/**
 * The Resource attributes Knative's queue-proxy adds to its request metrics
 * and spans (knative/serving `pkg/queue/sharedmain/otel.go`) besides those of
 * the identity: the container, this package's version and, when the revision
 * belongs to a Knative service, that service as `service.name` and
 * `kn.service.name`.
 */
export function queueProxyAttributes(service: string | undefined): Record<string, string> {
  const attributes: Record<string, string> = { 'k8s.container.name': 'queue-proxy', 'service.version': VERSION };
  if (service !== undefined) {
    attributes['service.name'] = service;
    attributes['kn.service.name'] = service;
  }
  return attributes;
}
