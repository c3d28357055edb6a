import assert from 'node:assert/strict';
import { connect, type ClientHttp2Session, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import { after, before, describe, it } from 'node:test';
import type { ServerDuplexStream, ServerReadableStream, ServerUnaryCall, ServerWritableStream, sendUnaryData, ServiceError } from '@grpc/grpc-js';
import type { RequestStats } from '../src/core/stats.js';
import { monotonicNow } from '../src/core/clock.js';
import type { ProxyServer } from '../src/proxy/proxy.js';
import { chat, collect, grpcClient, list, Metadata, startGrpcApp, status, unary, type Note } from './helpers/grpc.js';
import { get, until } from './helpers/http.js';
import { trackedProxy } from './helpers/proxy.js';

/** What the app saw of each call, for the assertions. */
interface Seen {
  metadata: Record<string, unknown>;
  deadline: number;
}

/** One HTTP/2 request over `session`; resolves with the head, the body text and the trailers. */
function h2Request(session: ClientHttp2Session, headers: OutgoingHttpHeaders, body?: string): Promise<{ headers: IncomingHttpHeaders; body: string; trailers: IncomingHttpHeaders | undefined }> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers, { endStream: body === undefined });
    let head: IncomingHttpHeaders = {};
    let trailers: IncomingHttpHeaders | undefined;
    let text = '';
    stream.setEncoding('utf8');
    stream.on('response', (h: IncomingHttpHeaders) => (head = h));
    stream.on('trailers', (t: IncomingHttpHeaders) => (trailers = t));
    stream.on('data', (chunk: string) => (text += chunk));
    stream.on('end', () => resolve({ headers: head, body: text, trailers }));
    stream.on('error', reject);
    if (body !== undefined) stream.end(body);
  });
}

