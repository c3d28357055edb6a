/**
 * Reads whether and how the sidecar traces its requests: the OpenTelemetry
 * SDK's trace variables (`OTEL_TRACES_EXPORTER`, `OTEL_TRACES_SAMPLER`,
 * `OTEL_TRACES_SAMPLER_ARG`, the OTLP exporter's `TRACES` variables shared
 * through `otel-env.ts`) and the `tracing` object of Knative's
 * `OBSERVABILITY_CONFIG`. Pure: the environment is an argument. As in
 * `otel-env.ts`, a value the spec would warn about and ignore stops the
 * start-up instead, with a {@link ConfigError} naming the variable.
 */
import { parseKnativeObservability } from '../core/knative-observability.js';
import { TRACE_ENV } from '../core/defaults.js';
import { ConfigError } from '../core/errors.js';
import { httpUrl, otlpEndpointFromEnv, otlpExporterTimeoutMs, otlpHeadersFromEnv, otlpProtocolFromEnv, readEnv, type Env, type OtlpProtocol } from './otel-env.js';

/** The samplers of the spec's `OTEL_TRACES_SAMPLER` this package builds. */
export type SamplerName = 'always_on' | 'always_off' | 'traceidratio' | 'parentbased_always_on' | 'parentbased_always_off' | 'parentbased_traceidratio';

const SAMPLERS: ReadonlySet<string> = new Set<SamplerName>(['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio']);

/** Which requests are recorded. */
export interface SamplerSettings {
  /** The sampler. */
  name: SamplerName;
  /** The share of traces a `traceidratio` sampler records, from 0 to 1; 1 for the others. */
  ratio: number;
}

/** Everything needed to trace requests and push the spans to an OTLP receiver. */
export interface TraceSettings {
  /**
   * OTLP/HTTP: the full URL the spans are POSTed to, e.g.
   * `http://127.0.0.1:4318/v1/traces`. gRPC: the collector's URL, e.g.
   * `http://127.0.0.1:4317` (`http:` cleartext, `https:` TLS; no path).
   */
  endpoint: string;
  /** Transport and body encoding. Default `http/protobuf`. */
  protocol: OtlpProtocol;
  /** Extra request headers, names in lower case. */
  headers: Record<string, string>;
  /** Milliseconds one export may take, retries included; 0 in the environment gives 30000 (the batch processor's own bound). */
  exporterTimeoutMs: number;
  /** The sampler. */
  sampler: SamplerSettings;
}

/** The `tracing` object of Knative's `OBSERVABILITY_CONFIG` (knative/pkg `observability/tracing/config.go`). */
interface KnativeTracing {
  protocol: 'none' | 'http/protobuf' | 'grpc';
  endpoint: string | undefined;
  samplingRate: number;
}

/** The batch span processor's default export timeout, which bounds an exporter told "no timeout". */
const NO_TIMEOUT_MS = 30_000;

/**
 * The tracing settings, or undefined when tracing is off. Tracing is on when
 * `OTEL_TRACES_EXPORTER` is `otlp`; when it is unset, once an OTLP traces
 * endpoint is configured (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or
 * `OTEL_EXPORTER_OTLP_ENDPOINT`, as metrics go over OTLP once one is) or
 * Knative's `OBSERVABILITY_CONFIG` asks for `http/protobuf` or `grpc`
 * tracing. The endpoint: the OTLP variables (which win over Knative's, as in
 * Knative's queue-proxy), else Knative's `tracing.endpoint` (`https://`
 * prefixed when it has no scheme, as Knative does). The protocol: the OTLP
 * variables, else Knative's, else `http/protobuf`. The sampler:
 * `OTEL_TRACES_SAMPLER` with `OTEL_TRACES_SAMPLER_ARG`, else Knative's
 * `samplingRate` (`OTEL_TRACES_SAMPLER_ARG` overriding it) as its queue-proxy
 * reads it: 1 or more records every trace, 0 none, a rate between them
 * `parentbased_traceidratio`; else the spec's `parentbased_always_on`.
 *
 * @throws ConfigError naming the variable: an exporter other than `otlp` or
 *   `none`, an unknown sampler, a ratio that is not a number from 0 to 1,
 *   malformed `OBSERVABILITY_CONFIG` or a Knative tracing protocol other than
 *   `none`, `http/protobuf` and `grpc`, a bad endpoint URL, protocol, header or timeout
 */
