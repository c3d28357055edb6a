import assert from 'node:assert/strict';
import { request as httpsRequest, Agent } from 'node:https';
import { connect as connectH2, createServer as createH2Server, type ClientHttp2Session, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect as connectTcp, type AddressInfo } from 'node:net';
import { connect as connectTls, type TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { monotonicNow } from '../src/core/clock.js';
import { CertificateError } from '../src/core/errors.js';
import type { CertificateReload } from '../src/proxy/tls/certificate-watcher.js';
import { grpcClient, list, startGrpcApp, unary, type Note } from './helpers/grpc.js';
import { boundPorts, messages, startCli } from './helpers/cli.js';
import { until } from './helpers/http.js';
import { proxyPair, trackedProxy } from './helpers/proxy.js';
import { curl, fingerprint, makeCertificate, SecretVolume, type CertificatePem } from './helpers/tls.js';

/** The SHA-256 fingerprint of the certificate a fresh TLS connection to `port` is shown. */
function servedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connectTls({ port, host: '127.0.0.1', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.destroy();
    });
    socket.on('error', reject);
  });
}

/** One request over an https keep-alive `agent`: status, body, and whether it went on an earlier connection. */
function httpsCall(port: number, agent: Agent, path = '/', method = 'GET', body = ''): Promise<{ status: number; body: string; reused: boolean; fingerprint: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port, path, method, agent, rejectUnauthorized: false }, (res) => {
      const served = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, reused: req.reusedSocket, fingerprint: served }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** One stream on an HTTP/2 session: status and body. */
function h2Call(session: ClientHttp2Session, path = '/', headers: Record<string, string> = {}, body = ''): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': body === '' ? 'GET' : 'POST', ':path': path, ...headers }, { endStream: body === '' });
    let status = 0;
    let text = '';
    stream.setEncoding('utf8');
    stream.on('response', (h: IncomingHttpHeaders) => (status = Number(h[':status'])));
    stream.on('data', (c: string) => (text += c));
    stream.on('end', () => resolve({ status, body: text }));
    stream.on('error', reject);
    if (body !== '') stream.end(body);
  });
}

/** An HTTP/1.1 app that answers with the protocol it was asked in, the method, the target, `X-Forwarded-Proto` and the body. */
const echo = (request: IncomingMessage, response: ServerResponse): void => {
  let body = '';
  request.setEncoding('utf8');
  request.on('data', (c: string) => (body += c));
  request.on('end', () => response.end(`${request.httpVersion} ${request.method} ${request.url} ${String(request.headers['x-forwarded-proto'])} ${body}`));
};

/** An h2c app answering each stream with its method, path and body. */
async function h2cApp(): Promise<{ port: number; close: () => void }> {
  const app = createH2Server();
  app.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
    let body = '';
    stream.setEncoding('utf8');
    stream.on('data', (c: string) => (body += c));
    stream.on('end', () => {
      stream.respond({ ':status': 200 });
      stream.end(`h2 ${String(headers[':method'])} ${String(headers[':path'])} ${String(headers['x-forwarded-proto'])} ${body}`);
    });
  });
  await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
  return { port: (app.address() as AddressInfo).port, close: () => app.close() };
}

