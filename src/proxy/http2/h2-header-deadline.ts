import { constants, type Http2Session } from 'node:http2';

/**
 * Bounds an HTTP/2 header block in progress (HEADERS without END_HEADERS,
 * then CONTINUATION frames, or none) to about the HTTP/1.1 headers timeout,
 * with Node's documented API only. nghttp2 reports a stream only once its
 * header block is complete, and no frame event before; but RFC 9113 section
 * 6.10 forbids a client any other frame while its header block is open, so
 * it cannot acknowledge a PING either (section 6.7 makes every other client
 * acknowledge one). So a session with no open stream is sent a PING every
 * half `headersTimeoutMs`; one whose PING is still unanswered at the next
 * look, after half `headersTimeoutMs` more, gets GOAWAY and its connection
 * is closed. A block opened at any moment is cut between half and all of
 * `headersTimeoutMs` after.
 *
 * A session with open streams is not asked: its PING could wait behind
 * response data a slow client has not read yet, and its streams are
 * bounded by the revision timeout already; once they close, it is asked.
 * A connection that sent only the preface and SETTINGS and never answers
 * is closed the same way.
 */
export class HeaderDeadline {
  private openStreams = 0;
  private pingUnanswered = false;
  private readonly timer: NodeJS.Timeout;

  private readonly onPingAck = (): void => {
    this.pingUnanswered = false;
  };

  private readonly onLook = (): void => {
    const session = this.session;
    if (session.closed || session.destroyed || this.openStreams > 0) return;
    if (this.pingUnanswered) {
      this.cut();
      return;
    }
    this.pingUnanswered = session.ping(this.onPingAck);
  };

  private readonly onStreamClose = (): void => {
    this.openStreams--;
  };

  /** @param headersTimeoutMs - the HTTP/1.1 side's bound on a request head, in milliseconds */
  constructor(
    private readonly session: Http2Session,
    headersTimeoutMs: number,
  ) {
    this.timer = setInterval(this.onLook, Math.max(1, Math.floor(headersTimeoutMs / 2)));
    this.timer.unref();
    session.once('close', () => clearInterval(this.timer));
  }

  /** A stream of the session opened: the session is not asked while it has one. */
  streamOpened(stream: { on(event: 'close', listener: () => void): unknown }): void {
    this.openStreams++;
    stream.on('close', this.onStreamClose);
  }

  private cut(): void {
    clearInterval(this.timer);
    // GOAWAY, then the connection goes: a client inside a header block would never let a graceful close end.
    this.session.destroy(undefined, constants.NGHTTP2_NO_ERROR);
  }
}
