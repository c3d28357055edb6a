import type { RequestListener } from 'node:http';
import { constants, createServer, type Http2Server, type Http2Session, type Http2ServerRequest, type IncomingHttpHeaders, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import { classifyRequest, NETWORK_PROBE_HEADER, RequestKind } from '../../core/request-kind.js';
import type { RequestTracker } from '../../tracking/tracker.js';
import type { Drainer } from '../contract/drainer.js';
import type { LoggedRequests } from '../contract/logged-requests.js';
import { H2Exchange, respondText, type H2ExchangeContext } from './h2-exchange.js';
import { HeaderDeadline } from './h2-header-deadline.js';
import type { ProbeAnswer } from '../contract/network-probe-answer.js';

/** What the HTTP/2 side shares with the proxy's HTTP/1.1 side: the same counting, drain and probe answers. */
export interface H2Rules {
  /** Counts the streams; absent: nothing is counted. */
  readonly tracker: RequestTracker | undefined;
  /** Told of every request forwarded, which restarts a drain's quiet period. */
  readonly drainer: Drainer;
  /** Whether a request of this kind is answered by the sidecar (network probes; kubelet probes while draining). */
  answeredHere(kind: RequestKind): boolean;
  /** The answer to a network probe whose `K-Network-Probe` value is `value`. */
  answerProbe(value: string | string[] | undefined): Promise<ProbeAnswer>;
  /** The request log's hook; absent: no request log. */
  readonly loggedRequests: LoggedRequests | undefined;
}

/** How many streams the HTTP/2 side takes at once. */
export interface H2Limits {
  /** Most streams open at once on one connection: the `SETTINGS_MAX_CONCURRENT_STREAMS` the server advertises. */
  readonly maxConcurrentStreams: number;
  /** Most streams open at once on all connections together; one more is refused with `REFUSED_STREAM`. */
  readonly maxStreams: number;
  /** The HTTP/1.1 side's bound on a request head, in milliseconds: a header block in progress gets about as long (see HeaderDeadline). */
  readonly headersTimeoutMs: number;
}

/** The HTTP/2 server of the proxy's port and the close of its sessions. */
export interface H2Side {
  /** Receives the HTTP/2 connections the connection router hands it; never listens itself. */
  readonly server: Http2Server;
  /** Sends GOAWAY on every client session: no new stream is accepted, the open ones finish. */
  closeSessions(): void;
}

const ignore = (): void => {};

/**
 * The HTTP/2 (h2c) side of the proxy's port. Each stream is one request,
 * classified and counted for its whole lifetime as an HTTP/1.1 request is,
 * network probes and `OPTIONS *` answered here. With `context` (upstream
 * protocol `auto`), a stream goes to the app as an h2c stream
 * ({@link H2Exchange}); without it (`http1`), Node's HTTP/2 compatibility
 * API hands each stream to `http1Listener`, the HTTP/1.1 side's request
 * listener, which forwards it over HTTP/1.1.
 *
 * nghttp2 answers malformed frames, invalid pseudo-headers and
 * connection-specific fields with its protocol errors (a stream or
 * session reset) before any stream reaches this code.
 */
export function createH2Side(rules: H2Rules, limits: H2Limits, context: H2ExchangeContext | undefined, http1Listener: RequestListener): H2Side {
  // nghttp2 refuses a stream past the advertised limit itself, before Node sees it (RFC 9113 section 5.1.2).
  const server = createServer({ settings: { enablePush: false, maxConcurrentStreams: limits.maxConcurrentStreams } });
  const sessions = new Map<Http2Session, HeaderDeadline>();
  server.on('session', (session: ServerHttp2Session) => {
    sessions.set(session, new HeaderDeadline(session, limits.headersTimeoutMs));
    session.once('close', () => sessions.delete(session));
  });
  let open = 0;
  const onStreamClose = (): void => {
    open--;
  };
  /**
   * Counts `stream` among the open ones, or refuses it with REFUSED_STREAM (a
   * client may retry it: RFC 9113 section 8.7) when all connections together
   * already have `maxStreams`; a refused stream never reaches the tracker.
   */
  const admit = (stream: ServerHttp2Stream): boolean => {
    // A reset from the client (CANCEL, or an error code) is an 'error' on the stream; its 'close' does the rest.
    stream.on('error', ignore);
    if (open >= limits.maxStreams) {
      stream.close(constants.NGHTTP2_REFUSED_STREAM);
      return false;
    }
    open++;
    stream.on('close', onStreamClose);
    sessions.get(stream.session!)?.streamOpened(stream);
    return true;
  };
  if (context === undefined) {
    // The compatibility API's request and response act as Node's HTTP/1.1 ones where the listener reads them.
    const listener = http1Listener as unknown as (request: Http2ServerRequest, response: unknown) => void;
    server.on('request', (request: Http2ServerRequest, response: unknown) => {
      if (admit(request.stream)) listener(request, response);
    });
  } else {
    const tracker = rules.tracker;
    server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, flags: number, rawHeaders: string[]) => {
      if (!admit(stream)) return;
      const kind = tracker === undefined ? classifyRequest(rawHeaders) : tracker.trackStream(rawHeaders, stream);
      rules.loggedRequests?.stream(kind, stream, headers, rawHeaders);
      if (!rules.answeredHere(kind)) {
        if (headers[':method'] === 'OPTIONS' && headers[':path'] === '*') respondText(stream, 200, '');
        else {
          rules.drainer.requestArrived();
          H2Exchange.start(context, stream, rawHeaders, flags, kind === RequestKind.KubeletProbe);
        }
        return;
      }
      void rules.answerProbe(headers[NETWORK_PROBE_HEADER]).then(({ status, body }) => respondText(stream, status, body));
    });
  }
  return {
    server,
    closeSessions() {
      for (const session of sessions.keys()) session.close();
    },
  };
}
