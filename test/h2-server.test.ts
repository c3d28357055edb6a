import assert from 'node:assert/strict';
import { connect, createServer, type ClientHttp2Session, type Http2Server, type IncomingHttpHeaders, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { monotonicNow } from '../src/core/clock.js';
import type { RequestStats } from '../src/core/stats.js';
import type { ProxyServer } from '../src/proxy/proxy.js';
import { until } from './helpers/http.js';
import { trackedProxy } from './helpers/proxy.js';
import { RawClient } from './helpers/raw.js';
import { block, END_STREAM_AND_HEADERS, frame, FRAME_SIZE_ERROR, GOAWAY, HEADERS, PREFACE, PROTOCOL_ERROR, RST_STREAM, SETTINGS } from './helpers/h2-frames.js';

/** The frames in what a server sent, as type, stream and (for RST_STREAM and GOAWAY) error code. */
function framesIn(latin1: string): Array<{ type: number; stream: number; code?: number }> {
  const bytes = Buffer.from(latin1, 'latin1');
  const frames: Array<{ type: number; stream: number; code?: number }> = [];
  for (let at = 0; at + 9 <= bytes.length;) {
    const length = bytes.readUIntBE(at, 3);
    const type = bytes.readUInt8(at + 3);
    const stream = bytes.readUInt32BE(at + 5) & 0x7fffffff;
    const payload = bytes.subarray(at + 9, at + 9 + length);
    const code = type === RST_STREAM ? payload.readUInt32BE(0) : type === GOAWAY ? payload.readUInt32BE(4) : undefined;
    frames.push(code === undefined ? { type, stream } : { type, stream, code });
    at += 9 + length;
  }
  return frames;
}

const GOOD_REQUEST: Array<[string, string]> = [
  [':method', 'GET'],
  [':path', '/'],
  [':scheme', 'http'],
  [':authority', 'x'],
];

async function listening(server: Http2Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

function get(session: ClientHttp2Session, path: string, extra: Record<string, string> = {}): Promise<{ headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':path': path, ...extra });
    let headers: IncomingHttpHeaders = {};
    let body = '';
    stream.setEncoding('utf8');
    stream.on('response', (h: IncomingHttpHeaders) => (headers = h));
    stream.on('data', (c: string) => (body += c));
    stream.on('end', () => resolve({ headers, body }));
    stream.on('error', reject);
  });
}