describe('the TLS port: HTTP/1.1 and HTTP/2 chosen by ALPN, the plain port exchange', () => {
  let volume: SecretVolume;
  before(() => (volume = SecretVolume.create()));
  after(() => volume.remove());

  it('curl over HTTP/1.1 and over HTTP/2 gets the app answer, with X-Forwarded-Proto https; each request is counted once', async () => {
    // upstreamProtocol http1: the HTTP/2 stream reaches this HTTP/1.1 app over HTTP/1.1 too.
    const pair = await proxyPair(echo, { upstreamProtocol: 'http1', tls: volume.options() });
    try {
      const port = pair.proxy.tls!.port;
      assert.equal(pair.proxy.tls!.url, `https://127.0.0.1:${port}`);
      pair.stats.report(monotonicNow());
      const h1 = await curl(['--http1.1', '-w', '|%{http_version}', `https://127.0.0.1:${port}/one?x=1`]);
      assert.deepEqual(h1, { code: 0, out: '1.1 GET /one?x=1 https |1.1' });
      const h2 = await curl(['--http2', '-w', '|%{http_version}', '-d', 'hello', `https://127.0.0.1:${port}/two`]);
      assert.deepEqual(h2, { code: 0, out: '1.1 POST /two https hello|2' });
      await until(() => pair.stats.inFlight === 0, 'in flight to return to 0');
      assert.equal(pair.stats.report(monotonicNow()).requestCount, 2);
    } finally {
      await pair.close();
    }
  });

  it("Node's https client (keep-alive) and http2 client; an HTTP/2 stream goes to an h2c app over h2c, as on the plain port", async () => {
    const app = await h2cApp();
    const { stats, proxy } = await trackedProxy(app.port, { upstreamProtocol: 'auto', tls: volume.options() });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const session = connectH2(proxy.tls!.url, { rejectUnauthorized: false });
    try {
      stats.report(monotonicNow());
      assert.deepEqual(await h2Call(session, '/a', {}, 'body-a'), { status: 200, body: 'h2 POST /a https body-a' });
      assert.equal(session.alpnProtocol, 'h2');
      // upstreamProtocol auto: an HTTP/1.1 request reaches the app over HTTP/1.1, which this h2c app does not speak.
      const first = await httpsCall(proxy.tls!.port, agent, '/b');
      assert.equal(first.status, 502);
      await until(() => stats.inFlight === 0, 'in flight to return to 0');
      assert.equal(stats.report(monotonicNow()).requestCount, 2);
    } finally {
      session.close();
      agent.destroy();
      await proxy.close(0);
      app.close();
    }
  });

  it('network probes are answered on the TLS port; after drain() they answer 503, and close stops the TLS port', async () => {
    const pair = await proxyPair(echo, { upstreamProtocol: 'http1', drainQuietPeriodMs: 0, tls: volume.options() });
    const port = pair.proxy.tls!.port;
    const probe = ['-H', 'K-Network-Probe: queue', '-w', '|%{http_code}', `https://127.0.0.1:${port}/`];
    try {
      assert.deepEqual(await curl(['--http1.1', ...probe]), { code: 0, out: 'queue|200' });
      assert.deepEqual(await curl(['--http2', ...probe]), { code: 0, out: 'queue|200' });
      pair.proxy.drainer.drain().catch(() => {});
      assert.deepEqual(await curl(['--http2', ...probe]), { code: 0, out: 'shutting down\n|503' });
      await pair.proxy.drain();
      // Nothing listens any more: curl cannot connect (7).
      assert.equal((await curl([`https://127.0.0.1:${port}/`])).code, 7);
    } finally {
      await pair.close();
    }
  });

  it('the breaker and the revision timeout hold over TLS: a full queue answers 503, a slow app 504', async () => {
    const held: ServerResponse[] = [];
    const pair = await proxyPair((_request, response) => held.push(response), {
      upstreamProtocol: 'http1',
      containerConcurrency: 1,
      maxQueueDepth: 1,
      timeoutMs: 1500,
      tls: volume.options(),
    });
    const session = connectH2(pair.proxy.tls!.url, { rejectUnauthorized: false });
    try {
      const atApp = h2Call(session, '/held');
      await until(() => held.length === 1, 'the first request at the app');
      const queued = h2Call(session, '/queued');
      await until(() => pair.proxy.breaker!.queueDepth === 1, 'the second request in the queue');
      assert.deepEqual(await curl(['--http1.1', '-w', '|%{http_code}', `https://127.0.0.1:${pair.proxy.tls!.port}/refused`]), {
        code: 0,
        out: 'pending request queue full\n|503',
      });
      // Neither is answered: both run into the revision timeout (the queued one counted from its arrival).
      assert.equal((await atApp).status, 504);
      assert.equal((await queued).status, 504);
    } finally {
      session.close();
      for (const response of held) response.destroy();
      await pair.close();
    }
  });

  it('gRPC over TLS (@grpc/grpc-js, verifying the certificate): unary and server-streaming calls reach an h2c gRPC app', async () => {
    const pem = makeCertificate();
    const mounted = SecretVolume.create(pem);
    const app = await startGrpcApp({
      Unary: (call: { request: Note }, callback: (error: null, value: Note) => void) => callback(null, { text: `echo ${call.request.text}` }),
      List: (call: { request: Note; write(note: Note): void; end(): void }) => {
        for (let i = 0; i < 3; i++) call.write({ text: `${call.request.text} ${i}` });
        call.end();
      },
    });
    const { stats, proxy } = await trackedProxy(app.port, { tls: mounted.options() });
    const client = grpcClient(proxy.tls!.port, pem.cert);
    try {
      stats.report(monotonicNow());
      assert.deepEqual(await unary(client, { text: 'hi' }), { text: 'echo hi' });
      const notes: string[] = [];
      await new Promise<void>((resolve, reject) => {
        const call = list(client, { text: 'n' });
        call.on('data', (note: Note) => notes.push(note.text));
        call.on('end', resolve);
        call.on('error', reject);
      });
      assert.deepEqual(notes, ['n 0', 'n 1', 'n 2']);
      await until(() => stats.inFlight === 0, 'in flight to return to 0');
      assert.equal(stats.report(monotonicNow()).requestCount, 2);
    } finally {
      client.close();
      await proxy.close(0);
      app.close();
      mounted.remove();
    }
  });

  it('TLS 1.2 is refused by default, as knative/pkg sets its minimum to 1.3; minVersion 1.2 accepts it', async () => {
    const strict = await proxyPair(echo, { tls: volume.options() });
    const lenient = await proxyPair(echo, { tls: volume.options({ minVersion: '1.2' }) });
    try {
      const tls12 = ['--http1.1', '--tlsv1.2', '--tls-max', '1.2', '-w', '|%{http_code}'];
      assert.equal((await curl([...tls12, `https://127.0.0.1:${strict.proxy.tls!.port}/`])).code, 35, 'a handshake failure');
      assert.deepEqual(await curl([...tls12, `https://127.0.0.1:${lenient.proxy.tls!.port}/`]), { code: 0, out: '1.1 GET / https |200' });
    } finally {
      await strict.close();
      await lenient.close();
    }
  });

  it('a connection that never finishes its handshake is closed at headersTimeoutMs', async () => {
    const pair = await proxyPair(echo, { headersTimeoutMs: 300, tls: volume.options() });
    try {
      const socket = connectTcp(pair.proxy.tls!.port, '127.0.0.1');
      socket.on('error', () => {});
      const started = performance.now();
      await new Promise((resolve) => socket.once('close', resolve));
      const elapsed = performance.now() - started;
      assert.ok(elapsed >= 250 && elapsed < 3000, `closed after ${Math.round(elapsed)} ms`);
    } finally {
      await pair.close();
    }
  });
});

