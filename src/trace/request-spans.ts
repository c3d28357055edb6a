/**
 * Spans for the proxy's requests on any OpenTelemetry Tracer (API only): a
 * SERVER span per request that continues the caller's W3C trace context, or
 * its B3 one (single `b3` header or the `X-B3-*` set) when there is no valid
 * W3C one, an INTERNAL child span for the time in the breaker's queue, and
 * the span's context for the app in the same formats.
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span, type TextMapGetter, type TextMapPropagator, type TextMapSetter, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { B3InjectEncoding, B3Propagator } from '@opentelemetry/propagator-b3';
import type { RequestSpan, RequestTracer, TracedRequest } from '../core/request-tracer.js';
import { requestAttributes, serverSpanName } from './http-attributes.js';

/** The name of the span for the time a request waits in the breaker's queue: Knative's queue-proxy's (`pkg/queue/handler.go`). */
export const QUEUE_WAIT_SPAN = 'kn.queueproxy.wait';

/** The first status the conventions count as a server span's error. */
const FIRST_SERVER_ERROR = 500;

const getter: TextMapGetter<TracedRequest> = {
  keys: () => [],
  get: (request, key) => request.header(key),
};

const setter: TextMapSetter<string[]> = {
  set: (headers, key, value) => {
    headers.push(key, value);
  },
};

class ProxiedRequestSpan implements RequestSpan {
  private wait: Span | undefined;

  constructor(
    private readonly tracer: Tracer,
    private readonly span: Span,
    readonly upstreamHeaders: readonly string[],
    readonly replacedHeaders: ReadonlySet<string>,
  ) {}

  waitStarted(): void {
    // A span that records nothing (not sampled) gets no child that would.
    if (this.span.isRecording()) this.wait = this.tracer.startSpan(QUEUE_WAIT_SPAN, { kind: SpanKind.INTERNAL }, trace.setSpan(ROOT_CONTEXT, this.span));
  }

  waitEnded(): void {
    this.wait?.end();
    this.wait = undefined;
  }

  ended(statusCode: number): void {
    this.waitEnded();
    const span = this.span;
    if (span.isRecording()) {
      span.setAttribute('http.response.status_code', statusCode);
      if (statusCode >= FIRST_SERVER_ERROR) span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end();
  }
}

/** A {@link RequestTracer} on an OpenTelemetry Tracer. */
export class RequestSpans implements RequestTracer {
  private readonly w3c = new W3CTraceContextPropagator();
  private readonly b3Single = new B3Propagator({ injectEncoding: B3InjectEncoding.SINGLE_HEADER });
  private readonly b3Multi = new B3Propagator({ injectEncoding: B3InjectEncoding.MULTI_HEADER });
  private readonly replacedHeaders: ReadonlySet<string>;

  /** @param tracer - where the spans start */
  constructor(private readonly tracer: Tracer) {
    this.replacedHeaders = new Set([...this.w3c.fields(), ...this.b3Single.fields(), ...this.b3Multi.fields()].map((name) => name.toLowerCase()));
  }

  start(request: TracedRequest): RequestSpan {
    let parent = this.w3c.extract(ROOT_CONTEXT, request, getter);
    let b3: TextMapPropagator | undefined;
    if (trace.getSpanContext(parent) === undefined) {
      const fromB3 = this.b3Single.extract(ROOT_CONTEXT, request, getter);
      if (trace.getSpanContext(fromB3) !== undefined) {
        parent = fromB3;
        // The app is told in the format the caller used, besides W3C's.
        b3 = request.header('b3') === undefined ? this.b3Multi : this.b3Single;
      }
    }
    const span = this.tracer.startSpan(serverSpanName(request.method), { kind: SpanKind.SERVER }, parent);
    if (span.isRecording()) span.setAttributes(requestAttributes(request));
    const headers: string[] = [];
    const context = trace.setSpan(parent, span);
    this.w3c.inject(context, headers, setter);
    b3?.inject(context, headers, setter);
    return new ProxiedRequestSpan(this.tracer, span, headers, this.replacedHeaders);
  }
}