describe('bad HTTP/2 input gets nghttp2 protocol errors; nothing reaches the app or stays counted', () => {
  let app: Http2Server;
  const appSaw: string[] = [];
  let stats: RequestStats;
  let proxy: ProxyServer;

  before(async () => {
    app = createServer();
    app.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
      appSaw.push(String(headers[':path']));
      stream.respond({ ':status': 200 });
      stream.end('ok');
    });
    ({ stats, proxy } = await trackedProxy(await listening(app)));
  });

  after(async () => {
    await proxy.close(0);
    app.close();
  });

  const streamErrors: Array<[string, Array<[string, string]>]> = [
    ['a connection-specific header', [...GOOD_REQUEST, ['connection', 'keep-alive']]],
    ['Transfer-Encoding', [...GOOD_REQUEST, ['transfer-encoding', 'chunked']]],
    ['TE other than trailers', [...GOOD_REQUEST, ['te', 'gzip']]],
    ['an unknown pseudo-header', [...GOOD_REQUEST, [':foo', 'bar']]],
    ['a pseudo-header after a regular one', [['x-a', 'b'], ...GOOD_REQUEST]],
    ['no :path', GOOD_REQUEST.filter(([name]) => name !== ':path')],
    ['an upper-case name', [...GOOD_REQUEST, ['X-Upper', 'v']]],
  ];
  for (const [what, fields] of streamErrors) {
    it(`${what}: the stream is reset with PROTOCOL_ERROR`, async () => {
      stats.report(monotonicNow());
      appSaw.length = 0;
      const client = await RawClient.connect(proxy.port);
      try {
        client.write(Buffer.concat([Buffer.from(PREFACE, 'latin1'), frame(SETTINGS, 0, 0, Buffer.alloc(0)), frame(HEADERS, END_STREAM_AND_HEADERS, 1, block(fields))]));
        await until(() => framesIn(client.received).some((f) => f.type === RST_STREAM || f.type === GOAWAY), 'the protocol error');
        const error = framesIn(client.received).find((f) => f.type === RST_STREAM || f.type === GOAWAY)!;
        assert.deepEqual(error, { type: RST_STREAM, stream: 1, code: PROTOCOL_ERROR });
      } finally {
        client.destroy();
      }
      assert.deepEqual(appSaw, []);
      assert.equal(stats.inFlight, 0);
      assert.equal(stats.report(monotonicNow()).requestCount, 0);
    });
  }

  it('a malformed frame (SETTINGS of 5 bytes) and garbage after the preface end the session with GOAWAY', async () => {
    const inputs = [frame(SETTINGS, 0, 0, Buffer.alloc(5)), Buffer.from('this is not HTTP/2 at all, not even close', 'latin1')];
    for (const [index, input] of inputs.entries()) {
      const client = await RawClient.connect(proxy.port);
      try {
        client.write(Buffer.concat([Buffer.from(PREFACE, 'latin1'), input]));
        await until(() => framesIn(client.received).some((f) => f.type === GOAWAY), 'the GOAWAY');
        const code = framesIn(client.received).find((f) => f.type === GOAWAY)?.code;
        // Garbage read as a frame header: whatever nghttp2 makes of it, never NO_ERROR.
        if (index === 0) assert.equal(code, FRAME_SIZE_ERROR);
        else assert.notEqual(code, 0);
      } finally {
        client.destroy();
      }
    }
    assert.equal(stats.inFlight, 0);
  });

  it('a client that resets its stream mid-request, or drops its connection, leaves nothing in flight; the sidecar serves on', async () => {
    const session = connect(proxy.url);
    const upload = session.request({ ':method': 'POST', ':path': '/slow' });
    upload.on('error', () => {});
    upload.write('part');
    await until(() => stats.inFlight === 1, 'the stream to be counted');
    upload.close(8);
    await until(() => stats.inFlight === 0, 'the reset stream to leave');
    const dropped = connect(proxy.url);
    const hanging = dropped.request({ ':method': 'POST', ':path': '/slow' });
    hanging.on('error', () => {});
    hanging.write('part');
    await until(() => stats.inFlight === 1, 'the stream to be counted');
    dropped.destroy();
    await until(() => stats.inFlight === 0, 'the dropped stream to leave');
    assert.equal((await get(session, '/after')).body, 'ok');
    session.close();
  });
});

describe('a session nghttp2 ends for a protocol error', () => {
  it('a stream already answered in it leaves the count at the revision timeout, even though Node never closes it', async () => {
    const app = createServer();
    app.on('stream', (stream: ServerHttp2Stream) => {
      // The sidecar resets the app's stream (INTERNAL_ERROR) once the client's session is gone.
      stream.on('error', () => {});
      stream.respond({ ':status': 200 });
      stream.end('ok');
    });
    const { stats, proxy } = await trackedProxy(await listening(app), { timeoutMs: 300 });
    const client = await RawClient.connect(proxy.port);
    try {
      // A request that keeps its body open; once it is counted, a PING of 5 bytes (it must have 8): a connection
      // error. Sent together, newer nghttp2 ends the session before Node emits the stream at all.
      client.write(Buffer.concat([Buffer.from(PREFACE, 'latin1'), frame(SETTINGS, 0, 0, Buffer.alloc(0)), frame(HEADERS, 0x4, 1, block(GOOD_REQUEST))]));
      await until(() => stats.inFlight === 1, 'the stream to be counted');
      client.write(frame(6, 0, 0, Buffer.alloc(5)));
      await until(() => framesIn(client.received).some((f) => f.type === GOAWAY), 'the GOAWAY');
      client.destroy();
      const started = Date.now();
      await until(() => stats.inFlight === 0, 'the count to return to 0', 2000);
      assert.ok(Date.now() - started < 1000, `left after ${Date.now() - started} ms`);
    } finally {
      client.destroy();
      await proxy.close(0);
      app.close();
    }
  });
});

