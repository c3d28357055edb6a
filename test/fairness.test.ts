import assert from 'node:assert/strict';
import { createServer as createH1Server, type IncomingMessage } from 'node:http';
import { connect, createServer, type ClientHttp2Session, type ClientHttp2Stream, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { monotonicNow } from '../src/core/clock.js';
import { until } from './helpers/http.js';
import { trackedProxy } from './helpers/proxy.js';
import { RawClient } from './helpers/raw.js';
import { rapidReset } from './helpers/h2-attack.js';
import { block, CONTINUATION, END_STREAM_AND_HEADERS, frame, GOAWAY, HEADERS, PREFACE, REFUSED_STREAM, RST_STREAM, SETTINGS } from './helpers/h2-frames.js';

interface HangingApp {
  port: number;
  /** Requests (or streams) received. */
  arrived: () => number;
  /** Connections accepted (the HTTP/1.1 app's). */
  accepted: () => number;
  /** When each request's connection (or stream) closed, from `performance.now()`. */
  closedAt: number[];
  close: () => void;
}

/** An HTTP/1.1 app that never answers and records when each request's connection to it closes. */
async function hangingApp(): Promise<HangingApp> {
  let arrived = 0;
  let accepted = 0;
  const closedAt: number[] = [];
  const server = createH1Server((request: IncomingMessage) => {
    arrived++;
    request.resume();
    request.socket.once('close', () => closedAt.push(performance.now()));
  });
  server.on('connection', () => accepted++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    arrived: () => arrived,
    accepted: () => accepted,
    closedAt,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

/**
 * Asserts the app's side closed within 200 ms of the client's leaving, and
 * that no other connection to the app opened: undici opens one for the
 * aborted request right after the close, in the same turn (nodejs/undici#5845),
 * so a short look afterwards sees it.
 */
async function assertPromptCancel(app: HangingApp, left: number): Promise<void> {
  await until(() => app.closedAt.length === 1, 'the app to see the cancel', 10_000);
  assert.ok(app.closedAt[0]! - left < 200, `the app saw it after ${Math.round(app.closedAt[0]! - left)} ms`);
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(app.accepted(), 1, 'connections the app accepted');
}

describe('the app sees a client leave at once', () => {
  const cases: Array<[string, string]> = [
    ['a GET', 'GET /slow HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['a 1 MB upload left at 100 KB', `POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n\r\n${'a'.repeat(100 * 1024)}`],
  ];
  for (const [what, bytes] of cases) {
    it(`HTTP/1.1, ${what}: the upstream connection closes within 200 ms of the client's, and no other opens`, async () => {
      const app = await hangingApp();
      const { stats, proxy } = await trackedProxy(app.port);
      try {
        const client = await RawClient.connect(proxy.port);
        client.write(bytes);
        await until(() => app.arrived() === 1 && stats.inFlight === 1, 'the request at the app');
        const left = performance.now();
        client.destroy();
        await assertPromptCancel(app, left);
      } finally {
        await proxy.close(0);
        app.close();
      }
    });
  }
});

/** An h2c app that never answers and records when each of its streams closes. */
async function hangingH2App(): Promise<HangingApp> {
  let arrived = 0;
  const closedAt: number[] = [];
  const server = createServer();
  server.on('stream', (stream: ServerHttp2Stream) => {
    arrived++;
    stream.on('error', () => {});
    stream.resume();
    stream.once('close', () => closedAt.push(performance.now()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, arrived: () => arrived, accepted: () => 1, closedAt, close: () => server.close() };
}

describe('the app sees an HTTP/2 client leave at once', () => {
  for (const upstreamProtocol of ['auto', 'http1'] as const) {
    for (const how of ['resets its stream', 'drops its connection'] as const) {
      for (const upload of [false, true]) {
        it(`upstream ${upstreamProtocol}, a ${upload ? 'POST left after 100 KB' : 'GET'} whose client ${how}: the app's side closes within 200 ms, and no other connection opens`, async () => {
          const app = upstreamProtocol === 'auto' ? await hangingH2App() : await hangingApp();
          const { stats, proxy } = await trackedProxy(app.port, { upstreamProtocol });
          try {
            const session = connect(proxy.url);
            session.on('error', () => {});
            const stream = session.request({ ':method': upload ? 'POST' : 'GET', ':path': '/slow' }, { endStream: !upload });
            stream.on('error', () => {});
            if (upload) stream.write(Buffer.alloc(100 * 1024));
            await until(() => app.arrived() === 1 && stats.inFlight === 1, 'the request at the app');
            const left = performance.now();
            if (how === 'resets its stream') stream.close(8);
            else session.destroy();
            await assertPromptCancel(app, left);
          } finally {
            await proxy.close(0);
            app.close();
          }
        });
      }
    }
  }
});

const SETTINGS_MAX_CONCURRENT_STREAMS = 3;

/** The frames in what a server sent: type, stream, payload. */
function framesIn(latin1: string): Array<{ type: number; stream: number; payload: Buffer }> {
  const bytes = Buffer.from(latin1, 'latin1');
  const frames: Array<{ type: number; stream: number; payload: Buffer }> = [];
  for (let at = 0; at + 9 <= bytes.length;) {
    const length = bytes.readUIntBE(at, 3);
    if (at + 9 + length > bytes.length) break;
    frames.push({ type: bytes.readUInt8(at + 3), stream: bytes.readUInt32BE(at + 5) & 0x7fffffff, payload: bytes.subarray(at + 9, at + 9 + length) });
    at += 9 + length;
  }
  return frames;
}

/** The value of setting `id` in a SETTINGS payload (RFC 9113 section 6.5.1), if there. */
function setting(payload: Buffer, id: number): number | undefined {
  for (let at = 0; at + 6 <= payload.length; at += 6) if (payload.readUInt16BE(at) === id) return payload.readUInt32BE(at + 2);
  return undefined;
}

function getRequest(path: string): Array<[string, string]> {
  return [
    [':method', 'GET'],
    [':path', path],
    [':scheme', 'http'],
    [':authority', 'x'],
  ];
}

/** Opens a GET stream on `session`; resolves with its reset code (0 when it ended cleanly). */
function streamOutcome(stream: ClientHttp2Stream): Promise<number> {
  return new Promise((resolve) => {
    stream.on('error', () => {});
    stream.resume();
    stream.once('close', () => resolve(stream.rstCode ?? 0));
  });
}

describe('HTTP/2 streams are bounded per connection and in all', () => {
  it('the server advertises SETTINGS_MAX_CONCURRENT_STREAMS; streams past it are reset before the app or the count sees them', async () => {
    const app = await hangingH2App();
    const { stats, proxy } = await trackedProxy(app.port, { maxConcurrentStreams: 3 });
    const client = await RawClient.connect(proxy.port);
    try {
      client.write(Buffer.concat([Buffer.from(PREFACE, 'latin1'), frame(SETTINGS, 0, 0, Buffer.alloc(0))]));
      await until(() => framesIn(client.received).some((f) => f.type === SETTINGS && f.payload.length > 0), "the server's SETTINGS");
      const settings = framesIn(client.received).find((f) => f.type === SETTINGS && f.payload.length > 0)!;
      assert.equal(setting(settings.payload, SETTINGS_MAX_CONCURRENT_STREAMS), 3);
      // Five streams at once, before the server's SETTINGS are acknowledged (a client that ignores them).
      client.write(Buffer.concat([1, 3, 5, 7, 9].map((id) => frame(HEADERS, END_STREAM_AND_HEADERS, id, block(getRequest(`/${id}`))))));
      await until(() => framesIn(client.received).filter((f) => f.type === RST_STREAM).length === 2, 'two resets');
      const resets = framesIn(client.received).filter((f) => f.type === RST_STREAM);
      assert.deepEqual(
        resets.map((f) => [f.stream, f.payload.readUInt32BE(0)]),
        [
          [7, REFUSED_STREAM],
          [9, REFUSED_STREAM],
        ],
      );
      await until(() => app.arrived() === 3, 'three streams at the app');
      assert.equal(stats.inFlight, 3);
    } finally {
      client.destroy();
      await proxy.close(0);
      app.close();
    }
  });

  it('a real client (Node, nghttp2) keeps to the limit once it has the SETTINGS: ten requests with a limit of 3 all get their answer', async () => {
    let atOnce = 0;
    let most = 0;
    const app = createServer();
    app.on('stream', (stream: ServerHttp2Stream) => {
      most = Math.max(most, ++atOnce);
      setTimeout(() => {
        atOnce--;
        stream.respond({ ':status': 200 });
        stream.end('ok');
      }, 20);
    });
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    const { proxy } = await trackedProxy((app.address() as AddressInfo).port, { maxConcurrentStreams: 3 });
    const session: ClientHttp2Session = connect(proxy.url);
    try {
      // Streams sent before the SETTINGS arrive are refused past the limit (REFUSED_STREAM: the client may retry them).
      await once(session, 'remoteSettings');
      const codes = await Promise.all(Array.from({ length: 10 }, (_, i) => streamOutcome(session.request({ ':path': `/${i}` }))));
      assert.deepEqual(codes, Array(10).fill(0));
      assert.equal(most, 3);
    } finally {
      session.close();
      await proxy.close(0);
      app.close();
    }
  });

  it('past maxStreams on all connections together, a new stream is refused with REFUSED_STREAM and never counted; the next one after a close passes', async () => {
    const app = await hangingH2App();
    const { stats, proxy } = await trackedProxy(app.port, { maxStreams: 2 });
    const sessions = [connect(proxy.url), connect(proxy.url)];
    try {
      const held = [sessions[0]!.request({ ':path': '/a' }), sessions[1]!.request({ ':path': '/b' })];
      for (const stream of held) stream.on('error', () => {});
      await until(() => app.arrived() === 2 && stats.inFlight === 2, 'two streams at the app');
      assert.equal(await streamOutcome(sessions[1]!.request({ ':path': '/c' })), REFUSED_STREAM);
      assert.equal(stats.inFlight, 2);
      assert.equal(app.arrived(), 2);
      held[0]!.close(8);
      await until(() => stats.inFlight === 1, 'the reset stream to leave');
      const next = sessions[1]!.request({ ':path': '/d' });
      next.on('error', () => {});
      await until(() => app.arrived() === 3, 'the next stream at the app');
    } finally {
      for (const session of sessions) session.destroy();
      await proxy.close(0);
      app.close();
    }
  });
});

/** An app that answers each request once its body has come in whole. */
async function echoLengthApp(): Promise<{ port: number; open: () => number; close: () => void }> {
  let open = 0;
  const server = createH1Server((request: IncomingMessage, response) => {
    let length = 0;
    request.on('data', (chunk: Buffer) => (length += chunk.length));
    request.on('end', () => response.end(String(length)));
  });
  server.on('connection', (socket) => {
    open++;
    socket.once('close', () => open--);
  });
  await new Promise<void>((resolve) => server.listen({ port: 0, host: '127.0.0.1', backlog: 2048 }, resolve));
  return {
    port: (server.address() as AddressInfo).port,
    open: () => open,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

/** Opens `count` uploads that send one byte of a 1000-byte body and then nothing: each holds its upstream connection. */
async function stalledUploads(port: number, count: number): Promise<RawClient[]> {
  const clients: RawClient[] = [];
  for (let i = 0; i < count; i++) {
    const client = await RawClient.connect(port);
    client.write('POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\na');
    clients.push(client);
  }
  return clients;
}

describe('the upstream pool is never a place to hang', () => {
  it('with no cap (the default), 1,030 stalled uploads hold 1,030 app connections and a GET is still answered at once', async () => {
    const app = await echoLengthApp();
    const { proxy } = await trackedProxy(app.port);
    const uploads = await stalledUploads(proxy.port, 1030);
    try {
      await until(() => app.open() === 1030, 'every upload at the app', 20_000);
      const started = performance.now();
      const response = await fetch(`${proxy.url}/after`, { method: 'POST', body: 'abc' });
      assert.equal(response.status, 200);
      assert.equal(await response.text(), '3');
      assert.ok(performance.now() - started < 1000, `answered after ${Math.round(performance.now() - started)} ms`);
    } finally {
      for (const upload of uploads) upload.destroy();
      await proxy.close(0);
      app.close();
    }
  });

  it('with a cap the uploads hold, a request that gets no connection within connectionWaitMs is answered 503 and counted', async () => {
    const app = await echoLengthApp();
    const statuses: number[] = [];
    const { stats, proxy } = await trackedProxy(app.port, {
      connections: 2,
      connectionWaitMs: 200,
      observer: { requestEnded: (status: number) => statuses.push(status) },
    });
    const uploads = await stalledUploads(proxy.port, 2);
    try {
      await until(() => app.open() === 2, 'both uploads at the app');
      const started = performance.now();
      const response = await fetch(`${proxy.url}/after`);
      const waited = performance.now() - started;
      assert.equal(response.status, 503);
      assert.equal(await response.text(), 'no upstream connection available\n');
      assert.ok(waited >= 190 && waited < 1000, `answered after ${Math.round(waited)} ms`);
      await until(() => stats.inFlight === 2, 'the 503 to leave the count');
      assert.equal(stats.report(monotonicNow()).requestCount, 3);
      await until(() => statuses.includes(503), 'the 503 observed');
      for (const upload of uploads) upload.destroy();
      await until(() => app.open() === 0, 'the uploads gone');
      assert.equal(await (await fetch(`${proxy.url}/again`, { method: 'POST', body: 'x' })).text(), '1');
    } finally {
      for (const upload of uploads) upload.destroy();
      await proxy.close(0);
      app.close();
    }
  });
});

describe('a request body that stalls', () => {
  it("HTTP/1.1: no byte for requestBodyIdleTimeoutMs gets 408, the connection closed, the app's request aborted; a steady trickle passes", async () => {
    const app = await echoLengthApp();
    const { stats, proxy } = await trackedProxy(app.port, { requestBodyIdleTimeoutMs: 300 });
    try {
      const [stalled] = await stalledUploads(proxy.port, 1);
      const started = performance.now();
      const text = await stalled!.whenClosed(3000);
      const waited = performance.now() - started;
      assert.match(text, /^HTTP\/1\.1 408 /);
      assert.match(text, /request body timed out\n$/);
      assert.ok(waited >= 250 && waited < 1500, `answered after ${Math.round(waited)} ms`);
      await until(() => app.open() === 0 && stats.inFlight === 0, 'the app connection and the count to go');

      const trickle = await RawClient.connect(proxy.port);
      trickle.write('POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 8\r\nConnection: close\r\n\r\n');
      for (let i = 0; i < 8; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        trickle.write('a');
      }
      assert.match(await trickle.whenClosed(), /\r\n\r\n8$/);
    } finally {
      await proxy.close(0);
      app.close();
    }
  });

  it('HTTP/1.1: a body the app is slow to read (the proxy holds it back) is not a stall', async () => {
    const app = createH1Server((request: IncomingMessage, response) => {
      let length = 0;
      request.pause();
      setTimeout(() => request.resume(), 800);
      request.on('data', (chunk: Buffer) => (length += chunk.length));
      request.on('end', () => response.end(String(length)));
    });
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    const { proxy } = await trackedProxy((app.address() as AddressInfo).port, { requestBodyIdleTimeoutMs: 300 });
    try {
      const response = await fetch(`${proxy.url}/big`, { method: 'POST', body: Buffer.alloc(8 * 1024 * 1024) });
      assert.equal(response.status, 200);
      assert.equal(await response.text(), String(8 * 1024 * 1024));
    } finally {
      await proxy.close(0);
      app.closeAllConnections();
      app.close();
    }
  });

  it("HTTP/2: a stream whose body stops gets 408 and the app's stream is cancelled", async () => {
    const app = await hangingH2App();
    const { stats, proxy } = await trackedProxy(app.port, { requestBodyIdleTimeoutMs: 300 });
    const session = connect(proxy.url);
    try {
      const stream = session.request({ ':method': 'POST', ':path': '/upload' });
      stream.write('a');
      const [headers] = (await once(stream, 'response')) as [Record<string, unknown>];
      assert.equal(headers[':status'], 408);
      await until(() => app.closedAt.length === 1, "the app's stream to close");
      stream.close();
      await until(() => stats.inFlight === 0, 'the count to go');
    } finally {
      session.destroy();
      await proxy.close(0);
      app.close();
    }
  });
});

describe('an HTTP/2 header block in progress is bounded by headersTimeoutMs', () => {
  const holds: Array<[string, (client: RawClient) => Promise<void>]> = [
    ['HEADERS without END_HEADERS, then nothing', async () => {}],
    [
      'HEADERS without END_HEADERS, then a CONTINUATION without it every 100 ms',
      async (client) => {
        while (!client.closed) {
          client.write(frame(CONTINUATION, 0, 1, block([['x-more', 'a']])));
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      },
    ],
  ];
  for (const [what, hold] of holds) {
    it(`${what}: the connection gets GOAWAY and is closed within headersTimeoutMs; nothing reaches the app`, async () => {
      const app = await hangingH2App();
      const { stats, proxy } = await trackedProxy(app.port, { headersTimeoutMs: 400 });
      const client = await RawClient.connect(proxy.port);
      try {
        const started = performance.now();
        client.write(Buffer.concat([Buffer.from(PREFACE, 'latin1'), frame(SETTINGS, 0, 0, Buffer.alloc(0)), frame(HEADERS, 0x1, 1, block(getRequest('/held')))]));
        void hold(client);
        await client.whenClosed(3000);
        const held = performance.now() - started;
        assert.ok(held >= 150 && held < 600, `closed after ${Math.round(held)} ms`);
        assert.ok(framesIn(client.received).some((f) => f.type === GOAWAY));
        assert.equal(app.arrived(), 0);
        assert.equal(stats.inFlight, 0);
      } finally {
        client.destroy();
        await proxy.close(0);
        app.close();
      }
    });
  }

  it('an idle client that answers PINGs keeps its connection past several headersTimeoutMs and is served on it', async () => {
    const app = createServer();
    app.on('stream', (stream: ServerHttp2Stream) => {
      stream.respond({ ':status': 200 });
      stream.end('ok');
    });
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    const { proxy } = await trackedProxy((app.address() as AddressInfo).port, { headersTimeoutMs: 200 });
    const session = connect(proxy.url);
    try {
      let pings = 0;
      session.on('ping', () => pings++);
      await new Promise((resolve) => setTimeout(resolve, 800));
      assert.ok(pings >= 2, `${pings} PINGs`);
      assert.equal(session.closed, false);
      assert.equal(await streamOutcome(session.request({ ':path': '/after' })), 0);
    } finally {
      session.close();
      await proxy.close(0);
      app.close();
    }
  });
});

describe('HTTP/2 request authority', () => {
  for (const upstreamProtocol of ['auto', 'http1'] as const) {
    it(`upstream ${upstreamProtocol}: a host that disagrees with :authority loses; the app sees only the authority`, async () => {
      const hosts: Array<string | undefined> = [];
      const app = upstreamProtocol === 'auto' ? createServer() : createH1Server();
      if (upstreamProtocol === 'auto') {
        app.on('stream', (stream: ServerHttp2Stream, headers: Record<string, string | undefined>) => {
          hosts.push(`${headers[':authority']} ${headers['host']}`);
          stream.respond({ ':status': 200 });
          stream.end();
        });
      } else {
        app.on('request', (request: IncomingMessage, response: { end(): void }) => {
          hosts.push(`${request.headers.host} ${request.rawHeaders.filter((name) => name.toLowerCase() === 'host').length}`);
          response.end();
        });
      }
      await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
      const { proxy } = await trackedProxy((app.address() as AddressInfo).port, { upstreamProtocol });
      const client = await RawClient.connect(proxy.port);
      try {
        client.write(
          Buffer.concat([Buffer.from(PREFACE, 'latin1'), frame(SETTINGS, 0, 0, Buffer.alloc(0)), frame(HEADERS, END_STREAM_AND_HEADERS, 1, block([...getRequest('/'), ['host', 'elsewhere']]))]),
        );
        await until(() => hosts.length === 1, 'the request at the app');
        assert.equal(hosts[0], upstreamProtocol === 'auto' ? 'x undefined' : 'x 1');
      } finally {
        client.destroy();
        await proxy.close(0);
        app.close();
      }
    });
  }
});

describe('rapid reset', () => {
  it('against an app that refuses h2c: the proxy stays up, every stream is counted out, and it answers 502 after', async () => {
    // Each stream's h2c session to the app fails; a session destroyed before its 'close' was taken for a usable one
    // and `request` on it threw ERR_HTTP2_INVALID_SESSION out of the exchange (seen on Node 22.23.5).
    const app = createH1Server((_request, response) => response.end('ok'));
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    const { stats, proxy } = await trackedProxy((app.address() as AddressInfo).port);
    try {
      await rapidReset(proxy.port, 4, 5000);
      await until(() => stats.inFlight === 0, 'every stream counted out', 20_000);
      const session = connect(`http://127.0.0.1:${proxy.port}`);
      const stream = session.request({ ':path': '/' });
      stream.resume();
      const [headers] = (await once(stream, 'response')) as [Record<string, unknown>];
      assert.equal(headers[':status'], 502);
      session.close();
    } finally {
      await proxy.close(0);
      app.close();
    }
  });
});
