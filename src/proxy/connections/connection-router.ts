import type { Server } from 'node:http';
import type { Http2Server } from 'node:http2';
import type { Socket } from 'node:net';

/** The HTTP/2 connection preface (RFC 9113 section 3.4): a client with prior knowledge sends these 24 bytes first. */
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/**
 * What Node's HTTP/1.1 server writes to a connection whose request head did
 * not arrive within its `headersTimeout`; a connection that sends nothing at
 * all gets the same here, at the same bound.
 */
const REQUEST_TIMEOUT = 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n';

type ConnectionListener = (this: Server, socket: Socket) => void;

const resume = (socket: Socket): void => {
  socket.resume();
};

/** One accepted connection until its first bytes tell which protocol it speaks. */
class Sniff {
  private received: Buffer | undefined;
  private readonly timer: NodeJS.Timeout;

  private readonly onData = (chunk: Buffer): void => {
    const bytes = this.received === undefined ? chunk : Buffer.concat([this.received, chunk]);
    const length = Math.min(bytes.length, PREFACE.length);
    if (bytes.compare(PREFACE, 0, length, 0, length) !== 0) this.hand(bytes, false);
    else if (length === PREFACE.length) this.hand(bytes, true);
    else this.received = bytes;
  };

  private readonly onError = (): void => {
    this.socket.destroy();
  };

  private readonly onSilence = (): void => {
    this.socket.removeListener('data', this.onData);
    this.socket.end(REQUEST_TIMEOUT, () => this.socket.destroy());
  };

  constructor(
    private readonly socket: Socket,
    private readonly router: ConnectionRouter,
  ) {
    socket.on('data', this.onData);
    socket.on('error', this.onError);
    socket.once('close', () => clearTimeout(this.timer));
    this.timer = setTimeout(this.onSilence, router.headersTimeoutMs);
  }

  /** Gives the connection and the bytes read so far to the server of its protocol. */
  private hand(bytes: Buffer, http2: boolean): void {
    clearTimeout(this.timer);
    const socket = this.socket;
    socket.removeListener('data', this.onData);
    socket.removeListener('error', this.onError);
    if (http2) {
      // The session reads what is buffered on the next tick, before any later bytes (nghttp2 then reads the
      // socket's handle itself). Paused until then so that nothing else takes them; resumed after, so that the
      // socket still sees the client's end of the connection.
      socket.pause();
      socket.unshift(bytes);
      // Accepted by the HTTP/1.1 server, which keeps half-open connections to handle them itself; an HTTP/2
      // session ends its connection when the client's side ends, as on an http2 server's own sockets.
      socket.allowHalfOpen = false;
      this.router.http2.emit('connection', socket);
      process.nextTick(resume, socket);
    } else {
      // Node's HTTP server then reads the socket's handle itself; the bytes are parsed first, in this same tick.
      this.router.http1Listener.call(this.router.http1, socket);
      socket.emit('data', bytes);
    }
  }
}

/**
 * Serves HTTP/1.1 and HTTP/2 with prior knowledge (h2c) on one port: the
 * HTTP/1.1 server listens, and each connection it accepts is routed by its
 * first bytes, compared with the 24-byte HTTP/2 preface (protocol detection
 * only: Node's http and http2 servers parse everything). A connection that
 * starts with the preface goes to `http2` (nghttp2) with its bytes put
 * back; any other goes to Node's own HTTP/1.1 handling of `http1` as soon
 * as a byte differs (usually the first: no HTTP method starts with `PRI *`).
 * A connection that sends nothing, or only part of the preface, within
 * `headersTimeoutMs` milliseconds gets the 408 Node's server would send and
 * is closed, so the sniff adds no slowloris window of its own.
 *
 * Node's `http2` server offers HTTP/1.1 fallback only through TLS's ALPN,
 * hence this. The HTTP/1.1 server's other 'connection' listeners (the
 * proxy's connection bookkeeping) still see every connection.
 */
export class ConnectionRouter {
  /** Node's own 'connection' listener of the HTTP/1.1 server, which the router now calls for HTTP/1.1 connections. */
  readonly http1Listener: ConnectionListener;

  constructor(
    readonly http1: Server,
    readonly http2: Http2Server,
    readonly headersTimeoutMs: number,
  ) {
    // Node's HTTP server adds its connection listener when it is built: its only one then (ARCHITECTURE.md, "What the
    // proxy takes from Node beyond its documented API"). Refused rather than guessed if a Node release changes that.
    const listeners = http1.listeners('connection') as ConnectionListener[];
    if (listeners.length !== 1) throw new Error(`ConnectionRouter needs a new node:http server (one 'connection' listener, Node's own), got ${listeners.length}`);
    const [own] = listeners as [ConnectionListener];
    this.http1Listener = own;
    http1.removeListener('connection', own);
    http1.prependListener('connection', (socket: Socket) => new Sniff(socket, this));
  }
}
