import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DEFAULT_MAX_HEAD_BYTES, ResponseParser, UpstreamProtocolError, type ResponseSink } from '../src/response-parser.js';

type Event = ['head', number, string, string[]] | ['end', boolean];

/**
 * Records what the parser tells its sink. Body chunks are copied, since the
 * parser hands out views into the fed buffers, and they must come between a
 * head and its end: a chunk anywhere else fails the test where it happens.
 */
class RecordingSink implements ResponseSink {
  readonly events: Event[] = [];
  /** The body of each response, one entry per head, as latin1 text (one char a byte). */
  readonly bodies: string[] = [];
  private open = false;

  head(status: number, reason: string, headers: string[]): void {
    assert.equal(this.open, false, 'head() while a response is open');
    this.open = true;
    this.events.push(['head', status, reason, [...headers]]);
    this.bodies.push('');
  }

  body(chunk: Buffer): void {
    assert.equal(this.open, true, 'body() outside a response');
    assert.ok(chunk.length > 0, 'empty body chunk');
    this.bodies[this.bodies.length - 1] += chunk.toString('latin1');
  }

  end(reusable: boolean): void {
    assert.equal(this.open, true, 'end() without a head');
    this.open = false;
    this.events.push(['end', reusable]);
  }

  /** The body of the only (or last) response. */
  get lastBody(): string {
    return this.bodies.at(-1) ?? '';
  }
}

/** `text` as bytes, one byte a char, so that '\xa0' is the single byte 0xa0. */
function bytes(text: string): Buffer {
  return Buffer.from(text, 'latin1');
}

interface ParseOptions {
  headRequest?: boolean;
  maxHeadBytes?: number;
}

/** A parser expecting one response, with `pieces` fed to it one after another. */
function parse(pieces: string | string[], options: ParseOptions = {}): { parser: ResponseParser; sink: RecordingSink } {
  const sink = new RecordingSink();
  const parser = new ResponseParser(sink, options.maxHeadBytes);
  parser.expect(options.headRequest ?? false);
  for (const piece of typeof pieces === 'string' ? [pieces] : pieces) parser.feed(bytes(piece));
  return { parser, sink };
}

/** Asserts that feeding `pieces` fails with an UpstreamProtocolError whose message matches `message`. */
function assertRejected(pieces: string | string[], message: RegExp, options: ParseOptions = {}): void {
  assert.throws(() => parse(pieces, options), (error: unknown) => {
    assert.ok(error instanceof UpstreamProtocolError, `not an UpstreamProtocolError: ${String(error)}`);
    assert.equal(error.name, 'UpstreamProtocolError');
    assert.match(error.message, message);
    return true;
  });
}

/** Asserts that `closed()` now fails with an UpstreamProtocolError whose message matches `message`. */
function assertClosedRejected(parser: ResponseParser, message: RegExp): void {
  assert.throws(
    () => parser.closed(),
    (error: unknown) => error instanceof UpstreamProtocolError && message.test(error.message),
  );
}

describe('ResponseParser: Content-Length bodies', () => {
  it('passes the head and a body fed in one piece, and the connection is reusable', () => {
    const { sink } = parse('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello');
    assert.deepEqual(sink.events, [
      ['head', 200, 'OK', ['Content-Type', 'text/plain', 'Content-Length', '5']],
      ['end', true],
    ]);
    assert.equal(sink.lastBody, 'hello');
  });

  it('keeps header names as sent, in order, repeated headers repeated', () => {
    const { sink } = parse(
      'HTTP/1.1 200 OK\r\nset-COOKIE: a=1\r\nX-Request-ID: abc\r\nSet-Cookie: b=2\r\ncontent-length: 0\r\n\r\n',
    );
    assert.deepEqual(sink.events, [
      ['head', 200, 'OK', ['set-COOKIE', 'a=1', 'X-Request-ID', 'abc', 'Set-Cookie', 'b=2', 'content-length', '0']],
      ['end', true],
    ]);
    assert.equal(sink.lastBody, '');
  });

  it('trims spaces and tabs around values but keeps obs-text bytes (latin1), inner spaces and empty values', () => {
    const { sink } = parse(
      'HTTP/1.1 200 OK\r\nX-Spaced: \t a  b \t\r\nX-Obs:\xa0caf\xe9\xa0 \r\nX-Empty:\r\nX-Blank:   \r\nContent-Length: 0\r\n\r\n',
    );
    assert.deepEqual(sink.events[0], ['head', 200, 'OK', ['X-Spaced', 'a  b', 'X-Obs', '\xa0caf\xe9\xa0', 'X-Empty', '', 'X-Blank', '', 'Content-Length', '0']]);
  });

  it('passes the reason phrase as sent, and an empty or missing one as empty', () => {
    const reasonOf = (statusLine: string) => parse(`${statusLine}\r\nContent-Length: 0\r\n\r\n`).sink.events[0]![2];
    assert.equal(reasonOf('HTTP/1.1 404 Not Found'), 'Not Found');
    assert.equal(reasonOf('HTTP/1.1 200'), '');
    assert.equal(reasonOf('HTTP/1.1 200 '), '');
    assert.equal(reasonOf('HTTP/1.1 200 D\xe9j\xe0 vu\t'), 'D\xe9j\xe0 vu\t');
    assert.equal(reasonOf('HTTP/1.1 599 '), '');
  });

  it('reads a body split over several feeds, and stops at Content-Length', () => {
    const { sink } = parse(['HTTP/1.1 201 Created\r\nContent-Len', 'gth: 11\r\n\r', '\nhello', ' ', 'world']);
    assert.deepEqual(sink.events, [['head', 201, 'Created', ['Content-Length', '11']], ['end', true]]);
    assert.equal(sink.lastBody, 'hello world');
  });

  it('accepts identical duplicate Content-Lengths', () => {
    const { sink } = parse('HTTP/1.1 200 OK\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\nhello');
    assert.deepEqual(sink.events, [['head', 200, 'OK', ['Content-Length', '5', 'content-length', '5']], ['end', true]]);
    assert.equal(sink.lastBody, 'hello');
  });
});

