/**
 * A strict, incremental HTTP/1.1 response parser for the proxy's upstream
 * connections (RFC 9112). Pure: it is fed bytes and calls a sink, with no
 * I/O of its own. Anything ambiguous about where a response ends (two
 * different Content-Lengths, Content-Length beside Transfer-Encoding, folded
 * header lines, control characters, a head over the size limit) is an error,
 * because a wrong guess would hand one client another client's bytes on a
 * reused connection.
 */

/** The upstream sent something that is not a well-formed HTTP/1.x response, or stopped in the middle of one. */
export class UpstreamProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UpstreamProtocolError';
  }
}

/** Receives one response from {@link ResponseParser}: a head, body chunks, an end. */
export interface ResponseSink {
  /**
   * The final response head (1xx answers are skipped).
   *
   * @param status - the status code, 200 to 599
   * @param reason - the reason phrase, possibly empty
   * @param headers - flat name, value, name, value... as sent (latin1), repeated headers repeated
   */
  head(status: number, reason: string, headers: string[]): void;
  /** Body bytes, chunked framing removed. A view into the bytes fed in. */
  body(chunk: Buffer): void;
  /**
   * The response is complete.
   *
   * @param reusable - the connection may carry another request (HTTP/1.1, no `Connection: close`, no stray bytes)
   */
  end(reusable: boolean): void;
}

/** Default limit of the response head (status line and header lines), in bytes: Node's own limit for request heads. */
export const DEFAULT_MAX_HEAD_BYTES = 16 * 1024;
/** Longest chunk-size line (size and extensions) accepted, in bytes. */
const MAX_CHUNK_LINE_BYTES = 4096;

const enum State {
  /** Reading the status line and headers. */
  Head,
  /** Reading `remaining` body bytes (Content-Length). */
  Length,
  /** The body runs until the connection closes. */
  UntilClose,
  /** Reading a chunk-size line. */
  ChunkSize,
  /** Reading `remaining` bytes of chunk data. */
  ChunkData,
  /** Reading the CRLF after chunk data. */
  ChunkEnd,
  /** Reading trailer lines up to the empty line. */
  Trailers,
  /** No response expected. */
  Idle,
}

const HEAD_END = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-5][0-9][0-9])(?: ([\t\x20-\x7e\x80-\xff]*))?$/;
const COLON = 0x3a;

/** A 256-entry table, 1 for each byte `test` accepts. */
function byteTable(test: (byte: number) => boolean): Uint8Array {
  return Uint8Array.from({ length: 256 }, (_, byte) => (test(byte) ? 1 : 0));
}

