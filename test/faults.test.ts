import assert from 'node:assert/strict';
import { createServer, request, type RequestListener } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { ConfigError } from '../src/core/errors.js';
import { startProxy, type ProxyOptions } from '../src/proxy/proxy.js';
import { monotonicNow } from '../src/core/clock.js';
import { get, serve, until } from './helpers/http.js';
import { trackedProxy } from './helpers/proxy.js';
import { freePort } from './helpers/http.js';
import { exchange, parseResponses, RawClient, requestHead, statusOf } from './helpers/raw.js';

/** What the scripted upstream saw. */
interface UpstreamLog {
  /** Every request that reached the upstream, as `METHOD url`. */
  requests: string[];
  /** Upload bytes received on /upload. */
  uploadBytes: number;
  /** How each /upload ended: `complete` or `aborted`. */
  uploads: string[];
  /** Bytes the /big handler has written. */
  bigBytes: number;
  /** Requests whose response closed (on /stall, /big). */
  closed: string[];
}

/**
 * Malformed answers from the upstream, each written raw in place of a
 * response, each broken before the response head is complete, so the proxy
 * must answer 502.
 */
const MALFORMED_HEADS: ReadonlyArray<readonly [string, string]> = [
  ['not HTTP at all', 'hello there\r\n\r\n'],
  ['a status code that is not a number', 'HTTP/1.1 abc OK\r\n\r\n'],
  ['conflicting Content-Length headers', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello'],
  ['a Content-Length that is not a number', 'HTTP/1.1 200 OK\r\nContent-Length: nope\r\n\r\n'],
  ['a space inside a header name', 'HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n'],
  ['a NUL byte in a header value', 'HTTP/1.1 200 OK\r\nX-A: a\x00b\r\n\r\n'],
  ['a header section over 16 KiB', `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(17 * 1024)}\r\n\r\n`],
  ['a head cut off by the connection closing', 'HTTP/1.1 200 OK\r\nContent-Le'],
  ['nothing at all before the connection closes', ''],
];

/** An upstream that misbehaves on request, by path. */
function scriptedUpstream(log: UpstreamLog): RequestListener {
  return (req, res) => {
    const url = req.url ?? '/';
    log.requests.push(`${req.method} ${url}`);
    if (url === '/ok') {
      res.end('ok');
    } else if (url === '/reset') {
      res.writeHead(200, { 'content-length': '100' });
      res.write('partial');
      setTimeout(() => req.socket.resetAndDestroy(), 20);
    } else if (url === '/bad-chunk') {
      // A good head, then a chunk size that is not hex.
      req.socket.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nZZ\r\n');
    } else if (url.startsWith('/malformed/')) {
      req.socket.end(Buffer.from(MALFORMED_HEADS[Number(url.slice('/malformed/'.length))]![1], 'latin1'));
    } else if (url === '/stall') {
      res.on('close', () => log.closed.push(url));
    } else if (url === '/upload') {
      req.on('data', (chunk: Buffer) => (log.uploadBytes += chunk.length));
      req.on('end', () => res.end(`got ${log.uploadBytes}`));
      req.on('close', () => log.uploads.push(req.complete ? 'complete' : 'aborted'));
    } else if (url === '/big') {
      const chunk = Buffer.alloc(64 * 1024, 'x');
      const pump = (): void => {
        while (!res.destroyed && res.write(chunk)) log.bigBytes += chunk.length;
      };
      res.on('drain', pump);
      res.on('close', () => log.closed.push(url));
      res.writeHead(200);
      pump();
    } else if (url.startsWith('/sleep/')) {
      const body = url;
      setTimeout(() => res.writeHead(200, { 'content-length': body.length }).end(body), Number(url.split('/')[2]!.split('?')[0]));
    } else {
      res.writeHead(404).end();
    }
  };
}

function emptyLog(): UpstreamLog {
  return { requests: [], uploadBytes: 0, uploads: [], bigBytes: 0, closed: [] };
}

/** The scripted upstream with a proxy in front of it. */
async function scriptedPair(options: Partial<ProxyOptions> = {}) {
  const log = emptyLog();
  const app = await serve(scriptedUpstream(log));
  const { stats, proxy } = await trackedProxy(app.port, options);
  return {
    log,
    stats,
    proxy,
    /** Starts a new stats window, so the next report counts only what follows. */
    resetCounts: () => void stats.report(monotonicNow()),
    /** Requests counted since the last report. */
    counted: () => stats.report(monotonicNow()).requestCount,
    async close() {
      await proxy.close(0);
      await app.close();
    },
  };
}

type Pair = Awaited<ReturnType<typeof scriptedPair>>;

/** Nothing in flight once the out-events have run, and the next request is served normally. */
async function recovers(env: Pair): Promise<void> {
  await until(() => env.stats.inFlight === 0, 'in-flight requests to return to 0');
  assert.equal(env.stats.proxiedInFlight, 0);
  assert.deepEqual(await get(env.proxy.port, '/ok'), { status: 200, body: 'ok' });
  await until(() => env.stats.inFlight === 0, 'the follow-up request to finish');
}

describe('upstream faults', () => {
  let env: Pair;
  before(async () => {
    env = await scriptedPair({ timeoutMs: 300 });
  });
  after(() => env.close());

  it('refused connections answer 502 until the upstream comes up, then requests go through', async () => {
    // Free a moment ago: nothing listens there yet.
    const port = await freePort();
    const { stats, proxy } = await trackedProxy(port);
    const late = createServer((_req, res) => res.end('up'));
    try {
      for (let i = 0; i < 3; i++) {
        assert.deepEqual(await get(proxy.port, '/'), { status: 502, body: 'upstream unavailable\n' });
      }
      await until(() => stats.inFlight === 0, 'the out-events');
      assert.equal(stats.report(monotonicNow()).requestCount, 3);
      // The app starts late on the same port: the proxy connects on its own.
      await new Promise<void>((resolve) => late.listen(port, '127.0.0.1', resolve));
      assert.deepEqual(await get(proxy.port, '/'), { status: 200, body: 'up' });
      await until(() => stats.inFlight === 0, 'the out-event');
      assert.equal(stats.report(monotonicNow()).requestCount, 1);
    } finally {
      await proxy.close(0);
      late.closeAllConnections();
      late.close();
    }
  });

  it('a reset mid-response reaches the client as a short body; inFlight returns to 0', async () => {
    env.resetCounts();
    const answer = await exchange(env.proxy.port, requestHead('GET', '/reset', [['Host', 'x']]));
    assert.equal(statusOf(answer), 200);
    assert.match(answer, /\r\ncontent-length: 100\r\n/i);
    assert.ok(answer.endsWith('\r\n\r\npartial'), JSON.stringify(answer));
    await recovers(env);
    assert.equal(env.counted(), 2);
  });

  it('an upstream that stalls past timeoutMs gets 504 and its request is abandoned', async () => {
    env.resetCounts();
    const started = monotonicNow();
    assert.deepEqual(await get(env.proxy.port, '/stall'), { status: 504, body: 'upstream timed out\n' });
    const elapsedMs = monotonicNow() - started;
    assert.ok(elapsedMs >= 290 && elapsedMs < 1500, `answered after ${elapsedMs} ms`);
    await until(() => env.log.closed.includes('/stall'), 'the upstream request to close');
    await recovers(env);
    assert.equal(env.counted(), 2);
  });

  for (const [index, [what]] of MALFORMED_HEADS.entries()) {
    it(`an answer with ${what} gets 502`, async () => {
      env.resetCounts();
      assert.deepEqual(await get(env.proxy.port, `/malformed/${index}`), { status: 502, body: 'upstream unavailable\n' });
      await recovers(env);
      assert.equal(env.counted(), 2);
    });
  }

  it('a malformed body after a good head cuts the chunked answer short', async () => {
    env.resetCounts();
    const answer = await exchange(env.proxy.port, requestHead('GET', '/bad-chunk', [['Host', 'x']]));
    assert.equal(statusOf(answer), 200);
    assert.match(answer, /\r\ntransfer-encoding: chunked\r\n/i);
    // The last chunk (0) never comes: the client can tell the body is incomplete.
    assert.ok(!answer.endsWith('0\r\n\r\n'), JSON.stringify(answer));
    await recovers(env);
    assert.equal(env.counted(), 2);
  });
});

describe('client faults', () => {
  let env: Pair;
  before(async () => {
    env = await scriptedPair();
  });
  after(() => env.close());

  it('a client that aborts mid-upload aborts the upstream request', async () => {
    env.resetCounts();
    env.log.uploadBytes = 0;
    const client = request({
      host: '127.0.0.1',
      port: env.proxy.port,
      method: 'POST',
      path: '/upload',
      headers: { 'content-length': String(1024 * 1024) },
      agent: false,
    });
    client.on('error', () => {});
    client.write(Buffer.alloc(64 * 1024));
    await until(() => env.log.uploadBytes === 64 * 1024, 'the first 64 KiB upstream');
    assert.equal(env.stats.inFlight, 1);
    client.destroy();
    await until(() => env.log.uploads.length === 1, 'the upstream request to end');
    assert.deepEqual(env.log.uploads, ['aborted']);
    await recovers(env);
    assert.equal(env.counted(), 2);
  });

  it('a client that stops reading and then aborts mid-download stops and aborts the upstream response', async () => {
    env.resetCounts();
    env.log.bigBytes = 0;
    const client = await RawClient.connect(env.proxy.port);
    client.write(requestHead('GET', '/big', [['Host', 'x']]));
    await until(() => client.received.length > 1024 * 1024, 'the first megabyte');
    client.socket.pause();
    // Backpressure reaches the upstream: it stops being able to write.
    let last = -1;
    await until(
      () => {
        const stalled = env.log.bigBytes === last;
        last = env.log.bigBytes;
        return stalled;
      },
      'the upstream to stall',
      10_000,
    );
    assert.ok(env.log.bigBytes < 64 * 1024 * 1024, `the upstream wrote ${env.log.bigBytes} bytes into a stalled client`);
    assert.equal(env.stats.inFlight, 1);
    client.destroy();
    await until(() => env.log.closed.includes('/big'), 'the upstream response to close');
    await recovers(env);
    assert.equal(env.counted(), 2);
  });

  /** Sends GETs of `paths` pipelined in one write, the last asking to close; each must be answered 200 with its path, in order, and counted once. */
  async function pipelinedAnswersInOrder(paths: readonly string[]): Promise<void> {
    env.resetCounts();
    const bytes = paths
      .map((path, i) =>
        requestHead(
          'GET',
          path,
          i === paths.length - 1
            ? [
                ['Host', 'x'],
                ['Connection', 'close'],
              ]
            : [['Host', 'x']],
        ),
      )
      .join('');
    const responses = parseResponses(await exchange(env.proxy.port, bytes));
    assert.deepEqual(
      responses.map((r) => [r.status, r.body]),
      paths.map((path) => [200, path]),
    );
    await until(() => env.stats.inFlight === 0, 'the out-events');
    assert.equal(env.counted(), paths.length);
  }

  it('pipelined requests in one write are all answered, in order, on the one connection', async () => {
    // The first takes longest upstream; the answers must still come back in request order.
    await pipelinedAnswersInOrder(['/sleep/150?a', '/sleep/0?b', '/sleep/50?c']);
  });

  it('fifteen pipelined requests queued behind a slow one are answered in order, with no listener warning', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning.name);
    process.on('warning', onWarning);
    try {
      // Each queued response waits for its connection's close (Node 22 emits none for it); one listener must serve them all.
      await pipelinedAnswersInOrder(['/sleep/100?0', ...Array.from({ length: 14 }, (_, i) => `/sleep/0?${i + 1}`)]);
      // Node emits its warnings on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(warnings, []);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('oversized request headers get 431 from Node, never reach the handler or the upstream', async () => {
    env.resetCounts();
    const before = env.log.requests.length;
    const answer = await exchange(
      env.proxy.port,
      requestHead('GET', '/ok', [
        ['Host', 'x'],
        ['X-Big', 'a'.repeat(17 * 1024)],
      ]),
    );
    assert.match(answer, /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    assert.equal(env.log.requests.length, before);
    await recovers(env);
    assert.equal(env.counted(), 1);
  });

  const malformed: ReadonlyArray<readonly [string, string]> = [
    ['an unknown method', 'FETCH /ok HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['junk after the HTTP version', 'GET /ok HTTP/1.1 junk\r\nHost: x\r\n\r\n'],
    ['a space inside a header name', 'GET /ok HTTP/1.1\r\nHost: x\r\nBad Name: x\r\n\r\n'],
    ['a NUL byte in a header value', 'GET /ok HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n'],
    ['both Content-Length and Transfer-Encoding (smuggling)', 'POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
    ['two different Content-Length values', 'POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab'],
    ['a negative Content-Length', 'POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n'],
    ['a Transfer-Encoding that does not end in chunked', 'POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n'],
  ];
  for (const [what, bytes] of malformed) {
    it(`a request head with ${what} gets 400, never reaches the handler or the upstream`, async () => {
      env.resetCounts();
      const before = env.log.requests.length;
      const answer = await exchange(env.proxy.port, bytes);
      assert.match(answer, /^HTTP\/1\.1 400 Bad Request\r\n/);
      assert.equal(env.log.requests.length, before);
      await recovers(env);
      assert.equal(env.counted(), 1);
    });
  }

  it('request targets go upstream verbatim, to the configured upstream only; OPTIONS * is answered by the proxy', async () => {
    env.resetCounts();
    for (const target of ['//other.example/ok', 'http://other.example/ok?q', '/a/../%2e%2e/%zz/ok']) {
      const answer = await exchange(
        env.proxy.port,
        requestHead('GET', target, [
          ['Host', 'h.example'],
          ['Connection', 'close'],
        ]),
      );
      // The scripted upstream answers 404 to these paths: the request reached it, unchanged.
      assert.equal(statusOf(answer), 404, target);
      assert.equal(env.log.requests.at(-1), `GET ${target}`);
    }
    // As Go's net/http server (Knative's queue-proxy) does: a question about the server, not about a resource of the app.
    const seen = env.log.requests.length;
    const answer = await exchange(
      env.proxy.port,
      requestHead('OPTIONS', '*', [
        ['Host', 'x'],
        ['Connection', 'close'],
      ]),
    );
    assert.equal(statusOf(answer), 200);
    assert.equal(parseResponses(answer)[0]!.body, '');
    // Any other method with an asterisk target cannot be sent upstream: the client's error, not the app's.
    const other = await exchange(
      env.proxy.port,
      requestHead('GET', '*', [
        ['Host', 'x'],
        ['Connection', 'close'],
      ]),
    );
    assert.equal(statusOf(other), 400);
    assert.equal(parseResponses(other)[0]!.body, 'request cannot be forwarded\n');
    assert.equal(env.log.requests.length, seen);
    await recovers(env);
    assert.equal(env.counted(), 6);
  });

  it('a bad chunk size in a request body gets 400; the request, already handled, counts once and never completes upstream', async () => {
    env.resetCounts();
    const uploads = env.log.uploads.length;
    const answer = await exchange(env.proxy.port, 'POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nZZ\r\n');
    assert.match(answer, /^HTTP\/1\.1 400 Bad Request\r\n/);
    await recovers(env);
    assert.ok(!env.log.uploads.slice(uploads).includes('complete'), JSON.stringify(env.log.uploads));
    assert.equal(env.counted(), 2);
  });
});

describe('slow request heads (headersTimeoutMs)', () => {
  const HEADERS_TIMEOUT_MS = 300;
  let env: Pair;
  before(async () => {
    env = await scriptedPair({ headersTimeoutMs: HEADERS_TIMEOUT_MS });
  });
  after(() => env.close());

  /** Waits for the proxy to close `client`; checks the 408 and the time it took. */
  async function cutWith408(client: RawClient, startedMs: number): Promise<string> {
    const received = await client.whenClosed();
    const elapsedMs = monotonicNow() - startedMs;
    // Node checks every min(1000, headersTimeoutMs) ms: the cut comes within two periods.
    assert.ok(elapsedMs >= HEADERS_TIMEOUT_MS - 10 && elapsedMs < 2 * HEADERS_TIMEOUT_MS + 500, `closed after ${elapsedMs} ms`);
    assert.ok(received.endsWith('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n'), JSON.stringify(received));
    return received;
  }

  it('a connection that sends nothing is answered 408 and closed; nothing is counted', async () => {
    env.resetCounts();
    const started = monotonicNow();
    const client = await RawClient.connect(env.proxy.port);
    assert.equal(await cutWith408(client, started), 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n');
    assert.equal(env.stats.inFlight, 0);
    await recovers(env);
    assert.equal(env.counted(), 1);
  });

  it('headers dribbled a line every 50 ms (slowloris) are cut at headersTimeoutMs; nothing reaches the upstream', async () => {
    env.resetCounts();
    const before = env.log.requests.length;
    const started = monotonicNow();
    const client = await RawClient.connect(env.proxy.port);
    client.write('GET /ok HTTP/1.1\r\n');
    const dribble = setInterval(() => client.write('X-Slow: 1\r\n'), 50);
    try {
      await cutWith408(client, started);
    } finally {
      clearInterval(dribble);
    }
    assert.equal(env.log.requests.length, before);
    await recovers(env);
    assert.equal(env.counted(), 1);
  });

  it('on a kept-alive connection, a second request head that stalls is cut after the first is answered', async () => {
    env.resetCounts();
    const client = await RawClient.connect(env.proxy.port);
    client.write(requestHead('GET', '/ok', [['Host', 'x']]));
    await until(() => parseResponses(client.received).length === 1, 'the first answer');
    const started = monotonicNow();
    client.write('GET /ok HTTP/1.1\r\nHost: x\r\n');
    const received = await cutWith408(client, started);
    assert.deepEqual(
      parseResponses(received).map((r) => r.status),
      [200, 408],
    );
    await recovers(env);
    assert.equal(env.counted(), 2);
  });

  it('does not cut an idle kept-alive connection (keepAliveTimeout does) nor a body slower than headersTimeoutMs', async () => {
    env.resetCounts();
    const client = await RawClient.connect(env.proxy.port);
    try {
      client.write(requestHead('GET', '/ok', [['Host', 'x']]));
      await until(() => parseResponses(client.received).length === 1, 'the first answer');
      // Idle for longer than headersTimeoutMs, well within Node's 5 s keepAliveTimeout.
      await new Promise((resolve) => setTimeout(resolve, 2 * HEADERS_TIMEOUT_MS + 200));
      assert.equal(client.closed, false);
      // A complete head at once, then a body that takes three times headersTimeoutMs: requestTimeout is off.
      env.log.uploadBytes = 0;
      client.write(
        requestHead('POST', '/upload', [
          ['Host', 'x'],
          ['Content-Length', '6'],
        ]),
      );
      for (const part of ['ab', 'cd', 'ef']) {
        await new Promise((resolve) => setTimeout(resolve, HEADERS_TIMEOUT_MS));
        client.write(part);
      }
      await until(() => parseResponses(client.received).length === 2, 'the upload answer');
      assert.deepEqual(
        parseResponses(client.received).map((r) => [r.status, r.body]),
        [
          [200, 'ok'],
          [200, 'got 6'],
        ],
      );
    } finally {
      client.destroy();
    }
    await until(() => env.stats.inFlight === 0, 'the out-events');
    assert.equal(env.counted(), 2);
  });

  it('rejects a headersTimeoutMs that is not a positive integer', async () => {
    for (const headersTimeoutMs of [0, -1, 1.5, Number.NaN]) {
      await assert.rejects(
        startProxy({ upstream: 'http://127.0.0.1:8080', port: 0, host: '127.0.0.1', headersTimeoutMs }),
        (error: unknown) => error instanceof ConfigError && error.field === 'headersTimeoutMs' && error.message === `headersTimeoutMs must be a positive integer, got ${String(headersTimeoutMs)}`,
      );
    }
  });
});