describe('gRPC through the sidecar (h2c both sides)', () => {
  const seen: Seen[] = [];
  /** Released by a test to let a held server stream go on. */
  let release: () => void = () => {};
  const cancelled: string[] = [];
  let app: Awaited<ReturnType<typeof startGrpcApp>>;
  let stats: RequestStats;
  let proxy: ProxyServer;

  before(async () => {
    app = await startGrpcApp({
      Unary(call: ServerUnaryCall<Note, Note>, callback: sendUnaryData<Note>) {
        seen.push({ metadata: call.metadata.getMap(), deadline: Number(call.getDeadline()) });
        if (call.request.text === 'fail') {
          callback({ code: status.NOT_FOUND, details: 'no such note' });
          return;
        }
        if (call.request.text === 'hang') {
          call.on('cancelled', () => cancelled.push('unary'));
          return;
        }
        callback(null, { text: `echo ${call.request.text}` });
      },
      List(call: ServerWritableStream<Note, Note>) {
        call.on('cancelled', () => cancelled.push('list'));
        call.write({ text: `${call.request.text} 1` });
        release = () => {
          for (let i = 2; i <= 4; i++) call.write({ text: `${call.request.text} ${i}` });
          call.end();
        };
      },
      Collect(call: ServerReadableStream<Note, Note>, callback: sendUnaryData<Note>) {
        const texts: string[] = [];
        call.on('data', (note: Note) => texts.push(`${note.text}:${note.pad?.length ?? 0}`));
        call.on('end', () => callback(null, { text: texts.join(',') }));
      },
      Chat(call: ServerDuplexStream<Note, Note>) {
        call.on('data', (note: Note) => call.write({ text: `re ${note.text}`, pad: note.pad }));
        call.on('end', () => call.end());
      },
    });
    ({ stats, proxy } = await trackedProxy(app.port));
  });

  after(async () => {
    await proxy.close(0);
    app.close();
  });

  it('a unary call passes with its answer, its metadata, and X-Forwarded-*; counted once, none left in flight', async () => {
    const client = grpcClient(proxy.port);
    try {
      stats.report(monotonicNow());
      const metadata = new Metadata();
      metadata.set('x-note-id', 'n1');
      assert.deepEqual(await unary(client, { text: 'hello' }, { metadata }), { text: 'echo hello' });
      const last = seen.at(-1)!;
      assert.deepEqual(last.metadata['x-note-id'], 'n1');
      assert.equal(last.metadata['x-forwarded-for'], '127.0.0.1');
      assert.equal(last.metadata['x-forwarded-proto'], 'http');
      await until(() => stats.inFlight === 0, 'the stream to close');
      assert.equal(stats.report(monotonicNow()).requestCount, 1);
    } finally {
      client.close();
    }
  });

  it('grpc-timeout reaches the app: its deadline is the client deadline', async () => {
    const client = grpcClient(proxy.port);
    try {
      const before = Date.now();
      await unary(client, { text: 'deadline' }, { deadlineMs: 5000 });
      const deadline = seen.at(-1)!.deadline;
      assert.ok(deadline > before + 4000 && deadline <= Date.now() + 5000, `deadline ${deadline - before} ms after the call`);
    } finally {
      client.close();
    }
  });

  it('an error status and message pass intact (a trailers-only answer stays one)', async () => {
    const client = grpcClient(proxy.port);
    try {
      const error = (await unary(client, { text: 'fail' }).catch((e: unknown) => e)) as ServiceError;
      assert.equal(error.code, status.NOT_FOUND);
      assert.equal(error.details, 'no such note');
      await until(() => stats.inFlight === 0, 'the stream to close');
    } finally {
      client.close();
    }
  });

  it('a server stream counts as one request in flight for its whole life, then none', async () => {
    const client = grpcClient(proxy.port);
    try {
      stats.report(monotonicNow());
      const call = list(client, { text: 'n' });
      const received: string[] = [];
      call.on('data', (note: Note) => received.push(note.text));
      const ended = new Promise((resolve) => call.on('status', resolve));
      await until(() => received.length === 1, 'the first message');
      assert.equal(stats.inFlight, 1);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(stats.inFlight, 1);
      release();
      const end = (await ended) as { code: number };
      assert.equal(end.code, status.OK);
      assert.deepEqual(received, ['n 1', 'n 2', 'n 3', 'n 4']);
      await until(() => stats.inFlight === 0, 'the stream to close');
      assert.equal(stats.report(monotonicNow()).requestCount, 1);
    } finally {
      client.close();
    }
  });

  it('a client stream passes every message, large ones included (flow control, not buffering)', async () => {
    const client = grpcClient(proxy.port);
    try {
      const pad = 'x'.repeat(3 * 1024 * 1024);
      const answer = await new Promise<Note | undefined>((resolve, reject) => {
        const call = collect(client, (error, value) => (error === null ? resolve(value) : reject(error)));
        call.write({ text: 'a' });
        call.write({ text: 'b', pad });
        call.write({ text: 'c', pad });
        call.end();
      });
      assert.deepEqual(answer, { text: `a:0,b:${pad.length},c:${pad.length}` });
    } finally {
      client.close();
    }
  });

  it('a bidirectional call answers each message in order, 3 MiB ones included', async () => {
    const client = grpcClient(proxy.port);
    try {
      const call = chat(client);
      const received: Note[] = [];
      call.on('data', (note: Note) => received.push(note));
      const ended = new Promise((resolve) => call.on('status', resolve));
      const pad = 'y'.repeat(3 * 1024 * 1024);
      for (let i = 0; i < 4; i++) call.write({ text: String(i), pad: i % 2 === 0 ? pad : undefined });
      call.end();
      assert.equal(((await ended) as { code: number }).code, status.OK);
      assert.deepEqual(
        received.map((n) => [n.text, n.pad?.length ?? 0]),
        [
          ['re 0', pad.length],
          ['re 1', 0],
          ['re 2', pad.length],
          ['re 3', 0],
        ],
      );
      await until(() => stats.inFlight === 0, 'the stream to close');
    } finally {
      client.close();
    }
  });

  it('a deadline passes: the client gets DEADLINE_EXCEEDED, the app sees the call cancelled, nothing stays in flight', async () => {
    const client = grpcClient(proxy.port);
    try {
      cancelled.length = 0;
      const error = (await unary(client, { text: 'hang' }, { deadlineMs: 300 }).catch((e: unknown) => e)) as ServiceError;
      assert.equal(error.code, status.DEADLINE_EXCEEDED);
      await until(() => cancelled.includes('unary'), 'the app to see the cancel');
      await until(() => stats.inFlight === 0, 'the stream to close');
    } finally {
      client.close();
    }
  });

  it('a client that cancels a server stream cancels it at the app (RST_STREAM passed on)', async () => {
    const client = grpcClient(proxy.port);
    try {
      cancelled.length = 0;
      const call = list(client, { text: 'c' });
      call.on('error', () => {});
      await new Promise((resolve) => call.once('data', resolve));
      assert.equal(stats.inFlight, 1);
      call.cancel();
      await until(() => cancelled.includes('list'), 'the app to see the cancel');
      await until(() => stats.inFlight === 0, 'the stream to close');
    } finally {
      client.close();
    }
  });

  it('K-Proxy-Request: activator counts the call as proxied', async () => {
    const client = grpcClient(proxy.port);
    try {
      stats.report(monotonicNow());
      const metadata = new Metadata();
      metadata.set('k-proxy-request', 'activator');
      await unary(client, { text: 'via activator' }, { metadata });
      await until(() => stats.inFlight === 0, 'the stream to close');
      const report = stats.report(monotonicNow());
      assert.equal(report.requestCount, 1);
      assert.equal(report.proxiedRequestCount, 1);
    } finally {
      client.close();
    }
  });

  it('many calls multiplexed over one client connection: each gets its own answer', async () => {
    const client = grpcClient(proxy.port);
    try {
      stats.report(monotonicNow());
      const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => unary(client, { text: `m${i}` })));
      assert.deepEqual(
        answers.map((a) => a.text),
        Array.from({ length: 50 }, (_, i) => `echo m${i}`),
      );
      await until(() => stats.inFlight === 0, 'the streams to close');
      assert.equal(stats.report(monotonicNow()).requestCount, 50);
    } finally {
      client.close();
    }
  });
});