describe('drain and upstream sessions', () => {
  it('close sends GOAWAY: no new stream on that connection, the open one finishes within the bound', async () => {
    const app = createServer();
    let finish: (() => void) | undefined;
    app.on('stream', (stream: ServerHttp2Stream) => {
      stream.respond({ ':status': 200 });
      stream.write('first ');
      finish = () => stream.end('last');
    });
    const { stats, proxy } = await trackedProxy(await listening(app));
    const session = connect(proxy.url);
    try {
      const open = get(session, '/long');
      // Counted on arrival at the sidecar; the app gets its stream a moment later.
      await until(() => stats.inFlight === 1 && finish !== undefined, 'the stream to reach the app');
      const goaway = new Promise((resolve) => session.once('goaway', resolve));
      const closed = proxy.close(5000);
      await goaway;
      await assert.rejects(get(session, '/late'));
      finish!();
      assert.equal((await open).body, 'first last');
      await closed;
      assert.equal(stats.inFlight, 0);
    } finally {
      session.destroy();
      app.close();
    }
  });

  it('the app closing its sessions (GOAWAY) only moves later streams to a new session', async () => {
    const app = createServer();
    const sessions = new Set<ServerHttp2Session>();
    app.on('stream', (stream: ServerHttp2Stream) => {
      sessions.add(stream.session as ServerHttp2Session);
      stream.respond({ ':status': 200 });
      stream.end(`session ${sessions.size}`);
      stream.session!.close();
    });
    const { proxy } = await trackedProxy(await listening(app));
    const session = connect(proxy.url);
    try {
      const bodies: string[] = [];
      for (let i = 0; i < 3; i++) {
        bodies.push((await get(session, `/${i}`)).body);
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.deepEqual(bodies, ['session 1', 'session 2', 'session 3']);
    } finally {
      session.close();
      await proxy.close(0);
      app.close();
    }
  });

  it('the request observer is told each forwarded stream once, with its status; probes are left out', async () => {
    const app = createServer();
    app.on('stream', (stream: ServerHttp2Stream) => {
      stream.respond({ ':status': 202 });
      stream.end();
    });
    const ended: number[] = [];
    const { proxy } = await trackedProxy(await listening(app), { observer: { requestEnded: (status) => ended.push(status) } });
    const session = connect(proxy.url);
    try {
      await get(session, '/a');
      await get(session, '/b');
      await new Promise<void>((resolve) => session.request({ ':path': '/', 'k-network-probe': 'queue' }).on('close', resolve).resume());
      await until(() => ended.length === 2, 'two ends');
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(ended, [202, 202]);
    } finally {
      session.close();
      await proxy.close(0);
      app.close();
    }
  });

  it('a kubelet probe over HTTP/2 reaches the app uncounted, and gets 503 shutting down once the sidecar drains', async () => {
    const app = createServer();
    const seen: string[] = [];
    app.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
      seen.push(String(headers['user-agent']));
      stream.respond({ ':status': 200 });
      stream.end('app');
    });
    const { stats, proxy } = await trackedProxy(await listening(app), { drainQuietPeriodMs: 5000, drainTimeoutMs: 5000 });
    const session = connect(proxy.url);
    const probe = (): Promise<{ headers: IncomingHttpHeaders; body: string }> => get(session, '/healthz', { 'user-agent': 'kube-probe/1.30' });
    try {
      const before = await probe();
      assert.deepEqual([before.headers[':status'], before.body, seen], [200, 'app', ['kube-probe/1.30']]);
      assert.equal(stats.report(monotonicNow()).requestCount, 0);
      void proxy.drainer.drain();
      const during = await probe();
      assert.deepEqual([during.headers[':status'], during.body, seen.length], [503, 'shutting down\n', 1]);
    } finally {
      session.close();
      proxy.drainer.reset();
      await proxy.close(0);
      app.close();
    }
  });
});
