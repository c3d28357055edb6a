import { connect, type ClientHttp2Session, type ClientHttp2Stream, type OutgoingHttpHeaders } from 'node:http2';

/** Most h2c sessions open to the app at once; a new one opens only when every open one has as many streams as the app allows. */
const MAX_SESSIONS = 4;

/**
 * The priority defaults, stated on every request: `ClientHttp2Session.request`
 * (Node 20 to 24 alike, through `setAndValidatePriorityOptions`) otherwise
 * adds each to its copy of the options one by one, which showed as 3-4 % of
 * the sidecar's CPU on the h2c path in a profile on Node 20. Not `weight`: newer Node warns when it is set (DEP0194,
 * priority signaling is deprecated by RFC 9113).
 */
const PRIORITY = { parent: 0, exclusive: false, silent: false } as const;

/** One h2c connection to the app and the number of its streams still open. */
class UpstreamSession {
  streams = 0;
  /** False once the session is going away (GOAWAY from either side, an error, a close): it takes no new stream. */
  usable = true;

  readonly onStreamClose = (): void => {
    this.streams--;
  };

  constructor(readonly session: ClientHttp2Session) {}

  /**
   * Whether the session takes new streams. A session destroyed or closed
   * emits 'close' only on a later tick: until then `request` on it would
   * throw (ERR_HTTP2_INVALID_SESSION, seen under rapid reset against an app
   * that refuses h2c), so its own state counts too.
   */
  isUsable(): boolean {
    return this.usable && !this.session.destroyed && !this.session.closed;
  }

  /** Whether another stream fits under the app's `SETTINGS_MAX_CONCURRENT_STREAMS`. */
  get hasRoom(): boolean {
    const limit = this.session.remoteSettings.maxConcurrentStreams;
    return limit === undefined || this.streams < limit;
  }
}

/**
 * The app's side of the HTTP/2 path: streams to the app over cleartext
 * HTTP/2 with prior knowledge (h2c), multiplexed over a few `node:http2`
 * client sessions (nghttp2 frames everything). A session is opened on
 * first use, and another only when the open ones are at the app's
 * concurrent-stream limit, up to {@link MAX_SESSIONS}. A session the app
 * sends GOAWAY on, or closes, or that fails, takes no new stream: the next
 * one goes to another session (a new one if needed) while its streams in
 * flight finish, as Go's HTTP/2 transport in Knative's queue-proxy does.
 */
export class H2cUpstream {
  private readonly sessions: UpstreamSession[] = [];
  private closed = false;

  /** @param origin - the app's origin, e.g. `http://127.0.0.1:8080` */
  constructor(private readonly origin: string) {}

  /**
   * Opens a stream to the app. Never throws: for a failed connection the
   * stream emits 'error' (ECONNREFUSED and the like) and closes.
   *
   * @param endStream - the request has no body: its HEADERS frame ends the stream
   * @param waitForTrailers - the stream emits 'wantTrailers' after its body, and ends only at `sendTrailers`
   * @returns the stream, or `undefined` once {@link H2cUpstream.destroy} has run (the proxy is closed)
   */
  request(headers: OutgoingHttpHeaders, endStream: boolean, waitForTrailers = false): ClientHttp2Stream | undefined {
    if (this.closed) return undefined;
    const upstream = this.pick();
    const stream = upstream.session.request(headers, { ...PRIORITY, endStream, waitForTrailers });
    upstream.streams++;
    stream.on('close', upstream.onStreamClose);
    return stream;
  }

  /** Closes every session at once (streams still open are reset); later requests fail. */
  destroy(): void {
    this.closed = true;
    for (const upstream of this.sessions.splice(0)) upstream.session.destroy();
  }

  private pick(): UpstreamSession {
    let best: UpstreamSession | undefined;
    for (const upstream of this.sessions) {
      if (upstream.isUsable() && (best === undefined || upstream.streams < best.streams)) best = upstream;
    }
    // At the most sessions, a stream past the app's limit waits in nghttp2 for a free one.
    if (best !== undefined && (best.hasRoom || this.sessions.length >= MAX_SESSIONS)) return best;
    return this.open();
  }

  private open(): UpstreamSession {
    const session = connect(this.origin, { settings: { enablePush: false } });
    const upstream = new UpstreamSession(session);
    const retire = (): void => {
      upstream.usable = false;
      const index = this.sessions.indexOf(upstream);
      if (index !== -1) this.sessions.splice(index, 1);
    };
    session.on('goaway', retire);
    session.on('close', retire);
    // The streams in flight get the error too; the session is only retired.
    session.on('error', retire);
    this.sessions.push(upstream);
    return upstream;
  }
}
