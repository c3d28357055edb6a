import assert from 'node:assert/strict';
import { request as httpsRequest, Agent } from 'node:https';
import { connect as connectH2, createServer as createH2Server, type ClientHttp2Session, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect as connectTcp, type AddressInfo } from 'node:net';
import { connect as connectTls, getCiphers, type TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { parseCipherSuites, parseCurvePreferences, requireCurvePreferences, type TlsCipherSuite } from '../src/core/checks.js';
import { monotonicNow } from '../src/core/clock.js';
import { TLS12_CIPHER_SUITES, TLS13_CIPHER_SUITES } from '../src/core/defaults.js';
import { CertificateError, ConfigError } from '../src/core/errors.js';
import type { CertificateReload } from '../src/proxy/tls/certificate-watcher.js';
import { requireOpenSslGroup } from '../src/proxy/tls/openssl-groups.js';
import type { ProxyTlsOptions } from '../src/proxy/tls/tls-options.js';
import { grpcClient, list, startGrpcApp, unary, type Note } from './helpers/grpc.js';
import { boundPorts, messages, startCli } from './helpers/cli.js';
import { until } from './helpers/http.js';
import { proxyPair, trackedProxy } from './helpers/proxy.js';
import { curl, fingerprint, handshake, makeCertificate, opensslClient, SecretVolume, type CertificatePem } from './helpers/tls.js';

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

/** A TLS 1.2 client that offers only `cipher` (an OpenSSL name). */
const tls12Only = (cipher: string) => ({ minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers: cipher }) as const;

/** The refusal a client sees when the server has no cipher suite or group in common with it: alert 40. */
const HANDSHAKE_FAILURE = { ok: false, code: 'ERR_SSL_SSL/TLS_ALERT_HANDSHAKE_FAILURE' } as const;

/** Runs `body` with the TLS ports of proxies serving one fresh certificate, one for each of `tls` (extra TLS options), then closes them. */
async function withTlsPorts<T extends ReadonlyArray<Partial<ProxyTlsOptions>>>(tls: T, body: (ports: { -readonly [K in keyof T]: number }) => Promise<void>): Promise<void> {
  const volume = SecretVolume.create();
  const pairs = await Promise.all(tls.map((extra) => proxyPair(echo, { tls: volume.options(extra) })));
  try {
    await body(pairs.map((pair) => pair.proxy.tls!.port) as { -readonly [K in keyof T]: number });
  } finally {
    await Promise.all(pairs.map((pair) => pair.close()));
    volume.remove();
  }
}

/** The Go names of the TLS 1.2 suites. */
const TLS12_NAMES = Object.keys(TLS12_CIPHER_SUITES) as Array<keyof typeof TLS12_CIPHER_SUITES>;

describe('cipher suites and key-exchange groups (QUEUE_PROXY_TLS_CIPHER_SUITES, QUEUE_PROXY_TLS_CURVE_PREFERENCES)', () => {
  it('the lists are parsed as knative/pkg parses them: blanks and empty entries skipped, an unknown name refused naming the field', () => {
    assert.deepEqual(parseCipherSuites('f', ' TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 ,, TLS_AES_128_GCM_SHA256,'), ['TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', 'TLS_AES_128_GCM_SHA256']);
    assert.deepEqual(parseCipherSuites('f', ' , '), []);
    assert.deepEqual(parseCurvePreferences('f', 'CurveP384, X25519,,P-256 ,CurveP521,P-521'), ['CurveP384', 'X25519', 'P-256', 'CurveP521', 'P-521']);
    assert.deepEqual(parseCurvePreferences('f', ''), []);
    const refused = (parse: () => unknown, field: string, message: string): void => {
      assert.throws(parse, (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.deepEqual({ field: error.field, message: error.message }, { field, message });
        return true;
      });
    };
    refused(
      () => parseCipherSuites('f', 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,ECDHE-ECDSA-AES128-GCM-SHA256'),
      'f',
      'f: unknown cipher suite "ECDHE-ECDSA-AES128-GCM-SHA256" (Go\'s crypto/tls names, such as TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)',
    );
    // An insecure suite of Go's (tls.InsecureCipherSuites()) is not in tls.CipherSuites(): knative/pkg refuses it too.
    refused(
      () => parseCipherSuites('f', 'TLS_RSA_WITH_3DES_EDE_CBC_SHA'),
      'f',
      'f: unknown cipher suite "TLS_RSA_WITH_3DES_EDE_CBC_SHA" (Go\'s crypto/tls names, such as TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)',
    );
    refused(() => parseCurvePreferences('g', 'X25519,secp384r1'), 'g', 'g: unknown curve "secp384r1" (one of CurveP256, CurveP384, CurveP521, X25519, X25519MLKEM768, P-256, P-384, P-521)');
    refused(() => requireCurvePreferences('tls.curvePreferences', 'P-256'), 'tls.curvePreferences', 'tls.curvePreferences must be an array of curve names');
    // A group this OpenSSL lacks (BoringSSL's draft hybrid) is refused with the OpenSSL version; both pinned lines bundle OpenSSL 3.5, which has X25519MLKEM768.
    refused(() => requireOpenSslGroup('g', 'X25519Kyber768Draft00'), 'g', `g: X25519Kyber768Draft00 is not supported by this Node's OpenSSL ${process.versions.openssl}`);
    assert.deepEqual(parseCurvePreferences('g', 'X25519MLKEM768'), ['X25519MLKEM768']);
  });

  it("Go's 14 TLS 1.2 suites and 3 TLS 1.3 suites; each TLS 1.2 one has an OpenSSL name this Node knows", () => {
    assert.equal(TLS12_NAMES.length, 14);
    assert.deepEqual([...TLS13_CIPHER_SUITES], ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256']);
    const known = new Set(getCiphers());
    assert.deepEqual(
      Object.values(TLS12_CIPHER_SUITES).filter((name) => !known.has(name.toLowerCase())),
      [],
    );
  });

  it('with all TLS 1.2 suites listed, a TLS 1.2 client offering only one gets it: its OpenSSL name, and its standard name is the Go name (ECDSA and RSA certificates)', async () => {
    const volumes = { 'P-256': SecretVolume.create(makeCertificate()), RSA: SecretVolume.create(makeCertificate({ key: 'RSA' })) };
    const options = { minVersion: '1.2', cipherSuites: TLS12_NAMES } as const;
    const ecdsa = await proxyPair(echo, { tls: volumes['P-256'].options(options) });
    const rsa = await proxyPair(echo, { tls: volumes.RSA.options(options) });
    try {
      for (const suite of TLS12_NAMES) {
        const port = (suite.includes('_ECDSA_') ? ecdsa : rsa).proxy.tls!.port;
        const got = await handshake(port, tls12Only(TLS12_CIPHER_SUITES[suite]));
        assert.deepEqual(
          got.ok && { protocol: got.protocol, cipher: got.cipher, standardName: got.standardName },
          { protocol: 'TLSv1.2', cipher: TLS12_CIPHER_SUITES[suite], standardName: suite },
          suite,
        );
      }
    } finally {
      await ecdsa.close();
      await rsa.close();
      volumes['P-256'].remove();
      volumes.RSA.remove();
    }
  });

  it('TLS 1.2 offers only the listed suites, while every TLS 1.3 suite stays on whatever the list', async () => {
    const tls = [
      { minVersion: '1.2', cipherSuites: ['TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256'] },
      { minVersion: '1.2', cipherSuites: ['TLS_AES_128_GCM_SHA256'] },
      { minVersion: '1.2' },
    ] as const;
    await withTlsPorts(tls, async ([listed, onlyTls13, unset]) => {
      assert.deepEqual(await handshake(listed, tls12Only('ECDHE-ECDSA-CHACHA20-POLY1305')), {
        ok: true,
        protocol: 'TLSv1.2',
        cipher: 'ECDHE-ECDSA-CHACHA20-POLY1305',
        standardName: 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256',
        group: 'X25519',
      });
      // Among Node's default suites, but not listed: refused; the same client gets it from a port with no list.
      assert.deepEqual(await handshake(listed, tls12Only('ECDHE-ECDSA-AES128-GCM-SHA256')), HANDSHAKE_FAILURE);
      assert.equal((await handshake(unset, tls12Only('ECDHE-ECDSA-AES128-GCM-SHA256'))).ok, true);
      // A list of TLS 1.3 names only leaves TLS 1.2 nothing to offer: OpenSSL answers a TLS 1.2 client with protocol_version.
      assert.deepEqual(await handshake(onlyTls13, { maxVersion: 'TLSv1.2' }), { ok: false, code: 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION' });
      for (const suite of TLS13_CIPHER_SUITES) {
        for (const server of [listed, onlyTls13]) {
          const got = await handshake(server, { ciphers: suite });
          assert.deepEqual(got.ok && [got.protocol, got.cipher], ['TLSv1.3', suite], suite);
        }
      }
      // OpenSSL's own client, TLS 1.2 with the listed suite and then with one not listed.
      assert.match((await opensslClient(listed, ['-tls1_2', '-cipher', 'ECDHE-ECDSA-CHACHA20-POLY1305'])).out, /^New, TLSv1\.2, Cipher is ECDHE-ECDSA-CHACHA20-POLY1305$/m);
      const refused = await opensslClient(listed, ['-tls1_2', '-cipher', 'ECDHE-ECDSA-AES256-GCM-SHA384']);
      assert.equal(refused.code, 1);
      assert.match(refused.out, /^New, \(NONE\), Cipher is \(NONE\)$/m);
    });
  });

  it('the groups are exactly those listed: P-384 alone is negotiated with a client offering X25519 and P-384, and refuses one offering X25519 alone', async () => {
    const tls = [{ curvePreferences: ['P-384'] }, { minVersion: '1.2', curvePreferences: ['CurveP521', 'P-384'] }, { curvePreferences: ['X25519MLKEM768'] }] as const;
    await withTlsPorts(tls, async ([port, ordered, mlkem]) => {
      const both = await handshake(port, { ecdhCurve: 'X25519:P-384' });
      assert.deepEqual(both.ok && [both.protocol, both.group], ['TLSv1.3', 'secp384r1']);
      assert.deepEqual(await handshake(port, { ecdhCurve: 'X25519' }), HANDSHAKE_FAILURE);
      // OpenSSL's client (3.0 here) offering X25519 first is asked to retry with P-384.
      assert.match((await opensslClient(port, ['-groups', 'X25519:P-384'])).out, /^Server Temp Key: ECDH, secp384r1, 384 bits$/m);
      // In TLS 1.2 the server picks by the listed order: P-521 over the client's first, P-384 (P-256 is offered for the certificate's key).
      const tls12 = await handshake(ordered, { maxVersion: 'TLSv1.2', ecdhCurve: 'P-384:P-521:P-256' });
      assert.deepEqual(tls12.ok && [tls12.protocol, tls12.group], ['TLSv1.2', 'secp521r1']);
      // The hybrid post-quantum group alone: a client offering only it connects (so it was negotiated), one offering X25519 does not.
      const hybrid = await handshake(mlkem, { ecdhCurve: 'X25519MLKEM768' });
      assert.deepEqual(hybrid.ok && hybrid.protocol, 'TLSv1.3');
      assert.deepEqual(await handshake(mlkem, { ecdhCurve: 'X25519' }), HANDSHAKE_FAILURE);
    });
  });

  it('a reloaded certificate keeps the suites and the groups (setSecureContext replaces them all)', async () => {
    const first = makeCertificate();
    const second = makeCertificate();
    const volume = SecretVolume.create(first);
    const reloads: CertificateReload[] = [];
    const cipherSuites: TlsCipherSuite[] = ['TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384'];
    const tls = volume.options({ minVersion: '1.2', cipherSuites, curvePreferences: ['P-384'], reloadDebounceMs: 20, onReload: (reload) => reloads.push(reload) });
    const pair = await proxyPair(echo, { tls });
    const port = pair.proxy.tls!.port;
    /** What the port negotiates: the listed suite and group, and a refusal of an unlisted suite and of X25519 alone. */
    const negotiated = async () => {
      const listed = await handshake(port, { ...tls12Only('ECDHE-ECDSA-AES256-GCM-SHA384'), ecdhCurve: 'X25519:P-384:P-256' });
      return {
        listed: listed.ok && [listed.cipher, listed.group],
        unlisted: await handshake(port, tls12Only('ECDHE-ECDSA-AES128-GCM-SHA256')),
        x25519: await handshake(port, { ecdhCurve: 'X25519' }),
      };
    };
    const expected = { listed: ['ECDHE-ECDSA-AES256-GCM-SHA384', 'secp384r1'], unlisted: HANDSHAKE_FAILURE, x25519: HANDSHAKE_FAILURE };
    try {
      assert.deepEqual(await negotiated(), expected);
      volume.write(second);
      await until(() => reloads.length === 1, 'the reload');
      assert.equal(reloads[0]!.ok, true);
      assert.equal(await servedFingerprint(port), fingerprint(second.cert));
      assert.deepEqual(await negotiated(), expected);
    } finally {
      await pair.close();
      volume.remove();
    }
  });

  it('the CLI reads both variables and serves with them', async () => {
    const volume = SecretVolume.create();
    const cli = await startCli(['--tls-cert', volume.certFile, '--tls-key', volume.keyFile], {
      QUEUE_PROXY_TLS_MIN_VERSION: '1.2',
      QUEUE_PROXY_TLS_CIPHER_SUITES: 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, TLS_AES_256_GCM_SHA384',
      QUEUE_PROXY_TLS_CURVE_PREFERENCES: 'CurveP521',
    });
    try {
      const port = boundPorts(cli).tls!;
      const listed = await handshake(port, { ...tls12Only('ECDHE-ECDSA-AES128-SHA'), ecdhCurve: 'P-521:P-256' });
      assert.deepEqual(listed.ok && [listed.cipher, listed.group], ['ECDHE-ECDSA-AES128-SHA', 'secp521r1']);
      assert.deepEqual(await handshake(port, tls12Only('ECDHE-ECDSA-AES256-SHA')), HANDSHAKE_FAILURE);
      const tls13 = await handshake(port, { ecdhCurve: 'X25519:P-521' });
      assert.deepEqual(tls13.ok && [tls13.protocol, tls13.group], ['TLSv1.3', 'secp521r1']);
    } finally {
      cli.kill();
      volume.remove();
    }
  });
});