export function tracesFromEnv(env: Env): TraceSettings | undefined {
  const knative = knativeTracing(env);
  const exporter = readEnv(env, TRACE_ENV.exporter);
  if (exporter !== undefined && exporter !== 'otlp' && exporter !== 'none') {
    throw new ConfigError(TRACE_ENV.exporter, `${TRACE_ENV.exporter} must be otlp or none, got '${exporter}'`);
  }
  const endpointSet = readEnv(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT') !== undefined || readEnv(env, 'OTEL_EXPORTER_OTLP_ENDPOINT') !== undefined;
  const knativeProtocol = knative === undefined || knative.protocol === 'none' ? undefined : knative.protocol;
  const on = exporter === undefined ? endpointSet || knativeProtocol !== undefined : exporter === 'otlp';
  if (!on) return undefined;
  const knativeEndpoint = knative?.endpoint === undefined ? undefined : httpUrl(TRACE_ENV.knativeObservability, withScheme(knative.endpoint)).href;
  const timeout = otlpExporterTimeoutMs(env, 'TRACES');
  const protocol = otlpProtocolFromEnv(env, 'TRACES', knativeProtocol);
  return {
    endpoint: otlpEndpointFromEnv(env, 'TRACES', protocol, knativeEndpoint),
    protocol,
    headers: otlpHeadersFromEnv(env, 'TRACES', protocol),
    exporterTimeoutMs: timeout === 0 ? NO_TIMEOUT_MS : timeout,
    sampler: samplerFromEnv(env, knative),
  };
}

/**
 * Knative's endpoint as its queue-proxy takes it (knative/pkg `observability/tracing/provider.go`): one without
 * `scheme://`, such as `collector:4318`, which Go's URL parser reads as an opaque URL, is `https://` + it.
 */
function withScheme(endpoint: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint) ? endpoint : `https://${endpoint}`;
}

function samplerFromEnv(env: Env, knative: KnativeTracing | undefined): SamplerSettings {
  const name = readEnv(env, TRACE_ENV.sampler);
  if (name === undefined) {
    if (knative === undefined) return { name: 'parentbased_always_on', ratio: 1 };
    const rate = ratioFromEnv(env) ?? knative.samplingRate;
    if (rate >= 1) return { name: 'always_on', ratio: 1 };
    if (rate <= 0) return { name: 'always_off', ratio: 1 };
    return { name: 'parentbased_traceidratio', ratio: rate };
  }
  if (!SAMPLERS.has(name)) {
    throw new ConfigError(TRACE_ENV.sampler, `${TRACE_ENV.sampler} must be one of ${[...SAMPLERS].join(', ')}, got '${name}'`);
  }
  const sampler = name as SamplerName;
  return { name: sampler, ratio: sampler.endsWith('traceidratio') ? (ratioFromEnv(env) ?? 1) : 1 };
}

function ratioFromEnv(env: Env): number | undefined {
  const text = readEnv(env, TRACE_ENV.samplerArg);
  if (text === undefined) return undefined;
  const ratio = /^\d*\.?\d+(?:e-?\d+)?$/i.test(text) ? Number(text) : NaN;
  if (!(ratio >= 0 && ratio <= 1)) throw new ConfigError(TRACE_ENV.samplerArg, `${TRACE_ENV.samplerArg} must be a number from 0 to 1, got '${text}'`);
  return ratio;
}

/** The `tracing` object of `OBSERVABILITY_CONFIG`, checked as knative/pkg checks it; undefined when the variable is unset. */
function knativeTracing(env: Env): KnativeTracing | undefined {
  const variable = TRACE_ENV.knativeObservability;
  const text = readEnv(env, variable);
  if (text === undefined) return undefined;
  const fail = (problem: string): never => {
    throw new ConfigError(variable, `${variable}: ${problem}`);
  };
  const tracing = parseKnativeObservability(text, variable)['tracing'] ?? {};
  if (typeof tracing !== 'object' || tracing === null || Array.isArray(tracing)) return fail('tracing must be an object');
  const { protocol = 'none', endpoint, samplingRate = 0 } = tracing as Record<string, unknown>;
  if (protocol !== 'none' && protocol !== 'http/protobuf' && protocol !== 'grpc') {
    return fail(`tracing.protocol ${JSON.stringify(protocol)} is not supported; use http/protobuf, grpc or none`);
  }
  if (endpoint !== undefined && (typeof endpoint !== 'string' || endpoint === '')) return fail('tracing.endpoint must be a URL');
  if (protocol !== 'none' && endpoint === undefined) return fail(`tracing.endpoint is required with protocol ${protocol}`);
  if (typeof samplingRate !== 'number' || !(samplingRate >= 0 && samplingRate <= 1)) return fail(`tracing.samplingRate must be a number from 0 to 1, got ${JSON.stringify(samplingRate)}`);
  return { protocol, endpoint, samplingRate };
}
