/**
 * The sidecar's tracing: a TracerProvider of the OpenTelemetry SDK with a
 * batch span processor and the OTLP exporter of the configured protocol,
 * and the {@link RequestSpans} the proxy is given. The CLI imports this module
 * dynamically, only when tracing is on, so that none of the SDK's trace
 * packages load otherwise.
 */
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type Sampler,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import type { Identity } from '../core/identity.js';
import type { RequestTracer } from '../core/request-tracer.js';
import { VERSION } from '../core/version.js';
import type { Env } from '../otel/otel-env.js';
import { buildResource, queueProxyAttributes } from '../otel/resource.js';
import type { SamplerSettings, TraceSettings } from '../otel/trace-env.js';
import { RequestSpans } from './request-spans.js';

/** The name of the instrumentation scope of the sidecar's spans. */
export const TRACER_NAME = 'queue-stats-exporter';

/** Options of {@link startTracing}. */
export interface TracingOptions {
  /** Where and how spans go, from `tracesFromEnv`. */
  settings: TraceSettings;
  /** The names that make up the Resource (already checked). */
  identity: Identity;
  /** The Knative service the revision belongs to, if any. */
  service?: string;
  /** Where `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_SERVICE_NAME` and the batch processor's `OTEL_BSP_*` are read from. */
  env: Env;
}

/** Running tracing. */
export interface Tracing {
  /** Give it to the proxy as its `tracer`. */
  readonly tracer: RequestTracer;
  /** Exports the spans still held (bounded by the exporter's timeout) and stops. Idempotent. */
  shutdown(): Promise<void>;
}

async function spanExporter(settings: TraceSettings): Promise<SpanExporter> {
  const options = { url: settings.endpoint, timeoutMillis: settings.exporterTimeoutMs };
  switch (settings.protocol) {
    case 'grpc': {
      const [{ OTLPTraceExporter }, { grpcMetadata }] = await Promise.all([import('@opentelemetry/exporter-trace-otlp-grpc'), import('../otel/grpc-metadata.js')]);
      return new OTLPTraceExporter({ ...options, metadata: grpcMetadata(settings.headers) });
    }
    case 'http/json':
      return new JsonExporter({ ...options, headers: settings.headers });
    case 'http/protobuf':
      return new ProtobufExporter({ ...options, headers: settings.headers });
  }
}

function sampler({ name, ratio }: SamplerSettings): Sampler {
  switch (name) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio);
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
  }
}

/**
 * Starts tracing: spans carry the Resource of Knative's queue-proxy (the
 * identity's attributes, `k8s.container.name=queue-proxy`, the package's
 * version, the service) and leave in batches (`OTEL_BSP_*` tune them) over
 * OTLP/HTTP as protobuf or JSON, or over OTLP/gRPC (its exporter loaded only
 * then, with the headers as gRPC metadata).
 *
 * @throws ConfigError naming `OTEL_RESOURCE_ATTRIBUTES` when it is malformed
 */
export async function startTracing(options: TracingOptions): Promise<Tracing> {
  const { settings } = options;
  const exporter = await spanExporter(settings);
  const provider = new BasicTracerProvider({
    resource: buildResource(options.identity, options.env, queueProxyAttributes(options.service)),
    sampler: sampler(settings.sampler),
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  let stopping: Promise<void> | undefined;
  return {
    tracer: new RequestSpans(provider.getTracer(TRACER_NAME, VERSION)),
    shutdown() {
      stopping ??= provider.shutdown();
      return stopping;
    },
  };
}
