import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Agent, request, type IncomingHttpHeaders, type IncomingMessage, type RequestListener } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ConfigError, PortInUseError } from '../src/core/errors.js';
import { startProxy, type ProxyOptions, type ProxyServer } from '../src/proxy/proxy.js';
import { monotonicNow } from '../src/core/clock.js';
import { freePort, serve, until } from './helpers/http.js';
import { proxyPair, trackedProxy } from './helpers/proxy.js';
import { openUpgrade, readUntil, serveUpgrades, upgradeRequest } from './helpers/upgrade.js';

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

interface Send {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  /** Written as separate chunks: without a content-length header the body goes chunked. */
  chunks?: Buffer[];
  /** Default: a fresh connection, closed after the answer. */
  agent?: Agent;
}

/** One request to 127.0.0.1:port; resolves with the whole answer. */
function send(port: number, { method = 'GET', path = '/', headers = {}, chunks = [], agent }: Send = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const client = request({ host: '127.0.0.1', port, method, path, headers, agent: agent ?? false }, (res) => {
      const body: Buffer[] = [];
      res.on('data', (chunk: Buffer) => body.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(body) }));
      res.on('error', reject);
    });
    client.on('error', reject);
    for (const chunk of chunks) client.write(chunk);
    client.end();
  });
}

const pair = proxyPair;

/** Echoes the request line and headers as JSON, followed by nothing else. */
const echoRequest: RequestListener = (req, res) => {
  const body: Buffer[] = [];
  req.on('data', (chunk: Buffer) => body.push(chunk));
  req.on('end', () => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(body).toString() }));
  });
};