describe('ResponseParser: chunked bodies', () => {
  const response =
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n' +
    '5;name=value\r\nhello\r\n' +
    '6 ; ext ; other="quoted"\r\n world\r\n' +
    'A\r\n0123456789\r\n' +
    '0;last\r\nX-Checksum: abc\r\nX-Other:1\r\n\r\n';

  it('removes the framing, extensions and trailers; the connection is reusable', () => {
    const { sink } = parse(response);
    assert.deepEqual(sink.events, [['head', 200, 'OK', ['Transfer-Encoding', 'chunked']], ['end', true]]);
    assert.equal(sink.lastBody, 'hello world0123456789');
  });

  it('gives the same body fed one byte at a time', () => {
    const { sink } = parse([...response]);
    assert.deepEqual(sink.events, [['head', 200, 'OK', ['Transfer-Encoding', 'chunked']], ['end', true]]);
    assert.equal(sink.lastBody, 'hello world0123456789');
  });

  it('takes an empty chunked body, and the coding name in any case', () => {
    const { sink } = parse('HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n0\r\n\r\n');
    assert.deepEqual(sink.events, [['head', 200, 'OK', ['Transfer-Encoding', 'Chunked']], ['end', true]]);
    assert.equal(sink.lastBody, '');
  });
});

describe('ResponseParser: close-delimited bodies', () => {
  it('passes the body as it arrives and ends it, not reusable, only when the connection closes', () => {
    const { parser, sink } = parse(['HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nsome', ' more']);
    assert.deepEqual(sink.events, [['head', 200, 'OK', ['Content-Type', 'text/plain']]]);
    assert.equal(sink.lastBody, 'some more');
    parser.closed();
    assert.deepEqual(sink.events, [['head', 200, 'OK', ['Content-Type', 'text/plain']], ['end', false]]);
  });

  it('ends an empty close-delimited body on close', () => {
    const { parser, sink } = parse('HTTP/1.1 200 OK\r\n\r\n');
    assert.deepEqual(sink.events, [['head', 200, 'OK', []]]);
    parser.closed();
    assert.deepEqual(sink.events, [['head', 200, 'OK', []], ['end', false]]);
    assert.equal(sink.lastBody, '');
  });
});

