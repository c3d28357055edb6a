import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, constants, createSecureServer, createServer, type Http2Server, type Http2SecureServer, type IncomingHttpHeaders, type ServerHttp2Session } from 'node:http2';
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { RequestStats } from '../src/core/stats.js';
import { markUntracked } from '../src/http/untracked-server.js';
import { trackAllServers } from '../src/tracking/all-servers.js';
import { RequestTracker } from '../src/tracking/tracker.js';
import { get, serve, until } from './helpers/http.js';
import { RawClient, requestHead } from './helpers/raw.js';
import { selfSignedCertificate } from './helpers/tls.js';

/** The window's request count and the requests in flight, reported at the current time. */
function counts(stats: RequestStats): { requests: number; inFlight: number } {
  const inFlight = stats.inFlight;
  return { requests: stats.report(performance.now()).requestCount, inFlight };
}

/** The window's counts, proxied ones apart, and the requests in flight, reported at the current time. */
function countsWithProxied(stats: RequestStats): { requests: number; proxied: number; inFlight: number } {
  const inFlight = stats.inFlight;
  const report = stats.report(performance.now());
  return { requests: report.requestCount, proxied: report.proxiedRequestCount, inFlight };
}

async function listen(server: Http2Server | Http2SecureServer): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/** One request on `session`; resolves with its status once the stream has closed. */
function h2Request(session: ReturnType<typeof connect>, path: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':path': path, ...headers });
    let status = 0;
    stream.on('response', (h: IncomingHttpHeaders) => (status = Number(h[':status'])));
    stream.on('error', reject);
    stream.on('close', () => resolve(status));
    stream.resume();
    stream.end();
  });
}

