/**
 * What the proxy tells a tracer about each request it forwards, declared here
 * so that the proxy and the tracing code need not know each other: the
 * contract around an exchange (`proxy/contract/limited-exchange.ts`) calls it
 * at the request's arrival, around its wait in the breaker's queue and when
 * its response closes. Absent (tracing off), nothing is called at all.
 */

/** The parts of an arriving request a tracer reads. */
export interface TracedRequest {
  /** The method as the client sent it, e.g. `GET`. */
  readonly method: string;
  /** `https` when the client's connection is TLS, else `http`. */
  readonly scheme: string;
  /** The request target as sent (origin form: path and query), e.g. `/a?b=1`. */
  readonly target: string;
  /** The `Host` header, or HTTP/2's `:authority`; undefined when absent. */
  readonly authority: string | undefined;
  /** The HTTP version of the client's request: `1.0`, `1.1` or `2`. */
  readonly protocolVersion: string;
  /** The client connection's address; undefined when the socket is gone. */
  readonly clientAddress: string | undefined;
  /** The client connection's port; undefined when the socket is gone. */
  readonly clientPort: number | undefined;
  /**
   * The value of a request header (`lowerName` in lower case): its first
   * line, or undefined when absent. Used to read the caller's trace context.
   */
  header(lowerName: string): string | undefined;
}

/** One request's trace, from its arrival to the close of its response. */
export interface RequestSpan {
  /**
   * Headers the request carries to the app, as flat `name, value, ...` pairs
   * (lower-case names): the trace context of this request's span, so that the
   * app's spans nest under it. Every header named in {@link replacedHeaders}
   * that the client sent is dropped first.
   */
  readonly upstreamHeaders: readonly string[];
  /** Lower-case names of the trace context headers that {@link upstreamHeaders} replace (W3C and B3). */
  readonly replacedHeaders: ReadonlySet<string>;
  /** The request starts waiting in the breaker's queue, now. */
  waitStarted(): void;
  /** The request leaves the breaker's queue, now: it got a slot, gave up, or timed out. */
  waitEnded(): void;
  /** The response closed, now, with `statusCode` (the status sent; 200 when no head was sent, and for an upgrade's tunnel). Called once. */
  ended(statusCode: number): void;
}

/** Starts a {@link RequestSpan} for each forwarded request (kubelet probes and network probes are never given). */
export interface RequestTracer {
  /** A request arrived, now. */
  start(request: TracedRequest): RequestSpan;
}
