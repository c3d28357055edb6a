import assert from 'node:assert/strict';
import { request, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { monotonicNow } from '../src/core/clock.js';
import type { RequestStats } from '../src/core/stats.js';
import { serve, until } from './helpers/http.js';
import { trackedProxy } from './helpers/proxy.js';
import { exchange, parseResponses, RawClient, requestHead } from './helpers/raw.js';

/*
 * End-to-end tests of how the proxy (src/proxy/http1/exchange.ts on an undici Pool)
 * opens, reuses, limits, retries and closes TCP connections to the app, seen
 * from the app's side of the wire. Everything runs on 127.0.0.1.
 */

/** Each test ends well within this, in milliseconds: the slowest waits out the 4 s idle timeout. */
const TEST_TIMEOUT_MS = 8000;
/** How long the pool keeps an idle connection when the app gives no `Keep-Alive: timeout=` hint (undici's default). */
const IDLE_TIMEOUT_MS = 4000;

/** One TCP connection as the upstream saw it. */
interface SeenConnection {
  readonly socket: Socket;
  /** Request lines (raw upstream) or URLs (node:http upstream) received on it, in order. */
  readonly requests: string[];
  /** The proxy ended the connection (a FIN reached the upstream). */
  endedByPeer: boolean;
  /** The connection has closed, whoever closed it. */
  closed: boolean;
}

/** Records a new connection, keeping count of those open at once. */
function seeConnection(log: { connections: SeenConnection[]; open: number; maxOpen: number }, socket: Socket): SeenConnection {
  const seen: SeenConnection = { socket, requests: [], endedByPeer: false, closed: false };
  log.connections.push(seen);
  log.open++;
  log.maxOpen = Math.max(log.maxOpen, log.open);
  socket.on('end', () => (seen.endedByPeer = true));
  socket.once('close', () => {
    seen.closed = true;
    log.open--;
  });
  return seen;
}

/**
 * A node:http upstream on 127.0.0.1 that records its connections; the
 * handler learns which connection (numbered from 1) a request came on.
 */
async function httpUpstream(handler: (req: IncomingMessage, res: ServerResponse, connection: number) => void) {
  const log = { connections: [] as SeenConnection[], open: 0, maxOpen: 0 };
  const app = await serve((req, res) => {
    const index = log.connections.findIndex((seen) => seen.socket === req.socket);
    log.connections[index]?.requests.push(req.url ?? '');
    handler(req, res, index + 1);
  });
  app.server.on('connection', (socket: Socket) => seeConnection(log, socket));
  return { log, connections: log.connections, server: app.server, port: app.port, close: app.close };
}

/**
 * A raw TCP upstream on 127.0.0.1, for exact control of the bytes and of
 * connection closing. It splits what it reads into request heads (skipping
 * Content-Length bodies) and calls `onHead` for each, with its index on the
 * connection (0 for the first); `onHead` answers by writing to the socket.
 */
async function rawUpstream(onHead: (connection: SeenConnection, index: number, head: string) => void) {
  const log = { connections: [] as SeenConnection[], open: 0, maxOpen: 0 };
  const server = createTcpServer((socket) => {
    const seen = seeConnection(log, socket);
    socket.on('error', () => {});
    socket.setEncoding('latin1');
    let buffered = '';
    let skip = 0;
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      while (!socket.destroyed) {
        if (skip > 0) {
          const count = Math.min(skip, buffered.length);
          skip -= count;
          buffered = buffered.slice(count);
          if (skip > 0) return;
        }
        const end = buffered.indexOf('\r\n\r\n');
        if (end === -1) return;
        const head = buffered.slice(0, end + 4);
        buffered = buffered.slice(end + 4);
        skip = Number(/\r\ncontent-length: *(\d+)\r\n/i.exec(head)?.[1] ?? 0);
        seen.requests.push(head.slice(0, head.indexOf('\r\n')));
        onHead(seen, seen.requests.length - 1, head);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    log,
    connections: log.connections,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const seen of log.connections) seen.socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A complete keep-alive response with a Content-Length body, in wire form. */
function okResponse(body: string, extraHeaders = ''): string {
  return `HTTP/1.1 200 OK\r\n${extraHeaders}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

/** Every request's out-event has run. */
async function nothingInFlight(stats: RequestStats): Promise<void> {
  await until(() => stats.inFlight === 0, 'in-flight requests to return to 0');
  assert.equal(stats.proxiedInFlight, 0);
}

interface Answer {
  status: number;
  body: string;
}

/**
 * One request to 127.0.0.1:`port` on a fresh client connection (no client
 * agent: its own keep-alive pool would blur what these tests count).
 */
function send(port: number, path: string, options: { method?: string; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = options.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(options.body)) };
    const client = request({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    client.on('error', reject);
    client.end(options.body);
  });
}

describe('keep-alive reuse', () => {
  it('carries 20 sequential requests over one upstream connection', { timeout: TEST_TIMEOUT_MS }, async () => {
    const app = await httpUpstream((req, res, connection) => res.end(`${req.url} on ${connection}`));
    const { stats, proxy } = await trackedProxy(app.port);
    try {
      for (let i = 0; i < 20; i++) {
        assert.deepEqual(await send(proxy.port, `/r${i}`), { status: 200, body: `/r${i} on 1` });
      }
      // Each client came on its own connection; the pool still used a single upstream one.
      assert.equal(app.connections.length, 1);
      assert.equal(app.connections[0]!.requests.length, 20);
      assert.equal(app.connections[0]!.closed, false);
      await nothingInFlight(stats);
      assert.equal(stats.report(monotonicNow()).requestCount, 20);
    } finally {
      await proxy.close(0);
      await app.close();
    }
  });
});

describe('connection limit', () => {
  it('with connections: 2, six concurrent requests queue: never more than 2 connections or 2 requests upstream', { timeout: TEST_TIMEOUT_MS }, async () => {
    const HOLD_MS = 100;
    let active = 0;
    let maxActive = 0;
    const app = await httpUpstream((req, res) => {
      active++;
      maxActive = Math.max(maxActive, active);
      setTimeout(() => {
        // Counted down before answering: the proxy cannot send the next request on this connection any earlier.
        active--;
        res.end(`done ${req.url}`);
      }, HOLD_MS);
    });
    const { stats, proxy } = await trackedProxy(app.port, { connections: 2 });
    try {
      const started = monotonicNow();
      const answers = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => send(proxy.port, `/c${i}`)));
      const elapsedMs = monotonicNow() - started;
      assert.deepEqual(
        answers,
        [0, 1, 2, 3, 4, 5].map((i) => ({ status: 200, body: `done /c${i}` })),
      );
      assert.equal(maxActive, 2);
      assert.equal(app.log.maxOpen, 2);
      // The queued requests went over the two connections as they freed up, not over new ones.
      assert.equal(app.connections.length, 2);
      assert.equal(app.connections[0]!.requests.length + app.connections[1]!.requests.length, 6);
      // Three waves of two, each held HOLD_MS.
      assert.ok(elapsedMs >= 3 * HOLD_MS - 10, `all answered after ${elapsedMs} ms`);
      await nothingInFlight(stats);
    } finally {
      await proxy.close(0);
      await app.close();
    }
  });
});

describe('stale keep-alive connection', () => {
  /**
   * Answers the first request on each connection; a second request on the
   * same connection finds it closed, as when the app times out a kept-alive
   * connection just as the proxy reuses it. The body names the connection.
   */
  function closesOnReuse(seen: SeenConnection, index: number, connections: SeenConnection[]): void {
    if (index === 0) seen.socket.write(okResponse(`conn ${connections.indexOf(seen) + 1}`));
    else seen.socket.destroy();
  }

  it('retries a GET that fails on a reused connection before any answer, on a new connection', { timeout: TEST_TIMEOUT_MS }, async () => {
    const app = await rawUpstream((seen, index) => closesOnReuse(seen, index, app.connections));
    const { stats, proxy } = await trackedProxy(app.port);
    try {
      assert.deepEqual(await send(proxy.port, '/first'), { status: 200, body: 'conn 1' });
      assert.deepEqual(await send(proxy.port, '/second'), { status: 200, body: 'conn 2' });
      assert.equal(app.connections.length, 2);
      assert.deepEqual(app.connections[0]!.requests, ['GET /first HTTP/1.1', 'GET /second HTTP/1.1']);
      assert.deepEqual(app.connections[1]!.requests, ['GET /second HTTP/1.1']);
      await nothingInFlight(stats);
      assert.equal(stats.report(monotonicNow()).requestCount, 2);
    } finally {
      await proxy.close(0);
      await app.close();
    }
  });

  it('does not retry a POST with a body: 502, and the upstream saw it once', { timeout: TEST_TIMEOUT_MS }, async () => {
    const app = await rawUpstream((seen, index) => closesOnReuse(seen, index, app.connections));
    const { stats, proxy } = await trackedProxy(app.port);
    try {
      assert.deepEqual(await send(proxy.port, '/first'), { status: 200, body: 'conn 1' });
      // The app may have acted on it before the connection died: sending it again could do it twice.
      assert.deepEqual(await send(proxy.port, '/second', { method: 'POST', body: 'abc' }), { status: 502, body: 'upstream unavailable\n' });
      assert.equal(app.connections.length, 1);
      assert.deepEqual(app.connections[0]!.requests, ['GET /first HTTP/1.1', 'POST /second HTTP/1.1']);
      // The pool has dropped the dead connection: the next request opens a new one.
      assert.deepEqual(await send(proxy.port, '/third'), { status: 200, body: 'conn 2' });
      await nothingInFlight(stats);
      assert.equal(stats.report(monotonicNow()).requestCount, 3);
    } finally {
      await proxy.close(0);
      await app.close();
    }
  });
});

describe('upstream Connection: close', () => {
  it('the next request goes over a new connection and succeeds', { timeout: TEST_TIMEOUT_MS }, async () => {
    const app = await httpUpstream((req, res, connection) => {
      if (req.url === '/bye') res.setHeader('connection', 'close');
      res.end(`${req.url} on ${connection}`);
    });
    const { stats, proxy } = await trackedProxy(app.port);
    try {
      assert.deepEqual(await send(proxy.port, '/bye'), { status: 200, body: '/bye on 1' });
      assert.deepEqual(await send(proxy.port, '/next'), { status: 200, body: '/next on 2' });
      assert.equal(app.connections.length, 2);
      await until(() => app.connections[0]!.closed, 'the first connection to close');
      await nothingInFlight(stats);
    } finally {
      await proxy.close(0);
      await app.close();
    }
  });

  it('is honoured even when the upstream leaves the socket open: the proxy closes it and never reuses it', { timeout: TEST_TIMEOUT_MS }, async () => {
    // Connection 1 says close but does not close; a request reused on it would show in its request list.
    const app = await rawUpstream((seen, index) => {
      const number = app.connections.indexOf(seen) + 1;
      seen.socket.write(okResponse(`${index} on ${number}`, number === 1 ? 'Connection: close\r\n' : ''));
    });
    const { stats, proxy } = await trackedProxy(app.port);
    try {
      assert.deepEqual(await send(proxy.port, '/bye'), { status: 200, body: '0 on 1' });
      assert.deepEqual(await send(proxy.port, '/next'), { status: 200, body: '0 on 2' });
      assert.deepEqual(app.connections[0]!.requests, ['GET /bye HTTP/1.1']);
      await until(() => app.connections[0]!.closed, 'the proxy to close the first connection');
      assert.equal(app.connections[0]!.endedByPeer, true);
      assert.equal(app.connections[1]!.closed, false);
      await nothingInFlight(stats);
    } finally {
      await proxy.close(0);
      await app.close();
    }
  });
});

describe('an answer that comes before the whole request body', () => {
  const FIRST_BYTES = 1024;
  const CHUNK_BYTES = 64 * 1024;
  const CHUNKS_AFTER = 16;
  /** About 1 MB: a small first part before the answer, the rest in chunks after it. */
  const BODY_BYTES = FIRST_BYTES + CHUNKS_AFTER * CHUNK_BYTES;

  it('reaches the client; the rest of the body is dropped and the connection upstream is not reused', { timeout: TEST_TIMEOUT_MS }, async () => {
    const app = await httpUpstream((req, res, connection) => {
      // Rejected on the head alone, without reading the body, as an app with an upload limit does.
      if (req.url === '/upload') res.writeHead(413, { 'content-type': 'text/plain' }).end('too large\n');
      else res.end(`${req.url} on ${connection}`);
    });
    const { stats, proxy } = await trackedProxy(app.port);
    const client = await RawClient.connect(proxy.port);
    try {
      client.write(
        requestHead('POST', '/upload', [
          ['Host', 'x'],
          ['Content-Length', String(BODY_BYTES)],
        ]),
      );
      client.write(Buffer.alloc(FIRST_BYTES, 'a'));
      await until(() => parseResponses(client.received).length === 1, 'the early answer');
      assert.deepEqual(
        parseResponses(client.received).map((r) => [r.status, r.body]),
        [[413, 'too large\n']],
      );
      // The rest of the body would reach the app as the start of the next request: the proxy drops that connection.
      await until(() => app.connections[0]!.closed, 'the first upstream connection to close');
      // The client sends the rest of its body after the answer, in chunks, then a second request on the same connection.
      for (let i = 0; i < CHUNKS_AFTER; i++) client.write(Buffer.alloc(CHUNK_BYTES, 'b'));
      client.write(
        requestHead('GET', '/after', [
          ['Host', 'x'],
          ['Connection', 'close'],
        ]),
      );
      const received = await client.whenClosed(3000);
      assert.deepEqual(
        parseResponses(received).map((r) => [r.status, r.body]),
        [
          [413, 'too large\n'],
          [200, '/after on 2'],
        ],
      );
      // The new connection is kept alive and reused.
      assert.deepEqual(await send(proxy.port, '/next'), { status: 200, body: '/next on 2' });
      assert.equal(app.connections.length, 2);
      assert.deepEqual(app.connections[0]!.requests, ['/upload']);
      await nothingInFlight(stats);
      assert.equal(stats.report(monotonicNow()).requestCount, 3);
    } finally {
      client.destroy();
      await proxy.close(0);
      await app.close();
    }
  });

  /** More than all the socket buffers between the client and an upstream that does not read can hold. */
  const STALLED_BODY_BYTES = 128 * 1024 * 1024;
  const PACED_CHUNK_BYTES = 256 * 1024;

  // The client's body was paused for an upstream socket that filled up; an early answer makes that connection not
  // reusable, so it is destroyed and never drains. The exchange must resume the body itself, or the client hangs.
  it('from an upstream that stopped reading: the client connection is not left stuck on the paused body', { timeout: TEST_TIMEOUT_MS }, async () => {
    let stalledSocket: Socket | undefined;
    // The first request's connection stops reading after the head, so the proxy's writes back up and it pauses the client.
    const app = await rawUpstream((seen, index) => {
      const number = app.connections.indexOf(seen) + 1;
      if (number === 1 && index === 0) {
        seen.socket.pause();
        stalledSocket = seen.socket;
      } else {
        seen.socket.write(okResponse(`${index} on ${number}`));
      }
    });
    const { stats, proxy } = await trackedProxy(app.port);
    const client = await RawClient.connect(proxy.port);
    // Bytes of the body the client's kernel has taken: one chunk at a time, so progress shows.
    let bodySent = 0;
    const writeBody = async (): Promise<void> => {
      const chunk = Buffer.alloc(PACED_CHUNK_BYTES);
      while (bodySent < STALLED_BODY_BYTES && !client.closed) {
        const error = await new Promise<Error | null | undefined>((resolve) => client.socket.write(chunk, resolve));
        if (error) return;
        bodySent += chunk.length;
      }
    };
    try {
      client.write(
        requestHead('POST', '/upload', [
          ['Host', 'x'],
          ['Content-Length', String(STALLED_BODY_BYTES)],
        ]),
      );
      const writing = writeBody();
      await until(() => stalledSocket !== undefined, 'the request head upstream');
      // Every buffer on the way is full once the client's writes stop completing for a while.
      let last = -1;
      let sameFor = 0;
      await until(() => {
        sameFor = bodySent === last ? sameFor + 1 : 0;
        last = bodySent;
        return sameFor >= 20;
      }, 'the upload to stall');
      assert.ok(bodySent < STALLED_BODY_BYTES, `the whole body went through (${bodySent} bytes)`);
      stalledSocket!.write('HTTP/1.1 413 Payload Too Large\r\nContent-Length: 10\r\n\r\ntoo large\n');
      await until(() => parseResponses(client.received).length === 1, 'the early answer');
      assert.deepEqual(
        parseResponses(client.received).map((r) => [r.status, r.body]),
        [[413, 'too large\n']],
      );
      // The exchange is over: the proxy should drop the rest of the body (or close the connection), not leave it paused.
      await until(() => client.closed || bodySent === STALLED_BODY_BYTES, 'the rest of the body to be read or the connection closed', 3000);
      if (!client.closed) {
        await writing;
        client.write(
          requestHead('GET', '/after', [
            ['Host', 'x'],
            ['Connection', 'close'],
          ]),
        );
        const received = await client.whenClosed(2000);
        assert.deepEqual(
          parseResponses(received).map((r) => [r.status, r.body]),
          [
            [413, 'too large\n'],
            [200, '0 on 2'],
          ],
        );
      }
      await nothingInFlight(stats);
    } finally {
      client.destroy();
      await proxy.close(0);
      await app.close();
    }
  });
});

describe('HTTP/1.0 requests', () => {
  it('without Host reach the upstream as HTTP/1.1 with host set to the upstream authority', { timeout: TEST_TIMEOUT_MS }, async () => {
    const app = await httpUpstream((req, res) => {
      const hosts = req.rawHeaders.filter((_, i) => i % 2 === 0 && req.rawHeaders[i]!.toLowerCase() === 'host').length;
      res.end(JSON.stringify({ version: req.httpVersion, host: req.headers.host, hosts }));
    });
    const { stats, proxy } = await trackedProxy(app.port);
    try {
      // HTTP/1.0 allows leaving out Host; the proxy speaks HTTP/1.1 upstream, where it is required.
      const [answer] = parseResponses(await exchange(proxy.port, 'GET /old HTTP/1.0\r\n\r\n'));
      assert.equal(answer?.status, 200);
      assert.deepEqual(JSON.parse(answer.body), { version: '1.1', host: `127.0.0.1:${app.port}`, hosts: 1 });
      // One that sends a Host keeps it.
      const [withHost] = parseResponses(await exchange(proxy.port, 'GET /old HTTP/1.0\r\nHost: h.example\r\n\r\n'));
      assert.deepEqual(JSON.parse(withHost!.body), { version: '1.1', host: 'h.example', hosts: 1 });
      await nothingInFlight(stats);
    } finally {
      await proxy.close(0);
      await app.close();
    }
  });
});

describe('idle upstream connections', () => {
  it(`are closed by the pool after ${IDLE_TIMEOUT_MS} ms idle when the app gives no Keep-Alive hint, and the next request opens a new one`, { timeout: TEST_TIMEOUT_MS }, async () => {
    // A raw app that never closes an idle connection and says nothing of how long it keeps one.
    const app = await rawUpstream((seen, index) => seen.socket.write(okResponse(`${index} on ${app.connections.indexOf(seen) + 1}`)));
    const { stats, proxy } = await trackedProxy(app.port);
    try {
      assert.deepEqual(await send(proxy.port, '/first'), { status: 200, body: '0 on 1' });
      const idleFrom = monotonicNow();
      await until(() => app.connections[0]!.closed, 'the pool to close the idle connection', 6000);
      const idleMs = monotonicNow() - idleFrom;
      assert.ok(idleMs >= IDLE_TIMEOUT_MS - 100, `closed after ${idleMs} ms idle`);
      assert.equal(app.connections[0]!.endedByPeer, true);
      assert.deepEqual(await send(proxy.port, '/second'), { status: 200, body: '0 on 2' });
      await nothingInFlight(stats);
    } finally {
      await proxy.close(0);
      await app.close();
    }
  });

  it("follow the app's Keep-Alive hint less 2 s: `timeout=3` keeps a connection about 1 s", { timeout: TEST_TIMEOUT_MS }, async () => {
    const app = await rawUpstream((seen, index) => seen.socket.write(okResponse(`${index} on ${app.connections.indexOf(seen) + 1}`, 'Keep-Alive: timeout=3\r\n')));
    const { stats, proxy } = await trackedProxy(app.port);
    try {
      assert.deepEqual(await send(proxy.port, '/first'), { status: 200, body: '0 on 1' });
      const idleFrom = monotonicNow();
      await until(() => app.connections[0]!.closed, 'the pool to close the idle connection', 3000);
      const idleMs = monotonicNow() - idleFrom;
      assert.ok(idleMs >= 900 && idleMs < 2500, `closed after ${idleMs} ms idle`);
      await nothingInFlight(stats);
    } finally {
      await proxy.close(0);
      await app.close();
    }
  });

  // Gunicorn's default: idle connections closed after 2 s, with no Keep-Alive header to say so (here 1 s).
  it('closed by the app sooner than the pool would, silently, are not reused: a POST after it gets 200 on a new connection', { timeout: TEST_TIMEOUT_MS }, async () => {
    const APP_IDLE_MS = 1000;
    const app = await httpUpstream((req, res, connection) => {
      req.resume();
      req.on('end', () => res.end(`${req.method} ${req.url} on ${connection}`));
    });
    app.server.keepAliveTimeout = 0;
    app.server.on('connection', (socket: Socket) => socket.setTimeout(APP_IDLE_MS, () => socket.end()));
    const { stats, proxy } = await trackedProxy(app.port);
    try {
      assert.deepEqual(await send(proxy.port, '/first'), { status: 200, body: 'GET /first on 1' });
      await until(() => app.connections[0]!.closed, 'the app to close the idle connection', 3000);
      assert.deepEqual(await send(proxy.port, '/second', { method: 'POST', body: 'abc' }), { status: 200, body: 'POST /second on 2' });
      await nothingInFlight(stats);
    } finally {
      await proxy.close(0);
      await app.close();
    }
  });
});

describe('close() with requests queued for a connection', () => {
  it('lets queued requests through while draining', { timeout: TEST_TIMEOUT_MS }, async () => {
    const app = await httpUpstream((req, res, connection) => setTimeout(() => res.end(`${req.url} on ${connection}`), 150));
    const { stats, proxy } = await trackedProxy(app.port, { connections: 1 });
    try {
      const answers = Promise.all([send(proxy.port, '/a'), send(proxy.port, '/b')]);
      // One at the upstream, the other waiting for the only connection.
      await until(() => stats.inFlight === 2 && app.connections[0]?.requests.length === 1, 'one request upstream and one queued');
      await proxy.close(5000);
      assert.deepEqual(
        (await answers).map((a) => a.status),
        [200, 200],
      );
      assert.equal(app.connections.length, 1);
      assert.equal(app.connections[0]!.requests.length, 2);
      assert.equal(stats.inFlight, 0);
    } finally {
      await proxy.close(0);
      await app.close();
    }
  });

  it('at the drain deadline cuts the queued request too, which never reaches the upstream', { timeout: TEST_TIMEOUT_MS }, async () => {
    let upstreamClosed = 0;
    // Never answers.
    const app = await httpUpstream((_req, res) => res.on('close', () => upstreamClosed++));
    const { stats, proxy } = await trackedProxy(app.port, { connections: 1 });
    try {
      const cut = Promise.all([assert.rejects(send(proxy.port, '/a'), { code: 'ECONNRESET' }), assert.rejects(send(proxy.port, '/b'), { code: 'ECONNRESET' })]);
      await until(() => stats.inFlight === 2 && app.connections[0]?.requests.length === 1, 'one request upstream and one queued');
      await proxy.close(200);
      await cut;
      // close() resolves after the out-events.
      assert.equal(stats.inFlight, 0);
      await until(() => upstreamClosed === 1, 'the request upstream to be aborted');
      const requests = app.connections.flatMap((seen) => seen.requests);
      assert.equal(requests.length, 1);
      assert.ok(['/a', '/b'].includes(requests[0]!));
    } finally {
      await proxy.close(0);
      await app.close();
    }
  });
});
