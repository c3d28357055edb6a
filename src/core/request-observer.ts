/**
 * The request as an observer may read it once its response is over: the
 * fields of Node's `IncomingMessage` a request log needs, declared here so
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
  readonly socket: { readonly remoteAddress?: string | undefined; readonly remotePort?: number | undefined } | null;
}

/**
 * What the proxy tells about each request it forwarded, once its response is
 * over: the hook request metrics and the request log hang on, declared here so
 * that the proxy and the recorders need not know each other.
 */
export interface RequestObserver {
  /**
   * Called once per request sent to the app (probes excluded) when its
   * response closes: finished, cut short, or its client gone.
   *
   * @param statusCode - the status the response carried; Node's default 200 when no head was sent
   *   (the client left first), as Knative's queue-proxy records such a request
   * @param durationSeconds - seconds from the moment the request could go to the app (its arrival, or its leaving the breaker's queue) to the response's close
   * @param request - the HTTP/1.1 request; `undefined` for an HTTP/2 stream
   */
  requestEnded(statusCode: number, durationSeconds: number, request?: ObservedRequest): void;
}

/** One observer told of each request in turn by every one of `observers`. */
export function allObservers(observers: readonly RequestObserver[]): RequestObserver {
  if (observers.length === 1) return observers[0]!;
  return {
    requestEnded(statusCode, durationSeconds, request) {
      for (const observer of observers) observer.requestEnded(statusCode, durationSeconds, request);
    },
  };
}
