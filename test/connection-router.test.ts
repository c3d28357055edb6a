import assert from 'node:assert/strict';
import { createServer as createHttp1Server, request, type RequestListener } from 'node:http';
import { connect, createServer as createHttp2Server, type ClientHttp2Session } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { monotonicNow } from '../src/core/clock.js';
import type { RequestStats } from '../src/core/stats.js';
import { ConnectionRouter } from '../src/proxy/connections/connection-router.js';
import type { ProxyServer } from '../src/proxy/proxy.js';
import { until } from './helpers/http.js';
import { trackedProxy } from './helpers/proxy.js';
import { RawClient } from './helpers/raw.js';

/** Answers with the protocol version the app saw, the request's id and Host (or :authority), and the body length. */
const whoAmI: RequestListener = (req, res) => {
  let length = 0;
  req.on('data', (chunk: Buffer) => (length += chunk.length));
  req.on('end', () => {
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({
        version: req.httpVersion,
        id: req.headers['x-id'],
        host: req.headers.host ?? req.headers[':authority'],
        method: req.method,
        url: req.url,
        length,
        upgrade: req.headers.upgrade,
      }),
    );
  });
};

/** An app serving HTTP/1.1 and h2c on one port, itself through a ConnectionRouter. */
async function dualApp(): Promise<{ port: number; close: () => void }> {
  const http1 = createHttp1Server(whoAmI);
  const http2 = createHttp2Server();
  http2.on('request', whoAmI as unknown as (req: unknown, res: unknown) => void);
  new ConnectionRouter(http1, http2, 10_000);
  await new Promise<void>((resolve) => http1.listen(0, '127.0.0.1', resolve));
  return { port: (http1.address() as AddressInfo).port, close: () => (http1.closeAllConnections(), http1.close()) };
}

function h1Get(port: number, path: string, headers: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(body));
    })
      .on('error', reject)
      .end();
  });
}

function h2Get(session: ClientHttp2Session, path: string, headers: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':path': path, ...headers });
    let body = '';
    stream.setEncoding('utf8');
    stream.on('data', (c: string) => (body += c));
    stream.on('end', () => resolve(body));
    stream.on('error', reject);
  });
}

describe('one port, HTTP/1.1 and h2c', () => {
  let app: Awaited<ReturnType<typeof dualApp>>;
  let stats: RequestStats;
  let proxy: ProxyServer;

  before(async () => {
    app = await dualApp();
    ({ stats, proxy } = await trackedProxy(app.port, { headersTimeoutMs: 300 }));
  });

  after(async () => {
    await proxy.close(0);
    app.close();
  });

  it('HTTP/1.1 and h2c clients at the same time: each request reaches the app in its own protocol, each gets its own answer', async () => {
    stats.report(monotonicNow());
    const sessions = [connect(proxy.url), connect(proxy.url)];
    try {
      const calls: Array<Promise<[string, string]>> = [];
      for (let i = 0; i < 20; i++) {
        calls.push(h1Get(proxy.port, `/h1/${i}`, { 'x-id': `h1-${i}` }).then((body) => [`h1-${i}`, body]));
        calls.push(h2Get(sessions[i % 2]!, `/h2/${i}`, { 'x-id': `h2-${i}` }).then((body) => [`h2-${i}`, body]));
      }
      for (const [id, body] of await Promise.all(calls)) {
        const seen = JSON.parse(body) as { version: string; id: string; host: string; url: string };
        assert.equal(seen.id, id);
        assert.equal(seen.version, id.startsWith('h1') ? '1.1' : '2.0');
        assert.equal(seen.url, `/${id.replace('-', '/')}`);
        assert.equal(seen.host, `127.0.0.1:${proxy.port}`);
      }
      await until(() => stats.inFlight === 0, 'the requests to end');
      assert.equal(stats.report(monotonicNow()).requestCount, 40);
    } finally {
      for (const session of sessions) session.close();
    }
  });

  it('a connection that sends only part of the preface, or nothing, gets 408 and is closed at headersTimeoutMs; nothing is counted', async () => {
    stats.report(monotonicNow());
    for (const start of ['PRI * HTTP/2.0\r\n', '']) {
      const client = await RawClient.connect(proxy.port);
      const started = Date.now();
      if (start !== '') client.write(start);
      await until(() => client.closed, 'the proxy to close the connection', 3000);
      const tookMs = Date.now() - started;
      assert.equal(client.received, 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n');
      assert.ok(tookMs >= 250 && tookMs < 1500, `closed after ${tookMs} ms`);
    }
    assert.equal(stats.report(monotonicNow()).requestCount, 0);
  });

  it('Upgrade: h2c without a body is not performed: the request reaches the app as HTTP/1.1, without Upgrade, and the connection closes', async () => {
    const client = await RawClient.connect(proxy.port);
    client.write('GET /up HTTP/1.1\r\nHost: a.example\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\nX-Id: up\r\n\r\n');
    await until(() => client.closed, 'the connection to close');
    assert.match(client.received, /^HTTP\/1\.1 200 OK\r\n/);
    const seen = JSON.parse(client.received.slice(client.received.indexOf('\r\n\r\n') + 4)) as { version: string; id: string; host: string; upgrade?: string };
    assert.deepEqual([seen.version, seen.id, seen.host, seen.upgrade], ['1.1', 'up', 'a.example', undefined]);

    await until(() => stats.inFlight === 0, 'the requests to end');
  });

  it('with upstreamProtocol http1, HTTP/2 requests reach the app over HTTP/1.1 with their method, target, authority and body', async () => {
    const http1 = await trackedProxy(app.port, { upstreamProtocol: 'http1' });
    const session = connect(http1.proxy.url);
    try {
      const body = await new Promise<string>((resolve, reject) => {
        const stream = session.request({ ':method': 'PUT', ':path': '/over/h1?x=1', ':authority': 'svc.example', 'x-id': 'p1' });
        let text = '';
        stream.setEncoding('utf8');
        stream.on('data', (c: string) => (text += c));
        stream.on('end', () => resolve(text));
        stream.on('error', reject);
        stream.end('12345');
      });
      assert.deepEqual(JSON.parse(body), { version: '1.1', id: 'p1', host: 'svc.example', method: 'PUT', url: '/over/h1?x=1', length: 5 });
      await until(() => http1.stats.inFlight === 0, 'the stream to end');
      assert.equal(http1.stats.report(monotonicNow()).requestCount, 1);
    } finally {
      session.close();
      await http1.proxy.close(0);
    }
  });
});

describe('the HTTP/1.1 server it takes over', () => {
  it("must be new: one 'connection' listener, Node's own; one with another listener is refused at construction", () => {
    const fresh = createHttp1Server();
    assert.equal(fresh.listenerCount('connection'), 1);
    const router = new ConnectionRouter(fresh, createHttp2Server(), 1000);
    assert.equal(typeof router.http1Listener, 'function');
    const used = createHttp1Server().on('connection', () => {});
    assert.throws(() => new ConnectionRouter(used, createHttp2Server(), 1000), /needs a new node:http server \(one 'connection' listener, Node's own\), got 2/);
  });
});