interface Echo {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

describe('forwarding', () => {
  let env: Awaited<ReturnType<typeof pair>>;
  before(async () => {
    env = await pair((req, res) => {
      if (req.url?.startsWith('/status/')) {
        res.statusCode = Number(req.url.slice('/status/'.length));
        res.end();
      } else if (req.url === '/hop') {
        res.writeHead(200, {
          'x-resp': 'R',
          connection: 'x-drop-me',
          'x-drop-me': '1',
          'keep-alive': 'timeout=99',
          'proxy-authenticate': 'Basic',
          upgrade: 'h2c',
        });
        res.end('hop');
      } else if (req.method === 'HEAD') {
        res.writeHead(200, { 'content-length': '1234', 'x-head': 'yes' });
        res.end();
      } else if (req.url === '/echo-body') {
        res.writeHead(200, { 'x-request-te': String(req.headers['transfer-encoding']) });
        res.flushHeaders();
        req.pipe(res);
      } else {
        echoRequest(req, res);
      }
    });
  });
  after(() => env.close());

  it('passes method, path, query, body and end-to-end headers, preserving Host', async () => {
    const reply = await send(env.proxy.port, {
      method: 'POST',
      path: '/a/b?x=1&y=%20z',
      headers: { 'content-type': 'text/plain', 'x-custom': 'A', 'content-length': '5' },
      chunks: [Buffer.from('hello')],
    });
    assert.equal(reply.status, 200);
    const echo = JSON.parse(reply.body.toString()) as Echo;
    assert.equal(echo.method, 'POST');
    assert.equal(echo.url, '/a/b?x=1&y=%20z');
    assert.equal(echo.body, 'hello');
    assert.equal(echo.headers['x-custom'], 'A');
    assert.equal(echo.headers['content-type'], 'text/plain');
    assert.equal(echo.headers['content-length'], '5');
    assert.equal(echo.headers.host, `127.0.0.1:${env.proxy.port}`);
  });

  it('drops hop-by-hop request headers and those named in Connection', async () => {
    const reply = await send(env.proxy.port, {
      method: 'POST',
      // Chunked, so that Node's client accepts a Trailer header.
      chunks: [Buffer.from('body')],
      headers: {
        connection: 'keep-alive, X-Hop-Req',
        'x-hop-req': '1',
        'keep-alive': 'timeout=300',
        'proxy-connection': 'keep-alive',
        'proxy-authorization': 'Basic eDp5',
        te: 'trailers',
        trailer: 'x-t',
        expect: '100-continue',
        'x-kept': 'yes',
      },
    });
    const { headers } = JSON.parse(reply.body.toString()) as Echo;
    for (const name of ['x-hop-req', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'te', 'trailer', 'expect', 'upgrade']) {
      assert.equal(headers[name], undefined, name);
    }
    assert.equal(headers['x-kept'], 'yes');
    // The proxy's own framing between proxy and app.
    assert.equal(headers.connection, 'keep-alive');
  });

  it('sets X-Forwarded-For and X-Forwarded-Proto', async () => {
    const plain = JSON.parse((await send(env.proxy.port)).body.toString()) as Echo;
    assert.equal(plain.headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(plain.headers['x-forwarded-proto'], 'http');
    const chained = JSON.parse((await send(env.proxy.port, { headers: { 'x-forwarded-for': '10.0.0.1, 10.0.0.2', 'x-forwarded-proto': 'https' } })).body.toString()) as Echo;
    assert.equal(chained.headers['x-forwarded-for'], '10.0.0.1, 10.0.0.2, 127.0.0.1');
    assert.equal(chained.headers['x-forwarded-proto'], 'http');
  });

  it('drops hop-by-hop response headers and those named in Connection', async () => {
    const reply = await send(env.proxy.port, { path: '/hop' });
    assert.equal(reply.status, 200);
    assert.equal(reply.body.toString(), 'hop');
    assert.equal(reply.headers['x-resp'], 'R');
    assert.equal(reply.headers['x-drop-me'], undefined);
    assert.equal(reply.headers['proxy-authenticate'], undefined);
    assert.equal(reply.headers.upgrade, undefined);
    // Framing is the proxy's own: the client asked for a fresh connection per request.
    assert.equal(reply.headers.connection, 'close');
    assert.equal(reply.headers['keep-alive'], undefined);
  });

  it('answers HEAD with the upstream headers and no body', async () => {
    const reply = await send(env.proxy.port, { method: 'HEAD' });
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['content-length'], '1234');
    assert.equal(reply.headers['x-head'], 'yes');
    assert.equal(reply.body.length, 0);
  });

  it('streams chunked bodies both ways, one chunk at a time', async () => {
    const client = request({ host: '127.0.0.1', port: env.proxy.port, method: 'POST', path: '/echo-body', agent: false });
    client.on('error', () => {});
    client.write('one,');
    const res = await new Promise<IncomingMessage>((resolve) => client.once('response', resolve));
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['transfer-encoding'], 'chunked');
    assert.equal(res.headers['x-request-te'], 'chunked');
    let received = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => (received += chunk));
    // Each chunk comes back before the next one is sent: nothing waits for the whole body.
    await until(() => received === 'one,', 'the first chunk');
    client.write('two,');
    await until(() => received === 'one,two,', 'the second chunk');
    client.end('three');
    await new Promise((resolve) => res.once('end', resolve));
    assert.equal(received, 'one,two,three');
  });

  it('streams an 8 MB body up and back unchanged', async () => {
    const chunks = Array.from({ length: 128 }, () => randomBytes(64 * 1024));
    const sent = createHash('sha256');
    for (const chunk of chunks) sent.update(chunk);
    const reply = await send(env.proxy.port, { method: 'PUT', path: '/echo-body', chunks });
    assert.equal(reply.status, 200);
    assert.equal(reply.body.length, 8 * 1024 * 1024);
    assert.equal(createHash('sha256').update(reply.body).digest('hex'), sent.digest('hex'));
  });

  it('preserves status codes', async () => {
    for (const status of [201, 204, 302, 404, 418, 500, 503]) {
      assert.equal((await send(env.proxy.port, { path: `/status/${status}` })).status, status);
    }
  });

  it('counts requests once each and returns to zero in flight', async () => {
    env.stats.report(monotonicNow());
    await send(env.proxy.port);
    await send(env.proxy.port, { headers: { 'k-proxy-request': 'activator' } });
    await until(() => env.stats.inFlight === 0, 'the out-events');
    const report = env.stats.report(monotonicNow());
    assert.equal(report.requestCount, 2);
    assert.equal(report.proxiedRequestCount, 1);
    assert.equal(env.stats.proxiedInFlight, 0);
  });

  it('forwards kubelet probes without counting them', async () => {
    env.stats.report(monotonicNow());
    const reply = await send(env.proxy.port, { path: '/healthz', headers: { 'user-agent': 'kube-probe/1.30' } });
    assert.equal(reply.status, 200);
    const echo = JSON.parse(reply.body.toString()) as Echo;
    assert.equal(echo.url, '/healthz');
    assert.equal(echo.headers['user-agent'], 'kube-probe/1.30');
    assert.equal(env.stats.report(monotonicNow()).requestCount, 0);
  });
});