describe('certificate rotation', () => {
  it('the CLI reloads a rotated secret volume and says so in one line; a bad pair after it is refused in one line, the good one still serving', async () => {
    const first = makeCertificate();
    const second = makeCertificate();
    const volume = SecretVolume.create(first);
    const cli = await startCli(['--tls-cert', volume.certFile, '--tls-key', volume.keyFile]);
    try {
      const port = boundPorts(cli).tls!;
      volume.write(second);
      await until(() => cli.output().includes('TLS certificate reloaded'), 'the reload line');
      assert.match(messages(cli.output()), new RegExp(`^TLS certificate reloaded from ${volume.certFile} and ${volume.keyFile} \\(valid until \\S+\\)$`, 'm'));
      assert.equal(await servedFingerprint(port), fingerprint(second.cert));
      volume.write({ cert: second.cert, key: first.key });
      await until(() => cli.output().includes('reload failed'), 'the failure line');
      assert.ok(
        messages(cli.output())
          .split('\n')
          .includes(`TLS certificate reload failed, the previous certificate keeps serving: tls.keyFile: ${volume.keyFile}: does not match the certificate ${volume.certFile}`),
        cli.output(),
      );
      assert.equal(await servedFingerprint(port), fingerprint(second.cert));
    } finally {
      cli.kill();
      volume.remove();
    }
  });

  /** A proxy on a secret volume whose reloads are collected; `next()` resolves with the next one. */
  async function rotating(first: CertificatePem) {
    const volume = SecretVolume.create(first);
    const reloads: CertificateReload[] = [];
    const pair = await proxyPair(echo, { upstreamProtocol: 'http1', tls: volume.options({ reloadDebounceMs: 20, onReload: (reload) => reloads.push(reload) }) });
    return {
      volume,
      pair,
      port: pair.proxy.tls!.port,
      reloads,
      async next(count: number): Promise<CertificateReload> {
        await until(() => reloads.length >= count, `reload ${count}`);
        return reloads[count - 1]!;
      },
      async close() {
        await pair.close();
        volume.remove();
      },
    };
  }

  it('a pair swapped in as the kubelet does serves new connections; a keep-alive HTTP/1.1 connection and an HTTP/2 session opened before keep working', async () => {
    const first = makeCertificate();
    const second = makeCertificate();
    const env = await rotating(first);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const session = connectH2(`https://127.0.0.1:${env.port}`, { rejectUnauthorized: false });
    try {
      const before = await httpsCall(env.port, agent, '/before');
      assert.equal(before.fingerprint, fingerprint(first.cert));
      assert.equal((await h2Call(session, '/before')).status, 200);
      env.volume.write(second);
      const reload = await env.next(1);
      assert.equal(reload.ok, true);
      assert.equal(env.reloads.length, 1, 'one reload for one swap');
      assert.equal(await servedFingerprint(env.port), fingerprint(second.cert), 'a new connection sees the new certificate');
      const after = await httpsCall(env.port, agent, '/after');
      assert.deepEqual({ status: after.status, reused: after.reused, fingerprint: after.fingerprint }, { status: 200, reused: true, fingerprint: fingerprint(first.cert) });
      assert.deepEqual(await h2Call(session, '/after'), { status: 200, body: '1.1 GET /after https ' });
    } finally {
      session.close();
      agent.destroy();
      await env.close();
    }
  });

  it('a reload that fails (a mismatched pair, then an expired certificate) keeps the serving pair and is reported once each; a good pair after it serves', async () => {
    const first = makeCertificate();
    const other = makeCertificate();
    const env = await rotating(first);
    try {
      env.volume.write({ cert: first.cert, key: other.key });
      const mismatched = await env.next(1);
      assert.equal(mismatched.ok, false);
      const error = (mismatched as { error: Error }).error;
      assert.ok(error instanceof CertificateError);
      assert.equal(error.field, 'tls.keyFile');
      assert.equal(error.file, env.volume.keyFile);
      assert.equal(error.message, `tls.keyFile: ${env.volume.keyFile}: does not match the certificate ${env.volume.certFile}`);
      assert.equal(await servedFingerprint(env.port), fingerprint(first.cert), 'the old certificate still serves');

      env.volume.write(makeCertificate({ notBefore: new Date('2020-01-01T00:00:00Z'), notAfter: new Date('2020-01-02T00:00:00Z') }));
      const expired = await env.next(2);
      assert.equal(expired.ok, false);
      assert.equal((expired as { error: Error }).error.message, `tls.certFile: ${env.volume.certFile}: expired on 2020-01-02T00:00:00.000Z`);
      assert.equal(await servedFingerprint(env.port), fingerprint(first.cert));

      env.volume.write(other);
      assert.equal((await env.next(3)).ok, true);
      assert.equal(await servedFingerprint(env.port), fingerprint(other.cert));
      assert.equal(env.reloads.length, 3);
    } finally {
      await env.close();
    }
  });
});