/**
 * An HTTP/2-only app: once a stream's body is in, it answers `status` with the stream's headers and body as
 * JSON and an `x-checksum` trailer (the body's length); a stream for `/slow` is never answered.
 */
async function echoApp(status: number): Promise<{ port: number; close: () => void }> {
  const { createServer } = await import('node:http2');
  const app = createServer();
  app.on('stream', (stream, headers) => {
    let body = '';
    stream.setEncoding('utf8');
    stream.on('data', (c: string) => (body += c));
    stream.on('end', () => {
      if (headers[':path'] === '/slow') return;
      stream.respond({ ':status': status, 'content-type': 'application/json' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'x-checksum': String(body.length) }));
      stream.end(JSON.stringify({ headers, body }));
    });
  });
  await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
  return { port: (app.address() as { port: number }).port, close: () => app.close() };
}

describe('plain h2c requests (Node http2 client)', () => {
  it('headers, body, trailers and the Knative header contract pass; probes are answered here', async () => {
    const app = await echoApp(201);
    const { stats, proxy } = await trackedProxy(app.port);
    const session = connect(proxy.url);
    try {
      const answer = await h2Request(
        session,
        {
          ':method': 'POST',
          ':path': '/items?q=1',
          ':authority': 'svc.example',
          'x-forwarded-for': '10.0.0.1',
          'x-forwarded-proto': 'https',
          'knative-serving-revision': 'r1',
          'k-original-host': 'original.example',
        },
        'payload',
      );
      assert.equal(answer.headers[':status'], 201);
      assert.deepEqual(answer.trailers?.['x-checksum'], '7');
      const echoed = JSON.parse(answer.body) as { headers: IncomingHttpHeaders; body: string };
      assert.equal(echoed.body, 'payload');
      assert.equal(echoed.headers[':path'], '/items?q=1');
      assert.equal(echoed.headers[':authority'], 'original.example');
      assert.equal(echoed.headers['k-original-host'], undefined);
      assert.equal(echoed.headers['knative-serving-revision'], undefined);
      assert.equal(echoed.headers['x-forwarded-for'], '10.0.0.1, 127.0.0.1');
      assert.equal(echoed.headers['x-forwarded-proto'], 'http');
      assert.equal(echoed.headers['forwarded'], 'for=10.0.0.1;proto=https');

      const probe = await h2Request(session, { ':path': '/', 'k-network-probe': 'queue' });
      assert.equal(probe.headers[':status'], 200);
      assert.equal(probe.body, 'queue');
      const options = await h2Request(session, { ':method': 'OPTIONS', ':path': '*' });
      assert.equal(options.headers[':status'], 200);
      await until(() => stats.inFlight === 0, 'the streams to close');
      assert.equal(stats.report(monotonicNow()).requestCount, 2);
    } finally {
      session.close();
      await proxy.close(0);
      app.close();
    }
  });

  it("a request's trailers follow its body to the app; a request without them reaches the app whole", async () => {
    const { createServer } = await import('node:http2');
    const app = createServer();
    app.on('stream', (stream) => {
      let body = '';
      let trailers: IncomingHttpHeaders = {};
      stream.setEncoding('utf8');
      stream.on('data', (c: string) => (body += c));
      stream.on('trailers', (t: IncomingHttpHeaders) => (trailers = t));
      stream.on('end', () => {
        stream.respond({ ':status': 200 });
        stream.end(JSON.stringify({ body, sum: trailers['x-sum'] ?? null }));
      });
    });
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    const { proxy } = await trackedProxy((app.address() as { port: number }).port);
    const session = connect(proxy.url);
    try {
      const answer = await new Promise<string>((resolve, reject) => {
        const stream = session.request({ ':method': 'POST', ':path': '/' }, { waitForTrailers: true });
        let text = '';
        stream.setEncoding('utf8');
        stream.on('wantTrailers', () => stream.sendTrailers({ 'x-sum': '7' }));
        stream.on('data', (chunk: string) => (text += chunk));
        stream.on('end', () => resolve(text));
        stream.on('error', reject);
        stream.end('payload');
      });
      assert.deepEqual(JSON.parse(answer), { body: 'payload', sum: '7' });
      const plain = await h2Request(session, { ':method': 'POST', ':path': '/' }, 'no trailers');
      assert.deepEqual(JSON.parse(plain.body), { body: 'no trailers', sum: null });
    } finally {
      session.close();
      await proxy.close(0);
      app.close();
    }
  });

  it('upstreamProtocol h2c: HTTP/1.1 requests reach an HTTP/2-only app as h2c streams, body, headers and trailers intact', async () => {
    const app = await echoApp(202);
    const { stats, proxy } = await trackedProxy(app.port, { upstreamProtocol: 'h2c', timeoutMs: 300 });
    try {
      const { request } = await import('node:http');
      const answer = await new Promise<{ status: number; headers: IncomingHttpHeaders; body: string; trailers: NodeJS.Dict<string> }>((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port: proxy.port,
            method: 'POST',
            path: '/items?q=1',
            headers: { host: 'svc.example', 'x-forwarded-for': '10.0.0.1', te: 'trailers', 'transfer-encoding': 'chunked' },
            agent: false,
          },
          (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (c: string) => (body += c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, trailers: res.trailers }));
          },
        );
        req.on('error', reject);
        req.write('pay');
        req.end('load');
      });
      assert.equal(answer.status, 202);
      assert.equal(answer.headers['content-type'], 'application/json');
      assert.equal(answer.trailers['x-checksum'], '7');
      const echoed = JSON.parse(answer.body) as { headers: IncomingHttpHeaders; body: string };
      assert.equal(echoed.body, 'payload');
      assert.deepEqual([echoed.headers[':method'], echoed.headers[':path'], echoed.headers[':authority']], ['POST', '/items?q=1', 'svc.example']);
      // Hop-by-hop on HTTP/1.1 and forbidden in HTTP/2: none reaches the app.
      assert.deepEqual([echoed.headers['host'], echoed.headers['transfer-encoding'], echoed.headers['connection'], echoed.headers['te']], [undefined, undefined, undefined, undefined]);
      assert.equal(echoed.headers['x-forwarded-for'], '10.0.0.1, 127.0.0.1');
      // A GET without a body, a timeout before the head (504), and the count back to 0.
      const plain = await get(proxy.port, '/plain');
      assert.equal(plain.status, 202);
      assert.equal((JSON.parse(plain.body) as { body: string }).body, '');
      assert.deepEqual(await get(proxy.port, '/slow'), { status: 504, body: 'upstream timed out\n' });
      await until(() => stats.inFlight === 0, 'nothing in flight');
      assert.equal(stats.report(monotonicNow()).requestCount, 3);
    } finally {
      await proxy.close(0);
      app.close();
    }
  });

  it('the app unreachable: 502; a revision timeout before the head: 504; the breaker queue full: 503', async () => {
    const { createServer } = await import('node:http2');
    const app = createServer();
    // Never answers.
    app.on('stream', () => {});
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    const appPort = (app.address() as { port: number }).port;
    const { stats, proxy } = await trackedProxy(appPort, { timeoutMs: 300, containerConcurrency: 1, maxQueueDepth: 1 });
    const down = await trackedProxy(1);
    const session = connect(proxy.url);
    const downSession = connect(down.proxy.url);
    try {
      assert.equal((await h2Request(downSession, { ':path': '/' })).headers[':status'], 502);
      const first = h2Request(session, { ':path': '/1' });
      const second = h2Request(session, { ':path': '/2' });
      await until(() => stats.inFlight === 2, 'two streams');
      const third = await h2Request(session, { ':path': '/3' });
      assert.equal(third.headers[':status'], 503);
      assert.equal(third.body, 'pending request queue full\n');
      assert.equal((await first).headers[':status'], 504);
      assert.equal((await second).headers[':status'], 504);
      await until(() => stats.inFlight === 0 && down.stats.inFlight === 0, 'the streams to close');
    } finally {
      session.close();
      downSession.close();
      await proxy.close(0);
      await down.proxy.close(0);
      app.close();
    }
  });

  it('the idle timeout after the head resets the stream with CANCEL at both ends; the response-start timeout answers 504', async () => {
    const { createServer } = await import('node:http2');
    const app = createServer();
    const appResets: number[] = [];
    app.on('stream', (stream, headers) => {
      stream.on('error', () => {});
      stream.on('close', () => appResets.push(stream.rstCode ?? -1));
      if (headers[':path'] === '/head-then-silence') {
        stream.respond({ ':status': 200 });
        stream.write('some');
      }
    });
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    const appPort = (app.address() as { port: number }).port;
    const idle = await trackedProxy(appPort, { idleTimeoutMs: 200 });
    const start = await trackedProxy(appPort, { responseStartTimeoutMs: 200 });
    const session = connect(idle.proxy.url);
    const startSession = connect(start.proxy.url);
    try {
      const code = await new Promise<number | undefined>((resolve) => {
        const stream = session.request({ ':path': '/head-then-silence' });
        stream.on('error', () => {});
        stream.resume();
        stream.on('close', () => resolve(stream.rstCode));
      });
      assert.equal(code, 8);
      await until(() => appResets.includes(8), 'the app stream to be cancelled');
      assert.equal((await h2Request(startSession, { ':path': '/never' })).headers[':status'], 504);
      await until(() => idle.stats.inFlight === 0 && start.stats.inFlight === 0, 'the streams to close');
    } finally {
      session.close();
      startSession.close();
      await idle.proxy.close(0);
      await start.proxy.close(0);
      app.close();
    }
  });
});