describe('network probe', () => {
  it('is answered by the proxy: 200 "queue" when the upstream accepts connections, never forwarded or counted', async () => {
    let forwarded = 0;
    const env = await pair((_req, res) => {
      forwarded++;
      res.end('app');
    });
    try {
      const reply = await send(env.proxy.port, { headers: { 'k-network-probe': 'queue' } });
      assert.deepEqual([reply.status, reply.body.toString()], [200, 'queue']);
      const bad = await send(env.proxy.port, { headers: { 'k-network-probe': 'activator' } });
      assert.deepEqual([bad.status, bad.body.toString()], [400, 'unexpected probe header value: activator\n']);
      assert.equal(forwarded, 0);
      assert.equal(env.stats.report(monotonicNow()).requestCount, 0);
    } finally {
      await env.close();
    }
  });

  it('answers 503 when the upstream refuses connections', async () => {
    const { stats, proxy } = await trackedProxy(await freePort());
    try {
      assert.equal((await send(proxy.port, { headers: { 'k-network-probe': 'queue' } })).status, 503);
      assert.equal(stats.report(monotonicNow()).requestCount, 0);
    } finally {
      await proxy.close(0);
    }
  });
});

describe('upstream failures', () => {
  it('answers 502 with a short plain body when the upstream is down, counted once', async () => {
    const { stats, proxy } = await trackedProxy(await freePort());
    try {
      const reply = await send(proxy.port, { method: 'POST', headers: { 'content-length': '3' }, chunks: [Buffer.from('abc')] });
      assert.equal(reply.status, 502);
      assert.equal(reply.headers['content-type'], 'text/plain; charset=utf-8');
      assert.equal(reply.body.toString(), 'upstream unavailable\n');
      await until(() => stats.inFlight === 0, 'the out-event');
      assert.equal(stats.report(monotonicNow()).requestCount, 1);
    } finally {
      await proxy.close(0);
    }
  });

  it('answers 504 when no response headers arrive within timeoutMs, counted once', async () => {
    let upstreamClosed = false;
    const env = await pair(
      (_req, res) => {
        const timer = setTimeout(() => res.end('late'), 2000);
        res.on('close', () => {
          clearTimeout(timer);
          upstreamClosed = true;
        });
      },
      { timeoutMs: 200 },
    );
    try {
      const started = monotonicNow();
      const reply = await send(env.proxy.port);
      const elapsedMs = monotonicNow() - started;
      assert.equal(reply.status, 504);
      assert.equal(reply.body.toString(), 'upstream timed out\n');
      assert.ok(elapsedMs >= 190 && elapsedMs < 1500, `answered after ${elapsedMs} ms`);
      await until(() => upstreamClosed, 'the upstream request to be abandoned');
      await until(() => env.stats.inFlight === 0, 'the out-event');
      assert.equal(env.stats.report(monotonicNow()).requestCount, 1);
    } finally {
      await env.close();
    }
  });

  it("waits for a slow answer with timeoutMs at 2147483647, the longest delay Node's timers take", async () => {
    // One more and Node would fire the timer after 1 ms: a 504 at once.
    const env = await pair((_req, res) => void setTimeout(() => res.end('late'), 300), { timeoutMs: 2_147_483_647 });
    try {
      const reply = await send(env.proxy.port);
      assert.equal(reply.status, 200);
      assert.equal(reply.body.toString(), 'late');
    } finally {
      await env.close();
    }
  });

  it('cuts the response short when the upstream fails mid-body, counted once', async () => {
    const env = await pair((_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('partial');
      setTimeout(() => res.socket?.destroy(), 50);
    });
    try {
      await assert.rejects(send(env.proxy.port), { code: 'ECONNRESET' });
      await until(() => env.stats.inFlight === 0, 'the out-event');
      assert.equal(env.stats.report(monotonicNow()).requestCount, 1);
    } finally {
      await env.close();
    }
  });

  it('aborts the upstream request when the client goes away, counted once', async () => {
    let arrived = false;
    let upstreamClosed = false;
    const env = await pair((_req, res) => {
      arrived = true;
      res.writeHead(200);
      res.write('partial'); // never ends
      res.on('close', () => (upstreamClosed = true));
    });
    try {
      const client = request({ host: '127.0.0.1', port: env.proxy.port, agent: false });
      client.on('error', () => {});
      client.end();
      await until(() => arrived, 'the upstream request');
      assert.equal(env.stats.inFlight, 1);
      client.destroy();
      await until(() => upstreamClosed, 'the upstream request to close');
      await until(() => env.stats.inFlight === 0, 'the out-event');
      assert.equal(env.stats.report(monotonicNow()).requestCount, 1);
    } finally {
      await env.close();
    }
  });
});