describe('ResponseParser: responses without a body', () => {
  it('ends the answer to HEAD right after its head, whatever Content-Length says', () => {
    const { sink } = parse('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n', { headRequest: true });
    assert.deepEqual(sink.events, [['head', 200, 'OK', ['Content-Length', '5']], ['end', true]]);
    assert.equal(sink.lastBody, '');
  });

  it('ends the answer to HEAD right after its head with Transfer-Encoding: chunked', () => {
    const { sink } = parse('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', { headRequest: true });
    assert.deepEqual(sink.events, [['head', 200, 'OK', ['Transfer-Encoding', 'chunked']], ['end', true]]);
  });

  it('ends 204 and 304 right after their head', () => {
    const noContent = parse('HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n').sink;
    assert.deepEqual(noContent.events, [['head', 204, 'No Content', ['Content-Length', '5']], ['end', true]]);
    assert.equal(noContent.lastBody, '');
    const notModified = parse('HTTP/1.1 304 Not Modified\r\nETag: "x"\r\nContent-Length: 5\r\n\r\n').sink;
    assert.deepEqual(notModified.events, [['head', 304, 'Not Modified', ['ETag', '"x"', 'Content-Length', '5']], ['end', true]]);
    assert.equal(notModified.lastBody, '');
  });

  it('ends Content-Length: 0 right after its head', () => {
    const { sink } = parse('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
    assert.deepEqual(sink.events, [['head', 200, 'OK', ['Content-Length', '0']], ['end', true]]);
  });
});

describe('ResponseParser: interim 1xx responses', () => {
  const finalAnswer = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';

  it('skips 100 Continue and 103 Early Hints: one head, the final one', () => {
    const { sink } = parse(
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n' + finalAnswer,
    );
    assert.deepEqual(sink.events, [['head', 200, 'OK', ['Content-Length', '2']], ['end', true]]);
    assert.equal(sink.lastBody, 'ok');
  });

  it('skips a 100 Continue that arrives in its own read', () => {
    const { parser, sink } = parse('HTTP/1.1 100 Continue\r\n\r\n');
    assert.deepEqual(sink.events, []);
    assert.equal(parser.responseStarted, true);
    parser.feed(bytes(finalAnswer));
    assert.deepEqual(sink.events, [['head', 200, 'OK', ['Content-Length', '2']], ['end', true]]);
  });

  it('skips 1xx before the answer to HEAD', () => {
    const { sink } = parse('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n', { headRequest: true });
    assert.deepEqual(sink.events, [['head', 200, 'OK', ['Content-Length', '2']], ['end', true]]);
  });
});

describe('ResponseParser: connections that cannot be reused', () => {
  const reusable = (head: string) => {
    const { sink } = parse(`${head}\r\nContent-Length: 2\r\n\r\nok`);
    assert.equal(sink.lastBody, 'ok');
    return sink.events.at(-1);
  };

  it('does not reuse an HTTP/1.0 connection, even with Connection: keep-alive', () => {
    assert.deepEqual(reusable('HTTP/1.0 200 OK'), ['end', false]);
    assert.deepEqual(reusable('HTTP/1.0 200 OK\r\nConnection: keep-alive'), ['end', false]);
  });

  it('does not reuse a connection the upstream closes with Connection: close, in any case or list', () => {
    assert.deepEqual(reusable('HTTP/1.1 200 OK\r\nConnection: close'), ['end', false]);
    assert.deepEqual(reusable('HTTP/1.1 200 OK\r\nConnection: keep-alive, close'), ['end', false]);
    assert.deepEqual(reusable('HTTP/1.1 200 OK\r\nconnection: Upgrade\r\nConnection:  CLOSE '), ['end', false]);
  });

  it('reuses an HTTP/1.1 connection with Connection: keep-alive or other tokens', () => {
    assert.deepEqual(reusable('HTTP/1.1 200 OK\r\nConnection: keep-alive'), ['end', true]);
    assert.deepEqual(reusable('HTTP/1.1 200 OK\r\nConnection: closed, enclose'), ['end', true]);
  });

  it('does not reuse the connection after a HEAD answer from HTTP/1.0 or with Connection: close', () => {
    assert.deepEqual(parse('HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\n', { headRequest: true }).sink.events.at(-1), ['end', false]);
    assert.deepEqual(parse('HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n').sink.events.at(-1), ['end', false]);
  });
});

describe('ResponseParser: bytes after the end of a response', () => {
  it('drops them and makes the connection not reusable (Content-Length)', () => {
    const { parser, sink } = parse('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
    assert.deepEqual(sink.events, [['head', 200, 'OK', ['Content-Length', '2']], ['end', false]]);
    assert.equal(sink.lastBody, 'ok');
    // Dropped, not kept for later: the parser is idle, and closing is not an error.
    parser.closed();
    assert.equal(sink.events.length, 2);
  });

  it('drops them after a chunked body, a 204 and a HEAD answer', () => {
    const chunked = parse('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\nX').sink;
    assert.deepEqual(chunked.events, [['head', 200, 'OK', ['Transfer-Encoding', 'chunked']], ['end', false]]);
    assert.equal(chunked.lastBody, 'ok');
    assert.deepEqual(parse('HTTP/1.1 204 No Content\r\n\r\nX').sink.events, [['head', 204, 'No Content', []], ['end', false]]);
    const head = parse('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello', { headRequest: true }).sink;
    assert.deepEqual(head.events, [['head', 200, 'OK', ['Content-Length', '5']], ['end', false]]);
    assert.equal(head.lastBody, '');
  });
});

describe('ResponseParser: malformed status lines', () => {
  it('rejects what is not HTTP/1.x', () => {
    assertRejected('SSH-2.0-OpenSSH_9.6\r\n\r\n', /malformed status line/);
    assertRejected('HTTP/2 200 OK\r\n\r\n', /malformed status line/);
    assertRejected('HTTP/1.2 200 OK\r\n\r\n', /malformed status line/);
    assertRejected('http/1.1 200 OK\r\n\r\n', /malformed status line/);
    assertRejected('\r\nHTTP/1.1 200 OK\r\n\r\n', /malformed status line/);
  });

  it('rejects a status that is not three digits from 100 to 599', () => {
    assertRejected('HTTP/1.1 abc OK\r\n\r\n', /malformed status line/);
    assertRejected('HTTP/1.1 600 Too Far\r\n\r\n', /malformed status line/);
    assertRejected('HTTP/1.1 099 Too Low\r\n\r\n', /malformed status line/);
    assertRejected('HTTP/1.1 20 OK\r\n\r\n', /malformed status line/);
    assertRejected('HTTP/1.1 2000 OK\r\n\r\n', /malformed status line/);
    assertRejected('HTTP/1.1  200 OK\r\n\r\n', /malformed status line/);
  });

  it('rejects control characters in the reason phrase', () => {
    assertRejected('HTTP/1.1 200 O\x00K\r\n\r\n', /malformed status line/);
    assertRejected('HTTP/1.1 200 O\x7fK\r\n\r\n', /malformed status line/);
    assertRejected('HTTP/1.1 200 O\nK\r\n\r\n', /malformed status line/);
  });

  it('rejects 101 Switching Protocols, which was never asked for', () => {
    assertRejected('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n', /switched protocols unasked/);
  });
});

describe('ResponseParser: malformed header lines', () => {
  it('rejects a space or nothing before the colon, and a line without one', () => {
    assertRejected('HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n', /malformed header line/);
    assertRejected('HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n', /malformed header line/);
    assertRejected('HTTP/1.1 200 OK\r\n: x\r\n\r\n', /malformed header line/);
    assertRejected('HTTP/1.1 200 OK\r\nNoColonHere\r\n\r\n', /malformed header line/);
    assertRejected('HTTP/1.1 200 OK\r\nX-\xe9: x\r\n\r\n', /malformed header line/);
  });

  it('rejects an obs-fold continuation line', () => {
    assertRejected('HTTP/1.1 200 OK\r\nX-Folded: one\r\n two\r\nContent-Length: 0\r\n\r\n', /malformed header line/);
    assertRejected('HTTP/1.1 200 OK\r\nX-Folded: one\r\n\ttwo: three\r\n\r\n', /malformed header line/);
  });

  it('rejects control characters in a value: NUL, bare LF, bare CR, DEL', () => {
    assertRejected('HTTP/1.1 200 OK\r\nX-Bad: a\x00b\r\n\r\n', /header X-Bad holds a control character/);
    assertRejected('HTTP/1.1 200 OK\r\nX-Bad: a\nContent-Length: 0\r\n\r\n', /header X-Bad holds a control character/);
    assertRejected('HTTP/1.1 200 OK\r\nX-Bad: a\rb\r\n\r\n', /header X-Bad holds a control character/);
    assertRejected('HTTP/1.1 200 OK\r\nX-Bad: a\x7f\r\n\r\n', /header X-Bad holds a control character/);
  });
});

describe('ResponseParser: ambiguous framing', () => {
  it('rejects two different Content-Lengths', () => {
    assertRejected('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!', /invalid or conflicting Content-Length/);
    // Same number, different spelling: still two different strings.
    assertRejected('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 05\r\n\r\nhello', /invalid or conflicting Content-Length/);
  });

  it('rejects a Content-Length that is not plain digits', () => {
    for (const value of ['abc', '-1', '+5', '1e3', '0x10', '5, 5', '5 5', '', '1234567890123456']) {
      assertRejected(`HTTP/1.1 200 OK\r\nContent-Length: ${value}\r\n\r\n`, /invalid or conflicting Content-Length/);
    }
  });

  it('rejects Content-Length beside Transfer-Encoding, in either order', () => {
    assertRejected('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n', /both Content-Length and Transfer-Encoding/);
    assertRejected('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n', /both Content-Length and Transfer-Encoding/);
  });
});

describe('ResponseParser: head size limit', () => {
  // 28 bytes around the padding: 'HTTP/1.1 200 OK\r\nX-Pad: ' and the final CRLFCRLF.
  const headOf = (totalBytes: number) => `HTTP/1.1 200 OK\r\nX-Pad: ${'p'.repeat(totalBytes - 28)}\r\n\r\n`;

  it('accepts a head of exactly maxHeadBytes, empty line included, and rejects one byte more', () => {
    assert.equal(headOf(64).length, 64);
    const { parser, sink } = parse(headOf(64), { maxHeadBytes: 64 });
    assert.deepEqual(sink.events, [['head', 200, 'OK', ['X-Pad', 'p'.repeat(36)]]]);
    parser.closed();
    assertRejected(headOf(65), /response head over 64 bytes/, { maxHeadBytes: 64 });
    assertRejected([...headOf(65)], /response head over 64 bytes/, { maxHeadBytes: 64 });
  });

  it('rejects an unfinished head as soon as it is over the limit', () => {
    assertRejected('HTTP/1.1 200 OK\r\nX-Pad: ' + 'p'.repeat(60), /response head over 64 bytes/, { maxHeadBytes: 64 });
  });

  it('applies the 16 KiB default: a 17 KiB header fails, fed whole or in 1 KiB reads', () => {
    assert.equal(DEFAULT_MAX_HEAD_BYTES, 16384);
    const head = `HTTP/1.1 200 OK\r\nX-Big: ${'b'.repeat(17 * 1024)}\r\nContent-Length: 0\r\n\r\n`;
    assertRejected(head, /response head over 16384 bytes/);
    const reads = Array.from({ length: Math.ceil(head.length / 1024) }, (_, i) => head.slice(i * 1024, (i + 1) * 1024));
    assertRejected(reads, /response head over 16384 bytes/);
  });

  it('limits each response head separately: 1xx heads do not add up', () => {
    const interim = 'HTTP/1.1 100 Continue\r\n\r\n';
    const { sink } = parse(interim + interim + interim + 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', { maxHeadBytes: 40 });
    assert.deepEqual(sink.events, [['head', 200, 'OK', ['Content-Length', '0']], ['end', true]]);
  });
});

describe('ResponseParser: malformed chunked bodies', () => {
  const chunkedHead = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n';

  it('rejects a chunk size that is not hex digits', () => {
    for (const line of ['ZZ', '', '-1', ' 5', '5 ', '0x5', '1234567890abc']) {
      assertRejected(`${chunkedHead}${line}\r\nhello\r\n0\r\n\r\n`, /malformed chunk size/);
    }
  });

  it('rejects chunk data longer than its size', () => {
    assertRejected(`${chunkedHead}5\r\nhelloXX\r\n0\r\n\r\n`, /chunk data longer than its size/);
    assertRejected([`${chunkedHead}5\r\nhello`, '\r', 'X\r\n'], /chunk data longer than its size/);
  });

  it('rejects a chunk-size line over 4096 bytes', () => {
    assertRejected(`${chunkedHead}5;${'e'.repeat(4095)}\r\nhello\r\n0\r\n\r\n`, /line over 4096 bytes/);
    assertRejected([`${chunkedHead}5;`, 'e'.repeat(4095)], /line over 4096 bytes/);
  });

  it('accepts a chunk-size line of exactly 4096 bytes fed whole', () => {
    const { sink } = parse(`${chunkedHead}5;${'e'.repeat(4094)}\r\nhello\r\n0\r\n\r\n`);
    assert.equal(sink.lastBody, 'hello');
    assert.deepEqual(sink.events.at(-1), ['end', true]);
  });

  // Split between its CR and LF, the line must not be counted with its CR.
  it('accepts a chunk-size line of exactly 4096 bytes split between its CR and LF', () => {
    const { sink } = parse([`${chunkedHead}5;${'e'.repeat(4094)}\r`, '\nhello\r\n0\r\n\r\n']);
    assert.equal(sink.lastBody, 'hello');
  });

  it('rejects a bad trailer line', () => {
    assertRejected(`${chunkedHead}0\r\nBad Trailer: x\r\n\r\n`, /malformed trailer line/);
    assertRejected(`${chunkedHead}0\r\nNoColon\r\n\r\n`, /malformed trailer line/);
    assertRejected(`${chunkedHead}0\r\nX-Ok: 1\r\n folded\r\n\r\n`, /malformed trailer line/);
    assertRejected(`${chunkedHead}0\r\nX-Nul: a\x00b\r\n\r\n`, /malformed trailer line/);
  });

  it('limits the trailers to maxHeadBytes in all', () => {
    const head = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n';
    const trailer = 'X-T: 0123456789\r\n';
    assertRejected(`${head}0\r\n${trailer.repeat(4)}\r\n`, /trailers over 64 bytes/, { maxHeadBytes: 64 });
    const { sink } = parse(`${head}0\r\n${trailer.repeat(3)}\r\n`, { maxHeadBytes: 64 });
    assert.deepEqual(sink.events.at(-1), ['end', true]);
  });
});

describe('ResponseParser: bytes when no response is expected', () => {
  it('rejects bytes before the first expect()', () => {
    const parser = new ResponseParser(new RecordingSink());
    assert.throws(() => parser.feed(bytes('HTTP/1.1 200 OK\r\n\r\n')), UpstreamProtocolError);
    assert.throws(() => parser.feed(bytes('x')), /no response was expected/);
  });

  it('rejects bytes after the response ended, until the next expect()', () => {
    const { parser, sink } = parse('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    assert.throws(() => parser.feed(bytes('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n')), UpstreamProtocolError);
    assert.deepEqual(sink.events, [['head', 200, 'OK', ['Content-Length', '2']], ['end', true]]);
  });
});

describe('ResponseParser: connection closed mid-response', () => {
  it('says the connection closed before any response when no byte came', () => {
    const { parser, sink } = parse([]);
    assertClosedRejected(parser, /^upstream closed the connection before any response$/);
    assert.deepEqual(sink.events, []);
  });

  it('says the connection closed in the head when part of it came, or only a 1xx', () => {
    assertClosedRejected(parse('HTTP/1.1 200 OK\r\nContent-').parser, /^upstream closed the connection in the response head$/);
    assertClosedRejected(parse('H').parser, /^upstream closed the connection in the response head$/);
    assertClosedRejected(parse('HTTP/1.1 100 Continue\r\n\r\n').parser, /^upstream closed the connection in the response head$/);
  });

  it('says the connection closed in the body when Content-Length is short', () => {
    const { parser, sink } = parse('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello');
    assertClosedRejected(parser, /^upstream closed the connection in the response body$/);
    assert.deepEqual(sink.events, [['head', 200, 'OK', ['Content-Length', '10']]]);
    assert.equal(sink.lastBody, 'hello');
  });

  it('says the connection closed in the body anywhere in a chunked body', () => {
    const head = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n';
    for (const cut of [head, `${head}5`, `${head}5\r\nhel`, `${head}5\r\nhello`, `${head}5\r\nhello\r\n`, `${head}0\r\n`, `${head}0\r\nX-T: 1\r\n`]) {
      assertClosedRejected(parse(cut).parser, /^upstream closed the connection in the response body$/);
    }
  });

  it('does not throw when closed while idle, before any expect() or after a response ended', () => {
    const sink = new RecordingSink();
    const parser = new ResponseParser(sink);
    parser.closed();
    parser.expect(false);
    parser.feed(bytes('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'));
    parser.closed();
    parser.closed();
    assert.deepEqual(sink.events, [['head', 200, 'OK', ['Content-Length', '0']], ['end', true]]);
  });
});

describe('ResponseParser: responseStarted', () => {
  it('is false until a byte of the expected response arrives, and false again after the next expect()', () => {
    const parser = new ResponseParser(new RecordingSink());
    assert.equal(parser.responseStarted, false);
    parser.expect(false);
    assert.equal(parser.responseStarted, false);
    parser.feed(bytes('H'));
    assert.equal(parser.responseStarted, true);
    parser.feed(bytes('TTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'));
    assert.equal(parser.responseStarted, true);
    parser.expect(false);
    assert.equal(parser.responseStarted, false);
  });
});

describe('ResponseParser: Transfer-Encoding other than chunked last', () => {
  it('reads the body until close when chunked is not the final coding', () => {
    for (const coding of ['gzip', 'chunked, gzip']) {
      const { parser, sink } = parse(`HTTP/1.1 200 OK\r\nTransfer-Encoding: ${coding}\r\n\r\n5\r\nhello\r\n0\r\n\r\n`);
      assert.deepEqual(sink.events, [['head', 200, 'OK', ['Transfer-Encoding', coding]]]);
      parser.closed();
      assert.deepEqual(sink.events.at(-1), ['end', false]);
      // Not de-chunked: the bytes as sent.
      assert.equal(sink.lastBody, '5\r\nhello\r\n0\r\n\r\n');
    }
  });

  it('uses chunked framing when chunked is last, in one header line or across two', () => {
    const oneLine = parse('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n').sink;
    assert.deepEqual(oneLine.events, [['head', 200, 'OK', ['Transfer-Encoding', 'gzip, chunked']], ['end', true]]);
    assert.equal(oneLine.lastBody, 'hello');
    const twoLines = parse('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n').sink;
    assert.deepEqual(twoLines.events, [['head', 200, 'OK', ['Transfer-Encoding', 'gzip', 'Transfer-Encoding', 'chunked']], ['end', true]]);
    assert.equal(twoLines.lastBody, 'hello');
  });

  // RFC 9110 5.6.1: empty list elements are ignored, so chunked is the final coding here.
  it('ignores an empty list element after chunked (Transfer-Encoding: chunked,)', () => {
    const { sink } = parse('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked,\r\n\r\n5\r\nhello\r\n0\r\n\r\n');
    assert.deepEqual(sink.events.at(-1), ['end', true]);
    assert.equal(sink.lastBody, 'hello');
  });
});

describe('ResponseParser: several responses on one connection', () => {
  it('parses a response after each expect(): Content-Length, HEAD, chunked with a 100 Continue, close-delimited', () => {
    const sink = new RecordingSink();
    const parser = new ResponseParser(sink);
    parser.expect(false);
    parser.feed(bytes('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none'));
    parser.expect(true);
    parser.feed(bytes('HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n'));
    parser.expect(false);
    parser.feed(bytes('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nt'));
    parser.feed(bytes('wo\r\n0\r\n\r\n'));
    parser.expect(false);
    parser.feed(bytes('HTTP/1.1 500 Internal Server Error\r\n\r\nthree'));
    parser.closed();
    assert.deepEqual(sink.events, [
      ['head', 200, 'OK', ['Content-Length', '3']],
      ['end', true],
      ['head', 200, 'OK', ['Content-Length', '99']],
      ['end', true],
      ['head', 201, 'Created', ['Transfer-Encoding', 'chunked']],
      ['end', true],
      ['head', 500, 'Internal Server Error', []],
      ['end', false],
    ]);
    assert.deepEqual(sink.bodies, ['one', '', 'two', 'three']);
  });

  it('forgets a half-read head at expect()', () => {
    const sink = new RecordingSink();
    const parser = new ResponseParser(sink);
    parser.expect(false);
    parser.feed(bytes('HTTP/1.1 200 OK\r\nX-Half'));
    parser.expect(false);
    parser.feed(bytes('HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n'));
    assert.deepEqual(sink.events, [['head', 202, 'Accepted', ['Content-Length', '0']], ['end', true]]);
  });
});

const TOKEN_CHARS = [..."!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"];
/** Visible ASCII and obs-text: allowed anywhere in a field value or reason phrase. */
const VISIBLE_CHARS = [...Array.from({ length: 0x7f - 0x21 }, (_, i) => 0x21 + i), ...Array.from({ length: 0x80 }, (_, i) => 0x80 + i)].map((code) =>
  String.fromCharCode(code),
);

/** A string of `chars`, with inner spaces but none at either end. */
const innerSpaced = (chars: string[], maxLength: number) =>
  fc.array(fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...chars) }, { weight: 1, arbitrary: fc.constant(' ') }), { maxLength }).map((parts) => parts.join('').replace(/^ +| +$/g, ''));

interface ValidResponse {
  /** The serialized response (1xx included), one char a byte. */
  text: string;
  expectedEvents: Event[];
  expectedBody: string;
  /** The body runs until close, so closed() ends it. */
  closeDelimited: boolean;
}

const validResponse: fc.Arbitrary<ValidResponse> = fc
  .record({
    status: fc.integer({ min: 200, max: 599 }).filter((status) => status !== 204 && status !== 304),
    reason: innerSpaced(VISIBLE_CHARS, 16),
    headers: fc.array(fc.tuple(fc.array(fc.constantFrom(...TOKEN_CHARS), { minLength: 1, maxLength: 10 }).map((name) => `X-${name.join('')}`), innerSpaced(VISIBLE_CHARS, 20)), {
      maxLength: 5,
    }),
    body: fc.uint8Array({ maxLength: 300 }),
    framing: fc.constantFrom('length', 'chunked', 'close'),
    chunkSizes: fc.array(fc.integer({ min: 1, max: 80 }), { minLength: 1, maxLength: 6 }),
    upperHex: fc.boolean(),
    extension: fc.boolean(),
    trailers: fc.array(innerSpaced(VISIBLE_CHARS, 10), { maxLength: 2 }),
    interim: fc.constantFrom('', 'HTTP/1.1 100 Continue\r\n\r\n', 'HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n'),
  })
  .map(({ status, reason, headers, body, framing, chunkSizes, upperHex, extension, trailers, interim }): ValidResponse => {
    const bodyText = Buffer.from(body).toString('latin1');
    const flat = headers.flat();
    if (framing === 'length') flat.push('Content-Length', String(body.length));
    if (framing === 'chunked') flat.push('Transfer-Encoding', 'chunked');
    let head = `HTTP/1.1 ${status} ${reason}\r\n`;
    for (let i = 0; i < flat.length; i += 2) head += `${flat[i]}: ${flat[i + 1]}\r\n`;
    let payload = bodyText;
    if (framing === 'chunked') {
      payload = '';
      for (let at = 0, i = 0; at < bodyText.length; i++) {
        const size = Math.min(chunkSizes[i % chunkSizes.length]!, bodyText.length - at);
        const hex = upperHex ? size.toString(16).toUpperCase() : size.toString(16);
        payload += `${hex}${extension ? ';x=y' : ''}\r\n${bodyText.slice(at, at + size)}\r\n`;
        at += size;
      }
      payload += `0\r\n${trailers.map((value, i) => `X-Trailer-${i}: ${value}\r\n`).join('')}\r\n`;
    }
    return {
      text: `${interim}${head}\r\n${payload}`,
      expectedEvents: [
        ['head', status, reason, flat],
        ['end', framing !== 'close'],
      ],
      expectedBody: bodyText,
      closeDelimited: framing === 'close',
    };
  });

/** Sorted, distinct cut points inside `length` bytes (0 and `length` excluded). */
const cutsOf = (length: number, seeds: number[]) => [...new Set(seeds.map((seed) => seed % (length + 1)))].filter((cut) => cut > 0 && cut < length).sort((a, b) => a - b);

/** Feeds `data` cut at `cuts`, then closes; @returns what the sink saw */
function feedPieces(data: Buffer, cuts: number[], closeAtEnd: boolean): RecordingSink {
  const sink = new RecordingSink();
  const parser = new ResponseParser(sink);
  parser.expect(false);
  let from = 0;
  for (const cut of [...cuts, data.length]) {
    parser.feed(data.subarray(from, cut));
    from = cut;
  }
  if (closeAtEnd) parser.closed();
  return sink;
}

describe('ResponseParser property: where the reads split the bytes does not matter', () => {
  it('gives the same head, body and end for any cut points, one-byte reads included', () => {
    fc.assert(
      fc.property(validResponse, fc.array(fc.nat(), { maxLength: 12 }), (response, seeds) => {
        const data = bytes(response.text);
        const whole = feedPieces(data, [], response.closeDelimited);
        assert.deepEqual(whole.events, response.expectedEvents);
        assert.equal(whole.lastBody, response.expectedBody);
        const cut = feedPieces(data, cutsOf(data.length, seeds), response.closeDelimited);
        assert.deepEqual(cut.events, whole.events);
        assert.deepEqual(cut.bodies, whole.bodies);
        const byteByByte = feedPieces(data, Array.from({ length: Math.max(0, data.length - 1) }, (_, i) => i + 1), response.closeDelimited);
        assert.deepEqual(byteByByte.events, whole.events);
        assert.deepEqual(byteByByte.bodies, whole.bodies);
      }),
      { numRuns: 200 },
    );
  });
});

/** Pieces of responses, valid and not, that random inputs are built from, to get past the status line often. */
const FRAGMENTS = [
  'HTTP/1.1 200 OK\r\n',
  'HTTP/1.0 404 Not Found\r\n',
  'HTTP/1.1 100 Continue\r\n\r\n',
  'HTTP/1.1 101 Switching Protocols\r\n',
  'HTTP/1.1 204 No Content\r\n',
  'HTTP/1.1 999 X\r\n',
  'Content-Length: 3\r\n',
  'Content-Length: 0\r\n',
  'Content-Length: x\r\n',
  'Transfer-Encoding: chunked\r\n',
  'Transfer-Encoding: gzip\r\n',
  'Connection: close\r\n',
  'X-A: \xa0b\r\n',
  ' folded\r\n',
  '\r\n',
  '\r',
  '\n',
  '3\r\nabc\r\n',
  '0\r\n',
  'ZZ\r\n',
  '5;ext\r\n',
  'abc',
  '\x00',
];

const randomInput = fc.oneof(
  fc.uint8Array({ maxLength: 200 }).map((array) => Buffer.from(array)),
  fc
    .array(fc.oneof(fc.constantFrom(...FRAGMENTS), fc.uint8Array({ maxLength: 8 }).map((array) => Buffer.from(array).toString('latin1'))), { maxLength: 30 })
    .map((parts) => bytes(parts.join(''))),
);

describe('ResponseParser property: arbitrary bytes', () => {
  it('throw nothing but UpstreamProtocolError, fed in any pieces, and never yield more body than was fed', () => {
    fc.assert(
      fc.property(
        randomInput,
        fc.array(fc.nat(), { maxLength: 10 }),
        fc.boolean(),
        fc.constantFrom(32, 256, DEFAULT_MAX_HEAD_BYTES),
        (data, seeds, headRequest, maxHeadBytes) => {
          const sink = new RecordingSink();
          const parser = new ResponseParser(sink, maxHeadBytes);
          parser.expect(headRequest);
          let from = 0;
          try {
            for (const cut of [...cutsOf(data.length, seeds), data.length]) {
              // A response ended: expect the next one, as a keep-alive connection would.
              if (sink.events.at(-1)?.[0] === 'end') parser.expect(headRequest);
              parser.feed(data.subarray(from, cut));
              from = cut;
            }
            parser.closed();
          } catch (error) {
            if (!(error instanceof UpstreamProtocolError)) throw error;
          }
          assert.ok(sink.bodies.join('').length <= data.length);
        },
      ),
      { numRuns: 500 },
    );
  });
});
