import type { buildConnector as BuildConnector } from 'undici';
// @ts-expect-error -- undici types its index only; this file's module.exports is the index's `buildConnector`.
import undiciBuildConnector from 'undici/lib/core/connect.js';

const buildConnector = undiciBuildConnector as typeof BuildConnector;

/** The error a connection nobody waits for fails with; undici hands it only to requests it has already aborted. */
export class UnwantedConnectionError extends Error {
  /** undici passes an error with a code other than its own socket codes to the requests queued on that client. */
  readonly code = 'ERR_UPSTREAM_CONNECTION_UNWANTED';

  constructor() {
    super('no request waits for an upstream connection');
    this.name = 'UnwantedConnectionError';
  }
}

/**
 * The number of requests waiting for an upstream connection, and the
 * undici connector that opens one only while a request waits.
 *
 * Why: when undici 7 aborts a request already written on a connection, it
 * destroys the connection, puts the aborted request back among its
 * client's pending ones and opens a new connection for it before it looks
 * at whether it was aborted (nodejs/undici#5845). The app's side of the
 * aborted request closes at once, but the app then holds a fresh connection
 * that never carries a request until an idle timeout closes it: one per
 * client that left, which a client leaving in numbers turns into hundreds.
 * A connection asked for while no request waits is that one, and is failed
 * before it opens; undici gives the error only to the aborted request.
 */
export class UpstreamDemand {
  private waiting = 0;

  /** The pool's `connect` option: undici's own connector, refusing a connection no request waits for. */
  readonly connect: BuildConnector.connector;

  /** @param connectTimeoutMs - longest TCP handshake, in milliseconds */
  constructor(connectTimeoutMs: number) {
    const open = buildConnector({ timeout: connectTimeoutMs });
    this.connect = (options, callback) => {
      if (this.waiting > 0) return open(options, callback);
      process.nextTick(callback, new UnwantedConnectionError(), null);
    };
  }

  /**
   * A request is handed to the pool and waits for a connection.
   *
   * @returns true: what the request keeps as its waiting flag, for {@link satisfied}
   */
  want(): true {
    this.waiting++;
    return true;
  }

  /**
   * The request got a connection (undici calls its `onRequestStart`), failed
   * before it, or was given up. Counted once, while `wanting` is true.
   *
   * @returns false: the request's waiting flag from now on
   */
  satisfied(wanting: boolean): false {
    if (wanting) this.waiting--;
    return false;
  }
}
