import type { Socket } from 'node:net';
import { ResponseParser, type ResponseSink } from './response-parser.js';

/** A request handed to the upstream pool: the bytes to send first, and where its response goes. */
export interface UpstreamRequest extends ResponseSink {
  /** The request line and headers, ending with the empty line, as latin1 text. */
  readonly requestHead: string;
  /** The request is HEAD: its response has no body. */
  readonly headRequest: boolean;
  /**
   * The request may be sent again: a safe method and no body. A kept-alive
   * connection that the upstream closed just as it was reused fails such a
   * request before any byte of an answer; it is then retried once on a new
   * connection, as Go's http.Transport does.
   */
  readonly replayable: boolean;
  /** The whole request, body included, has been written; until then the connection cannot be reused. */
  readonly sent: boolean;
  /** The head is written on `connection`; the request body, if any, follows through it. */
  started(connection: UpstreamConnection): void;
  /** The request failed before its response ended (refused, reset, malformed answer). */
  failed(error: Error): void;
}

/** What a connection tells its pool. */
export interface ConnectionOwner {
  /** The response ended; `reusable`: the connection can take another request. */
  released(connection: UpstreamConnection, reusable: boolean): void;
  /** A request failed on a reused connection before any answer: send it again on a fresh one. */
  retry(request: UpstreamRequest): void;
  /** The connection closed for good. */
  removed(connection: UpstreamConnection): void;
}

/**
 * One keep-alive TCP connection to the upstream, carrying one request at a
 * time: it writes the request head, parses the answer and passes it on, and
 * reports to its pool when the answer ended or the connection failed.
 */
export class UpstreamConnection implements ResponseSink {
  private readonly parser = new ResponseParser(this);
  private current: UpstreamRequest | undefined;
  /** Answers completed on this connection: a failure after one may be a stale keep-alive connection. */
  private answered = 0;
  private gone = false;
  /** Reading is paused for a lagging client; an answer's end must undo it, or the next answer is never read. */
  private paused = false;
  /** When the connection last became idle, on the pool's clock, in milliseconds. */
  idleSinceMs = 0;

  /**
   * @param socket - connecting or connected to the upstream
   * @param first - the request to send once connected
   */
  constructor(
    private readonly owner: ConnectionOwner,
    private readonly socket: Socket,
    first: UpstreamRequest,
  ) {
    this.current = first;
    socket.once('connect', () => this.writeHead(first));
    socket.on('data', (data: Buffer) => {
      try {
        this.parser.feed(data);
      } catch (error) {
        this.fail(error as Error);
      }
    });
    socket.on('end', () => {
      try {
        this.parser.closed();
        this.close();
      } catch (error) {
        this.fail(error as Error);
      }
    });
    socket.on('error', (error) => this.fail(error));
    socket.on('close', () => this.fail(new Error('upstream connection closed')));
  }

  /** Sends `request` on this idle, connected connection. */
  send(request: UpstreamRequest): void {
    this.current = request;
    this.writeHead(request);
  }

  /** Writes request body bytes. @returns false when the caller should wait for {@link UpstreamConnection.onceDrained} */
  write(data: Buffer | string): boolean {
    return this.socket.write(data);
  }

  /** Calls `callback` once written bytes have drained. */
  onceDrained(callback: () => void): void {
    this.socket.once('drain', callback);
  }

  /** Stops reading the answer (the client is not keeping up). */
  pause(): void {
    this.paused = true;
    this.socket.pause();
  }

  /** Reads the answer again after {@link UpstreamConnection.pause}. */
  resume(): void {
    this.paused = false;
    this.socket.resume();
  }

  /** Drops the request in progress without telling it, and closes the connection. */
  abort(): void {
    this.current = undefined;
    this.close();
  }

  /** Closes the connection; a request in progress fails. */
  close(): void {
    this.socket.destroy();
    this.fail(new Error('upstream connection closed'));
  }

  head(status: number, reason: string, headers: string[]): void {
    this.current?.head(status, reason, headers);
  }

  body(chunk: Buffer): void {
    this.current?.body(chunk);
  }

  end(reusable: boolean): void {
    const request = this.current;
    this.current = undefined;
    this.answered++;
    if (this.paused) this.resume();
    // An answer that came before the whole request body was sent leaves the rest of the body on the wire.
    const sent = request === undefined || request.sent;
    request?.end(reusable && sent);
    this.owner.released(this, reusable && sent);
  }

  private writeHead(request: UpstreamRequest): void {
    this.parser.expect(request.headRequest);
    this.socket.write(request.requestHead, 'latin1');
    request.started(this);
  }

  private fail(error: Error): void {
    const request = this.current;
    this.current = undefined;
    if (request !== undefined) {
      if (this.answered > 0 && !this.parser.responseStarted && request.replayable) this.owner.retry(request);
      else request.failed(error);
    }
    if (this.gone) return;
    this.gone = true;
    this.socket.destroy();
    this.owner.removed(this);
  }
}
