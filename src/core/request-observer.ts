/**
 * What the proxy tells about each request it forwarded, once its response is
 * over: the hook request metrics hang on, declared here so that the proxy
 * and the recorders need not know each other.
 */
export interface RequestObserver {
  /**
   * Called once per request sent to the app (probes excluded) when its
   * response closes: finished, cut short, or its client gone.
   *
   * @param statusCode - the status the response carried; Node's default 200 when no head was sent
   *   (the client left first), as Knative's queue-proxy records such a request
   * @param durationSeconds - seconds from the moment the request could go to the app (its arrival, or its leaving the breaker's queue) to the response's close
   */
  requestEnded(statusCode: number, durationSeconds: number): void;
}