/** An app that answers upgrades with 101 and echoes bytes (test/helpers/upgrade.ts), a tracked proxy in front, and a tunnel open through it. */
async function echoTunnel() {
  const app = await serveUpgrades();
  const { stats, proxy } = await trackedProxy(app.port);
  const tunnel = await openUpgrade(proxy.port);
  return {
    ...tunnel,
    stats,
    proxy,
    seen: app.seen[0]!,
    async close() {
      await proxy.close(0);
      await app.close();
    },
  };
}

describe('upgrade', () => {
  it('tunnels raw bytes both ways and counts the connection as one request while open', async () => {
    const env = await echoTunnel();
    try {
      assert.match(env.handshake, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
      assert.equal(env.seen.url, '/chat?room=1');
      assert.equal(env.seen.headers.connection, 'upgrade');
      assert.equal(env.seen.headers.upgrade, 'websocket');
      assert.equal(env.seen.headers['x-custom'], 'A');
      assert.equal(env.seen.headers['x-forwarded-for'], '127.0.0.1');
      const echoed = readUntil(env.client, 'ping-pong');
      env.client.write('ping-');
      env.client.write('pong');
      await echoed;
      assert.equal(env.stats.inFlight, 1);
      env.client.destroy();
      await until(() => env.stats.inFlight === 0, 'the tunnel to close');
      assert.equal(env.stats.report(monotonicNow()).requestCount, 1);
    } finally {
      await env.close();
    }
  });

  it('is cut by close() at the drain deadline', async () => {
    const env = await echoTunnel();
    try {
      const closed = new Promise((resolve) => env.client.once('close', resolve));
      const started = monotonicNow();
      await env.proxy.close(100);
      assert.ok(monotonicNow() - started < 2000);
      await closed;
      assert.equal(env.stats.inFlight, 0);
    } finally {
      await env.close();
    }
  });

  it('answers 502 on the raw socket when the upstream is down, counted once', async () => {
    const { stats, proxy } = await trackedProxy(await freePort());
    try {
      const client = connect(proxy.port, '127.0.0.1');
      client.on('error', () => {});
      const answer = readUntil(client, 'upstream unavailable\n');
      client.write(upgradeRequest(proxy.port));
      assert.match(await answer, /^HTTP\/1\.1 502 Bad Gateway\r\n/);
      await until(() => stats.inFlight === 0, 'the out-event');
      assert.equal(stats.report(monotonicNow()).requestCount, 1);
    } finally {
      await proxy.close(0);
    }
  });
});

describe('close', () => {
  it('lets an in-flight request finish, then refuses new connections', async () => {
    let arrived = false;
    const env = await pair((_req, res) => {
      arrived = true;
      setTimeout(() => res.end('done'), 300);
    });
    const agent = new Agent({ keepAlive: true });
    try {
      const pending = send(env.proxy.port, { agent });
      await until(() => arrived, 'the upstream request');
      const started = monotonicNow();
      await env.proxy.close(5000);
      // Resolves once the drained keep-alive connection is closed, well before Node's 5 s keep-alive timeout.
      assert.ok(monotonicNow() - started < 2000);
      const reply = await pending;
      assert.deepEqual([reply.status, reply.body.toString()], [200, 'done']);
      assert.equal(reply.headers.connection, 'keep-alive');
      await assert.rejects(send(env.proxy.port), { code: 'ECONNREFUSED' });
      assert.equal(env.stats.inFlight, 0);
    } finally {
      agent.destroy();
      await env.close();
    }
  });

  it('cuts requests still in flight at drainTimeoutMs and aborts them upstream', async () => {
    let arrived = false;
    let upstreamClosed = false;
    const env = await pair((_req, res) => {
      arrived = true;
      res.on('close', () => (upstreamClosed = true)); // never answers
    });
    try {
      const cut = assert.rejects(send(env.proxy.port), { code: 'ECONNRESET' });
      await until(() => arrived, 'the upstream request');
      const started = monotonicNow();
      await env.proxy.close(200);
      assert.ok(monotonicNow() - started < 2000);
      // close() resolves after the out-event.
      assert.equal(env.stats.inFlight, 0);
      await cut;
      await until(() => upstreamClosed, 'the upstream request to close');
    } finally {
      await env.close();
    }
  });
});

describe('startProxy options', () => {
  it('rejects PortInUseError when the port is taken', async () => {
    const app = await serve((_req, res) => res.end());
    try {
      await assert.rejects(startProxy({ upstream: 'http://127.0.0.1:1', port: app.port, host: '127.0.0.1' }), PortInUseError);
    } finally {
      await app.close();
    }
  });

  it('rejects bad options with a ConfigError naming the field', async () => {
    const cases: Array<[Partial<ProxyOptions>, string]> = [
      [{ upstream: 'ftp://127.0.0.1:21' }, 'upstream'],
      [{ upstream: 'http://127.0.0.1:8080/base' }, 'upstream'],
      [{ upstream: 'not a url' }, 'upstream'],
      [{ upstream: 'http://u:p@127.0.0.1:8080' }, 'upstream'],
      [{ upstream: 'http://127.0.0.1:8080?x=1' }, 'upstream'],
      [{ upstream: 'http://127.0.0.1:8080/#top' }, 'upstream'],
      [{ port: 70000 }, 'port'],
      [{ timeoutMs: 0 }, 'timeoutMs'],
      [{ connections: 1.5 }, 'connections'],
      [{ maxConcurrentStreams: 0 }, 'maxConcurrentStreams'],
      [{ maxStreams: -1 }, 'maxStreams'],
      [{ connectionWaitMs: 0 }, 'connectionWaitMs'],
      [{ containerConcurrency: -1 }, 'containerConcurrency'],
      [{ containerConcurrency: 1.5 }, 'containerConcurrency'],
      [{ containerConcurrency: 1, maxQueueDepth: 0 }, 'maxQueueDepth'],
      [{ responseStartTimeoutMs: -1 }, 'responseStartTimeoutMs'],
      [{ responseStartTimeoutMs: 2 ** 31 }, 'responseStartTimeoutMs'],
      [{ idleTimeoutMs: 0.5 }, 'idleTimeoutMs'],
    ];
    for (const [options, field] of cases) {
      await assert.rejects(startProxy({ upstream: 'http://127.0.0.1:8080', port: 0, host: '127.0.0.1', ...options }), (error: unknown) => error instanceof ConfigError && error.field === field, field);
    }
  });

  it('refuses a timeoutMs or drainTimeoutMs past 2147483647 ms, which Node would fire after 1 ms', async () => {
    const tooLong = (field: string) => (error: unknown) =>
      error instanceof ConfigError && error.field === field && error.message === `${field} must be at most 2147483647 ms (the longest delay Node's timers take), got 2147483648`;
    await assert.rejects(startProxy({ upstream: 'http://127.0.0.1:8080', port: 0, host: '127.0.0.1', timeoutMs: 2 ** 31 }), tooLong('timeoutMs'));
    const proxy = await startProxy({ upstream: 'http://127.0.0.1:8080', port: 0, host: '127.0.0.1' });
    try {
      await assert.rejects(proxy.close(2 ** 31), tooLong('drainTimeoutMs'));
    } finally {
      await proxy.close(0);
    }
  });

  it('proxies without a tracker', async () => {
    const app = await serve((_req, res) => res.end('plain'));
    let proxy: ProxyServer | undefined;
    try {
      proxy = await startProxy({ upstream: `http://127.0.0.1:${app.port}/`, port: 0, host: '127.0.0.1' });
      assert.equal(proxy.url, `http://127.0.0.1:${proxy.port}`);
      assert.equal((await send(proxy.port)).body.toString(), 'plain');
      await assert.rejects(proxy.close(-1), (error: unknown) => error instanceof ConfigError && error.field === 'drainTimeoutMs');
    } finally {
      await proxy?.close(0);
      await app.close();
    }
  });
});