/** RFC 9110 tchar: the bytes of a header name. */
const TOKEN_BYTES = byteTable((byte) => /[!#$%&'*+\-.^_`|~0-9A-Za-z]/.test(String.fromCharCode(byte)));
/** Field-value bytes: visible ASCII, space, tab and obs-text; no other control character. */
const VALUE_BYTES = byteTable((byte) => byte === 9 || (byte >= 0x20 && byte !== 0x7f));
const DIGITS = /^[0-9]{1,15}$/;
const CHUNK_SIZE_LINE = /^([0-9a-fA-F]{1,12})(?:[\t ]*;.*)?$/;

/** `value` without leading and trailing spaces and tabs (RFC 9110 OWS), unlike `trim()`, which also drops obs-text. */
function trimOws(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && isOws(value.charCodeAt(start))) start++;
  while (end > start && isOws(value.charCodeAt(end - 1))) end--;
  return value.slice(start, end);
}

/** How many of the last bytes of `bytes` could be the start of `terminator`: a terminator split between reads. */
function partialTerminator(bytes: Buffer, terminator: Buffer): number {
  for (let count = Math.min(terminator.length - 1, bytes.length); count > 0; count--) {
    if (bytes.subarray(bytes.length - count).equals(terminator.subarray(0, count))) return count;
  }
  return 0;
}

/** Where the run of token bytes starting at `start` ends, at most `end`. */
function tokenEnd(text: string, start: number, end: number): number {
  let index = start;
  while (index < end && TOKEN_BYTES[text.charCodeAt(index)] === 1) index++;
  return index;
}

/** Whether `text` from `start` to `end` holds only field-value bytes. */
function isFieldValue(text: string, start: number, end: number): boolean {
  for (let index = start; index < end; index++) if (VALUE_BYTES[text.charCodeAt(index)] !== 1) return false;
  return true;
}

/** Space or horizontal tab (RFC 9110 OWS). */
function isOws(byte: number): boolean {
  return byte === 32 || byte === 9;
}

function isNamed(name: string, lowerName: string): boolean {
  return name.length === lowerName.length && name.toLowerCase() === lowerName;
}

/** The comma-separated tokens of a header value, trimmed and lower-cased. */
function tokens(value: string): string[] {
  // RFC 9110 5.6.1: empty list elements do not count.
  return value
    .split(',')
    .map((token) => trimOws(token).toLowerCase())
    .filter((token) => token !== '');
}

/**
 * Parses the responses on one upstream connection, one at a time: call
 * {@link ResponseParser.expect} before each request, then {@link ResponseParser.feed}
 * with every byte read, and {@link ResponseParser.closed} when the
 * connection ends.
 */
export class ResponseParser {
  private state = State.Idle;
  /** Bytes of an unfinished head or line, kept until the rest arrives. */
  private pending: Buffer | undefined;
  private remaining = 0;
  private headRequest = false;
  private keepAlive = true;
  private trailerBytes = 0;
  /** Whether any byte of the current response has arrived. */
  private started = false;
  // Shared callbacks, so that reading a head or a line allocates no closure.
  private readonly takeHead = (head: string): void => this.parseHead(head);
  private readonly takeChunkSize = (line: string): void => this.chunkSize(line);
  private readonly takeChunkEnd = (line: string): void => {
    if (line !== '') throw new UpstreamProtocolError('chunk data longer than its size');
    this.state = State.ChunkSize;
  };
  private readonly takeTrailer = (line: string): void => this.trailer(line);

  /**
   * @param sink - receives the parsed response
   * @param maxHeadBytes - limit of the head, and separately of the trailers, in bytes
   */
  constructor(
    private readonly sink: ResponseSink,
    private readonly maxHeadBytes = DEFAULT_MAX_HEAD_BYTES,
  ) {}

  /** True once a byte of the response expected now has arrived. */
  get responseStarted(): boolean {
    return this.started;
  }

  /**
   * Prepares for the response to a request just sent.
   *
   * @param headRequest - the request was HEAD, so its response has no body whatever its headers say
   */
  expect(headRequest: boolean): void {
    this.state = State.Head;
    this.headRequest = headRequest;
    this.pending = undefined;
    this.keepAlive = true;
    this.started = false;
  }

  /**
   * Parses bytes read from the connection, calling the sink as parts of
   * the response complete. Bytes after the end of the response make the
   * connection not reusable and are dropped.
   *
   * @throws UpstreamProtocolError for a malformed response, or bytes when none is expected
   */
  feed(data: Buffer): void {
    if (this.state === State.Idle) throw new UpstreamProtocolError('upstream sent bytes when no response was expected');
    this.started = true;
    let offset = 0;
    while (offset < data.length && this.state !== State.Idle) {
      switch (this.state) {
        case State.Head:
          // The limit counts the head's final empty line too.
          offset = this.readUntil(data, offset, HEAD_END, this.maxHeadBytes - HEAD_END.length, this.takeHead);
          break;
        case State.Length:
        case State.ChunkData: {
          const count = Math.min(this.remaining, data.length - offset);
          this.sink.body(data.subarray(offset, offset + count));
          offset += count;
          this.remaining -= count;
          if (this.remaining === 0) {
            if (this.state === State.Length) this.state = State.Idle;
            else this.state = State.ChunkEnd;
          }
          break;
        }
        case State.UntilClose:
          this.sink.body(offset === 0 ? data : data.subarray(offset));
          offset = data.length;
          break;
        case State.ChunkSize:
          offset = this.readUntil(data, offset, CRLF, MAX_CHUNK_LINE_BYTES, this.takeChunkSize);
          break;
        case State.ChunkEnd:
          offset = this.readUntil(data, offset, CRLF, MAX_CHUNK_LINE_BYTES, this.takeChunkEnd);
          break;
        case State.Trailers:
          offset = this.readUntil(data, offset, CRLF, this.maxHeadBytes, this.takeTrailer);
          break;
      }
      if (this.state === State.Idle) this.sink.end(this.keepAlive && offset === data.length);
    }
  }

  /**
   * The connection ended. Completes a body that runs until the close.
   *
   * @throws UpstreamProtocolError when a response was expected and is not complete
   */
  closed(): void {
    if (this.state === State.Idle) return;
    if (this.state === State.UntilClose) {
      this.state = State.Idle;
      this.sink.end(false);
      return;
    }
    const where = this.state === State.Head ? (this.started ? 'in the response head' : 'before any response') : 'in the response body';
    this.state = State.Idle;
    throw new UpstreamProtocolError(`upstream closed the connection ${where}`);
  }

  private parseHead(text: string): void {
    const statusEnd = text.indexOf('\r\n');
    const statusLine = STATUS_LINE.exec(statusEnd === -1 ? text : text.slice(0, statusEnd));
    if (statusLine === null) throw new UpstreamProtocolError('upstream sent a malformed status line');
    const status = Number(statusLine[2]);
    const headers: string[] = [];
    let contentLength: string | undefined;
    let transferEncoding: string | undefined;
    let connectionClose = statusLine[1] === '0';
    // One scan per header line with lookup tables: regular expressions and split() cost most of a response's parsing.
    for (let start = statusEnd === -1 ? text.length : statusEnd + 2; start < text.length; ) {
      const found = text.indexOf('\r\n', start);
      const lineEnd = found === -1 ? text.length : found;
      const colon = tokenEnd(text, start, lineEnd);
      if (colon === start || text.charCodeAt(colon) !== COLON) throw new UpstreamProtocolError('upstream sent a malformed header line');
      const name = text.slice(start, colon);
      const value = trimOws(text.slice(colon + 1, lineEnd));
      if (!isFieldValue(value, 0, value.length)) throw new UpstreamProtocolError(`upstream header ${name} holds a control character`);
      start = lineEnd + 2;
      headers.push(name, value);
      if (isNamed(name, 'content-length')) {
        if (!DIGITS.test(value) || (contentLength !== undefined && contentLength !== value)) {
          throw new UpstreamProtocolError('upstream sent an invalid or conflicting Content-Length');
        }
        contentLength = value;
      } else if (isNamed(name, 'transfer-encoding')) {
        transferEncoding = transferEncoding === undefined ? value : `${transferEncoding}, ${value}`;
      } else if (isNamed(name, 'connection') && !isNamed(value, 'keep-alive') && tokens(value).includes('close')) {
        connectionClose = true;
      }
    }
    if (status < 200) {
      // 100 Continue, 103 Early Hints: the final answer follows. 101 would switch protocols, which was never asked for.
      if (status === 101) throw new UpstreamProtocolError('upstream switched protocols unasked');
      return;
    }
    if (contentLength !== undefined && transferEncoding !== undefined) {
      throw new UpstreamProtocolError('upstream sent both Content-Length and Transfer-Encoding');
    }
    this.keepAlive = !connectionClose;
    this.sink.head(status, statusLine[3] ?? '', headers);
    if (this.headRequest || status === 204 || status === 304) {
      this.state = State.Idle;
    } else if (transferEncoding !== undefined) {
      // RFC 9112 6.3: chunked must be the final coding; otherwise the body runs until the connection closes.
      this.startBody(tokens(transferEncoding).at(-1) === 'chunked' ? State.ChunkSize : State.UntilClose, 0);
    } else if (contentLength !== undefined) {
      this.startBody(State.Length, Number(contentLength));
    } else {
      this.startBody(State.UntilClose, 0);
    }
  }

  private startBody(state: State, length: number): void {
    if (state === State.UntilClose) this.keepAlive = false;
    this.state = state === State.Length && length === 0 ? State.Idle : state;
    this.remaining = length;
    this.trailerBytes = 0;
  }

  private chunkSize(line: string): void {
    const match = CHUNK_SIZE_LINE.exec(line);
    if (match === null) throw new UpstreamProtocolError('upstream sent a malformed chunk size');
    this.remaining = parseInt(match[1]!, 16);
    this.state = this.remaining === 0 ? State.Trailers : State.ChunkData;
  }

  private trailer(line: string): void {
    if (line === '') {
      this.state = State.Idle;
      return;
    }
    this.trailerBytes += line.length + 2;
    if (this.trailerBytes > this.maxHeadBytes) throw new UpstreamProtocolError(`upstream trailers over ${this.maxHeadBytes} bytes`);
    const colon = tokenEnd(line, 0, line.length);
    if (colon === 0 || line.charCodeAt(colon) !== COLON || !isFieldValue(line, colon + 1, line.length)) {
      throw new UpstreamProtocolError('upstream sent a malformed trailer line');
    }
  }

  /**
   * Collects the bytes up to `terminator`, which may span several reads,
   * and hands them (without the terminator) to `take` as latin1 text.
   *
   * @param maxBytes - longest accepted text before the terminator
   * @returns the new offset into `data`
   */
  private readUntil(data: Buffer, offset: number, terminator: Buffer, maxBytes: number, take: (text: string) => void): number {
    const pending = this.pending;
    this.pending = undefined;
    // With earlier bytes pending, search their concatenation with the new ones; `start` is where the text begins.
    const bytes = pending === undefined ? data : Buffer.concat([pending, data.subarray(offset)]);
    const start = pending === undefined ? offset : 0;
    const end = bytes.indexOf(terminator, pending === undefined ? offset : Math.max(0, pending.length - terminator.length + 1));
    const textBytes = end !== -1 ? end - start : bytes.length - start - partialTerminator(bytes, terminator);
    if (textBytes > maxBytes) {
      // Built only here, not on every read.
      throw new UpstreamProtocolError(
        terminator === HEAD_END ? `upstream response head over ${this.maxHeadBytes} bytes` : `upstream sent a line over ${maxBytes} bytes`,
      );
    }
    if (end === -1) {
      this.pending = bytes.subarray(start);
      return data.length;
    }
    take(bytes.toString('latin1', start, end));
    return pending === undefined ? end + terminator.length : offset + end + terminator.length - pending.length;
  }
}
