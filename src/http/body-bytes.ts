/** A response's body bytes written so far, kept on the response (or HTTP/2 stream) object itself. */
const BODY_BYTES = Symbol('bodyBytes');

type Counted = { [BODY_BYTES]?: number };

/**
 * Adds `bytes` to the body bytes written to `response` (a `ServerResponse`, an HTTP/2 compatibility response or a
 * server stream): called where the proxy writes a body chunk, so that a request log can give Knative's
 * `.Response.Size`, the bytes its handler wrote (knative/serving `pkg/http/response_recorder.go`). One addition per
 * chunk; Node counts no response's body bytes itself.
 */
export function countBodyBytes(response: object, bytes: number): void {
  const counted = response as Counted;
  counted[BODY_BYTES] = (counted[BODY_BYTES] ?? 0) + bytes;
}

/** The body bytes counted for `response` by {@link countBodyBytes}; 0 when none were. */
export function bodyBytesOf(response: object): number {
  return (response as Counted)[BODY_BYTES] ?? 0;
}