describe('trackAllServers', () => {
  const stats = new RequestStats(performance.now());
  const stop = trackAllServers(new RequestTracker(stats));
  after(stop);

  it("counts every server's requests, but not those of a server marked untracked, nor probes", async () => {
    const plain = await serve((_req, res) => res.end('a'));
    const marked = await serve((_req, res) => res.end('b'));
    markUntracked(marked.server);
    try {
      counts(stats);
      assert.equal((await get(plain.port)).status, 200);
      assert.equal((await get(plain.port)).status, 200);
      assert.equal((await get(marked.port)).status, 200);
      assert.equal((await get(plain.port, '/', { 'User-Agent': 'kube-probe/1.30' })).status, 200);
      await until(() => stats.inFlight === 0, 'the responses to close');
      assert.deepEqual(counts(stats), { requests: 2, inFlight: 0 });
    } finally {
      await plain.close();
      await marked.close();
    }
  });

  it('ends a pipelined request still queued when its connection dies, and the one ahead of it, once each', async () => {
    const app = await serve((req, res) => {
      if (req.url !== '/never') res.end('ok');
    });
    try {
      counts(stats);
      const client = await RawClient.connect(app.port);
      client.write(requestHead('GET', '/never', [['Host', 'h']]) + requestHead('GET', '/', [['Host', 'h']]));
      await until(() => stats.inFlight === 2, 'both requests in flight');
      client.destroy();
      await until(() => stats.inFlight === 0, 'both requests ended');
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(counts(stats), { requests: 2, inFlight: 0 });
    } finally {
      await app.close();
    }
  });

  it('takes only a pipelined request for queued: not one after a probe, nor after an answered request, on a kept-alive connection', async () => {
    // A queued response also waits for its connection's 'close' (one more listener on the socket); none else does.
    const socketCloseListeners: number[] = [];
    // The answer to /hold waits for the next request, so that the one after it is queued however the bytes arrive.
    let held: ServerResponse | undefined;
    const app = await serve((req, res) => {
      socketCloseListeners.push(req.socket.listenerCount('close'));
      if (req.url === '/hold') held = res;
      else {
        res.end('ok');
        held?.end('ok');
      }
    });
    try {
      counts(stats);
      const client = await RawClient.connect(app.port);
      const answers = async (n: number): Promise<void> => until(() => client.received.split('HTTP/1.1 200').length - 1 === n, `${n} answers`);
      client.write(
        requestHead('GET', '/', [
          ['Host', 'h'],
          ['User-Agent', 'kube-probe/1.30'],
        ]),
      );
      await answers(1);
      client.write(requestHead('GET', '/', [['Host', 'h']]));
      await answers(2);
      client.write(requestHead('GET', '/hold', [['Host', 'h']]) + requestHead('GET', '/', [['Host', 'h']]));
      await answers(4);
      client.destroy();
      await until(() => stats.inFlight === 0, 'the requests to end');
      const [first = 0] = socketCloseListeners;
      assert.deepEqual(socketCloseListeners, [first, first, first, first + 1]);
      assert.deepEqual(counts(stats), { requests: 3, inFlight: 0 });
    } finally {
      await app.close();
    }
  });

  it("counts every stream of a cleartext HTTP/2 server's 'stream' event, proxied ones as proxied, not probes", async () => {
    const server = createServer();
    server.on('stream', (stream) => {
      stream.respond({ ':status': 200 });
      stream.end('ok');
    });
    const port = await listen(server);
    const session = connect(`http://127.0.0.1:${port}`);
    try {
      countsWithProxied(stats);
      assert.equal(await h2Request(session, '/'), 200);
      assert.equal(await h2Request(session, '/', { 'k-proxy-request': 'activator' }), 200);
      assert.equal(await h2Request(session, '/', { 'user-agent': 'kube-probe/1.30' }), 200);
      assert.equal(await h2Request(session, '/', { 'k-network-probe': 'queue' }), 200);
      assert.deepEqual(countsWithProxied(stats), { requests: 2, proxied: 1, inFlight: 0 });
    } finally {
      session.close();
      server.close();
    }
  });

  it('counts the streams of a secure HTTP/2 server with the compatibility API', async () => {
    const server = createSecureServer(selfSignedCertificate(), (_request, response) => response.end('ok'));
    const port = await listen(server);
    const session = connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false });
    try {
      countsWithProxied(stats);
      assert.equal(await h2Request(session, '/'), 200);
      assert.equal(await h2Request(session, '/'), 200);
      assert.deepEqual(countsWithProxied(stats), { requests: 2, proxied: 0, inFlight: 0 });
    } finally {
      session.close();
      server.close();
    }
  });

  it('ends each HTTP/2 stream once, whatever ends it: a reset by either side, a destroyed session, a GOAWAY', async () => {
    const server = createServer();
    server.on('stream', (stream, headers) => {
      stream.on('error', () => {});
      if (headers[':path'] === '/reset') stream.close(constants.NGHTTP2_INTERNAL_ERROR);
      // Anything else is held until the client or the session ends it.
    });
    const port = await listen(server);
    try {
      counts(stats);
      const session = connect(`http://127.0.0.1:${port}`);
      await h2Request(session, '/reset').catch(() => 0);
      const cancelled = session.request({ ':path': '/hold' }).on('error', () => {});
      const lost = [1, 2].map(() => session.request({ ':path': '/hold' }).on('error', () => {}));
      await until(() => stats.inFlight === 3, 'three held streams');
      cancelled.close(constants.NGHTTP2_CANCEL);
      await until(() => stats.inFlight === 2, 'the cancelled stream to end');
      session.destroy();
      await until(() => stats.inFlight === 0, 'the streams of the destroyed session to end');
      for (const stream of lost) assert.equal(stream.destroyed, true);

      const second = connect(`http://127.0.0.1:${port}`).on('error', () => {});
      second.request({ ':path': '/hold' }).on('error', () => {});
      const [serverSession] = (await once(server, 'session')) as [ServerHttp2Session];
      await until(() => stats.inFlight === 1, 'a held stream on a second session');
      serverSession.goaway(constants.NGHTTP2_INTERNAL_ERROR);
      await until(() => stats.inFlight === 0, 'the stream of the session gone with a GOAWAY');
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(counts(stats), { requests: 5, inFlight: 0 });
    } finally {
      server.close();
    }
  });

  it('stops when told to', async () => {
    const own = new RequestStats(performance.now());
    const stopOwn = trackAllServers(new RequestTracker(own));
    stopOwn();
    const app = await serve((_req, res) => res.end());
    try {
      assert.equal((await get(app.port)).status, 200);
      assert.deepEqual(counts(own), { requests: 0, inFlight: 0 });
    } finally {
      await app.close();
    }
  });
});
