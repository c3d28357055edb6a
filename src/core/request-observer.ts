/**
 * The request as an observer may read it once its response is over: what a
 * request log needs of Node's `IncomingMessage` or HTTP/2 stream, taken at
 * its arrival (a closed socket no longer tells its peer), declared here so
 * that core need not import `node:http`.
 */
export interface ObservedRequest {
  readonly method?: string | undefined;
  /** The request target as the client sent it. */
  readonly url?: string | undefined;
  /** `1.1` or `2.0`. */
  readonly httpVersion: string;
  /** Node's flat name, value, name, value... list. */
  readonly rawHeaders: readonly string[];
  /** The client's address and port as the socket gave them at the request's arrival. */
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  /** HTTP/2 only: the request's HEADERS frame ended its stream (no body follows); undefined for HTTP/1.1. */
  readonly endStream?: boolean;
}

/**
 * What the proxy tells about each request it forwarded, once its response is
 * over: the hook request metrics and the request log hang on, declared here so
 * that the proxy and the recorders need not know each other.
 */
export interface RequestObserver {
  /**
   * Called once per request it is told of when its response closes:
   * finished, cut short, or its client gone. The proxy tells its request
   * metrics of each request sent to the app (probes excluded), and its request
   * log of each request its port received (probes only when asked).
   *
   * @param statusCode - the status the response carried; Node's default 200 when no head was sent
   *   (the client left first) and for an upgrade's tunnel, as Knative's queue-proxy records both
   * @param durationSeconds - seconds from the moment the request could go to the app (its arrival, or its leaving the breaker's queue) to the response's close
   * @param request - the request; `undefined` for an HTTP/2 stream the proxy was not asked to describe
   * @param responseBytes - the response body's bytes written to the client (Knative's `.Response.Size`)
   */
  requestEnded(statusCode: number, durationSeconds: number, request: ObservedRequest | undefined, responseBytes: number): void;
}
