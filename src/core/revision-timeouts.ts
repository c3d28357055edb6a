/**
 * Knative's three revision timeouts (`pkg/http/handler/timeout.go`), all
 * counted from a request's arrival, time in the queue included. Pure: the
 * times come in as arguments.
 */

/** The three timeouts of one exchange, in milliseconds. */
export interface RevisionTimeouts {
  /** The whole exchange, from arrival to the response's end (`REVISION_TIMEOUT_SECONDS`). */
  readonly totalMs: number;
  /** From arrival to the response head (`REVISION_RESPONSE_START_TIMEOUT_SECONDS`); 0: off. */
  readonly responseStartMs: number;
  /** From arrival, then from each write of the response, to the next write (`REVISION_IDLE_TIMEOUT_SECONDS`); 0: off. */
  readonly idleMs: number;
}

/**
 * When an exchange times out, on the clock of its arguments: the earliest of
 * the total deadline, the response-start deadline while nothing is written,
 * and the idle deadline after the last write (after arrival while nothing is
 * written, as Knative's idle timer runs from arrival).
 *
 * @param arrivedAt - the request's arrival, in milliseconds
 * @param lastWriteAt - the last write of the response (its head or a body chunk), in milliseconds; `undefined`: nothing written yet
 * @returns the deadline, in milliseconds
 */
export function timeoutDeadline(timeouts: RevisionTimeouts, arrivedAt: number, lastWriteAt: number | undefined): number {
  let deadline = arrivedAt + timeouts.totalMs;
  if (lastWriteAt === undefined && timeouts.responseStartMs > 0) deadline = Math.min(deadline, arrivedAt + timeouts.responseStartMs);
  if (timeouts.idleMs > 0) deadline = Math.min(deadline, (lastWriteAt ?? arrivedAt) + timeouts.idleMs);
  return deadline;
}
