import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { createServer as createH2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { parseReadinessProbe, type ReadinessProbeSpec } from '../src/core/readiness-probe.js';
import { ReadinessProber } from '../src/proxy/admin/readiness-prober.js';
import { boundPorts, startCli } from './helpers/cli.js';
import { startHealthServer, type HealthServer, type ServingStatus } from './helpers/grpc-health.js';
import { freePort, get, serve } from './helpers/http.js';

const TEST_TIMEOUT_MS = 15_000;

function httpProbe(periodMs: number, successThreshold = 1, headers: [string, string][] = []): ReadinessProbeSpec {
  return { action: { kind: 'httpGet', host: undefined, port: undefined, path: '/healthz', headers }, periodMs, timeoutMs: 1000, successThreshold };
}

/**
 * Runs `test` against an app that answers its n-th request (from 0) with
 * `statuses[n]`, or the last one, and records what it saw; closes it after.
 */
async function withScriptedApp(statuses: number[], test: (app: { port: number; seen: { url: string; headers: IncomingHttpHeaders }[] }) => Promise<void>): Promise<void> {
  const seen: { url: string; headers: IncomingHttpHeaders }[] = [];
  const app = await serve((req, res) => {
    seen.push({ url: req.url ?? '', headers: req.headers });
    res.writeHead(statuses[Math.min(seen.length - 1, statuses.length - 1)]!).end();
  });
  try {
    await test({ port: app.port, seen });
  } finally {
    await app.close();
  }
}

describe('aggressive readiness (periodSeconds 0)', () => {
  it('is ready about 100 ms after the app starts listening, polling every 50 ms until then', { timeout: TEST_TIMEOUT_MS }, async () => {
    const port = await freePort();
    const prober = new ReadinessProber(httpProbe(0), { host: '127.0.0.1', port });
    const ready = prober.check();
    await new Promise((r) => setTimeout(r, 300));
    let opened = 0;
    const app = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => app.listen(port, '127.0.0.1', resolve));
    opened = performance.now();
    try {
      assert.equal(await ready, true);
      const lag = performance.now() - opened;
      // 50 ms between attempts plus one request; the rest is slack for a loaded 2-core machine.
      assert.ok(lag < 200, `ready ${lag.toFixed(0)} ms after the port opened`);
    } finally {
      app.closeAllConnections();
      await new Promise((r) => app.close(r));
    }
  });

  it('needs successThreshold successes in a row; a failure starts the count again', { timeout: TEST_TIMEOUT_MS }, async () => {
    await withScriptedApp([200, 500, 200, 302, 200, 200], async (app) => {
      assert.equal(await new ReadinessProber(httpProbe(0, 3), { host: '127.0.0.1', port: app.port }).check(), true);
      assert.equal(app.seen.length, 5);
    });
  });

  it('answers not ready once the poll timeout has passed without enough successes', { timeout: TEST_TIMEOUT_MS }, async () => {
    await withScriptedApp([503], async (app) => {
      const prober = new ReadinessProber(httpProbe(0), { host: '127.0.0.1', port: app.port }, { retryIntervalMs: 50, attemptTimeoutMs: 100, pollTimeoutMs: 300 });
      const started = performance.now();
      assert.equal(await prober.check(), false);
      const elapsed = performance.now() - started;
      assert.ok(elapsed >= 250 && elapsed < 1000, `gave up after ${elapsed.toFixed(0)} ms`);
      assert.ok(app.seen.length >= 5 && app.seen.length <= 7, `${app.seen.length} attempts`);
    });
  });

  it('shares one run between concurrent callers, and a later call starts a new one', { timeout: TEST_TIMEOUT_MS }, async () => {
    await withScriptedApp([200], async (app) => {
      const prober = new ReadinessProber(httpProbe(0), { host: '127.0.0.1', port: app.port });
      const [first, second] = [prober.check(), prober.check()];
      assert.equal(first, second);
      assert.deepEqual(await Promise.all([first, second]), [true, true]);
      assert.equal(app.seen.length, 1);
      assert.equal(await prober.check(), true);
      assert.equal(app.seen.length, 2);
    });
  });

  it('runs a tcpSocket probe as a TCP connect', { timeout: TEST_TIMEOUT_MS }, async () => {
    await withScriptedApp([200], async (app) => {
      const spec: ReadinessProbeSpec = { action: { kind: 'tcpSocket', host: '127.0.0.1', port: app.port }, periodMs: 0, timeoutMs: 1000, successThreshold: 1 };
      assert.equal(await new ReadinessProber(spec, { host: '127.0.0.1', port: await freePort() }).check(), true);
      assert.equal(app.seen.length, 0);
    });
  });
});

describe('periodic readiness (periodSeconds > 0)', () => {
  it('makes one attempt per check: a 500 is not ready at once, a 302 is ready', { timeout: TEST_TIMEOUT_MS }, async () => {
    await withScriptedApp([500, 302], async (app) => {
      const prober = new ReadinessProber(httpProbe(10_000, 3), { host: '127.0.0.1', port: app.port });
      assert.equal(await prober.check(), false);
      assert.equal(app.seen.length, 1);
      assert.equal(await prober.check(), true);
      assert.equal(app.seen.length, 2);
    });
  });

  it("sends the probe's path and headers with Knative's kubelet-style User-Agent", { timeout: TEST_TIMEOUT_MS }, async () => {
    await withScriptedApp([200], async (app) => {
      await new ReadinessProber(httpProbe(1000, 1, [['X-Probe', 'yes']]), { host: '127.0.0.1', port: app.port }).check();
      const [{ url, headers }] = app.seen as [{ url: string; headers: IncomingHttpHeaders }];
      assert.equal(url, '/healthz');
      assert.deepEqual([headers['user-agent'], headers['x-probe'], headers.host, headers.connection], ['kube-probe//', 'yes', `127.0.0.1:${app.port}`, 'close']);
    });
  });
});

function grpcProbe(periodMs: number, service = '', port?: number): ReadinessProbeSpec {
  return { action: { kind: 'grpc', port, service }, periodMs, timeoutMs: 1000, successThreshold: 1 };
}

/** Runs `test` against a grpc-js health server answering `statuses`; closes it after. */
async function withHealthServer(statuses: Record<string, ServingStatus>, test: (server: HealthServer) => Promise<void>): Promise<void> {
  const server = await startHealthServer(statuses);
  try {
    await test(server);
  } finally {
    await server.close();
  }
}

describe('gRPC readiness (grpc.health.v1.Health/Check against a grpc-js server)', () => {
  it('is ready when the server is SERVING, not ready when NOT_SERVING, one call per periodic check', { timeout: TEST_TIMEOUT_MS }, async () => {
    await withHealthServer({ '': 'SERVING' }, async (server) => {
      const prober = new ReadinessProber(grpcProbe(1000), { host: '127.0.0.1', port: server.port });
      assert.equal(await prober.check(), true);
      server.statuses.set('', 'NOT_SERVING');
      assert.equal(await prober.check(), false);
      server.statuses.set('', 'UNKNOWN');
      assert.equal(await prober.check(), false);
      server.statuses.set('', 'SERVICE_UNKNOWN');
      assert.equal(await prober.check(), false);
      assert.equal(server.calls.length, 4);
    });
  });

  it("sends the probe's service, the kubelet-style User-Agent and the attempt's timeout as the deadline", { timeout: TEST_TIMEOUT_MS }, async () => {
    await withHealthServer({ 'shop.Cart': 'SERVING' }, async (server) => {
      assert.equal(await new ReadinessProber(grpcProbe(1000, 'shop.Cart'), { host: '127.0.0.1', port: server.port }).check(), true);
      const [call] = server.calls as [{ service: string; userAgent: string; deadlineMs: number }];
      assert.equal(call.service, 'shop.Cart');
      assert.equal(call.userAgent, 'kube-probe//');
      assert.ok(call.deadlineMs > 500 && call.deadlineMs <= 1000, `deadline ${call.deadlineMs} ms away`);
    });
  });

  it('is not ready for a service the server does not know (NOT_FOUND), nor when the server has no health service (UNIMPLEMENTED)', { timeout: TEST_TIMEOUT_MS }, async () => {
    await withHealthServer({ '': 'SERVING' }, async (server) => {
      assert.equal(await new ReadinessProber(grpcProbe(1000, 'other.Service'), { host: '127.0.0.1', port: server.port }).check(), false);
      assert.deepEqual(
        server.calls.map(({ service }) => service),
        ['other.Service'],
      );
    });
    const bare = await startHealthServer({}, 0, false);
    try {
      assert.equal(await new ReadinessProber(grpcProbe(1000), { host: '127.0.0.1', port: bare.port }).check(), false);
    } finally {
      await bare.close();
    }
  });

  it("calls the upstream's port when the probe's port is 0, and the probe's own port otherwise", { timeout: TEST_TIMEOUT_MS }, async () => {
    await withHealthServer({ '': 'SERVING' }, async (server) => {
      const portZero = parseReadinessProbe('{"grpc":{"port":0},"periodSeconds":1}', 'SERVING_READINESS_PROBE');
      assert.equal(await new ReadinessProber(portZero, { host: '127.0.0.1', port: server.port }).check(), true);
      const ownPort = parseReadinessProbe(`{"grpc":{"port":${server.port}},"periodSeconds":1}`, 'SERVING_READINESS_PROBE');
      assert.equal(await new ReadinessProber(ownPort, { host: '127.0.0.1', port: await freePort() }).check(), true);
      assert.equal(server.calls.length, 2);
    });
  });

  it('is not ready at once on a refused port, and not ready from a plain h2c server that answers without grpc-status', { timeout: TEST_TIMEOUT_MS }, async () => {
    const refused = new ReadinessProber(grpcProbe(1000), { host: '127.0.0.1', port: await freePort() });
    const started = performance.now();
    assert.equal(await refused.check(), false);
    const elapsed = performance.now() - started;
    assert.ok(elapsed < 500, `answered after ${elapsed.toFixed(0)} ms`);

    const h2 = createH2Server((_req, res) => res.writeHead(200, { 'content-type': 'application/grpc' }).end());
    await new Promise<void>((resolve) => h2.listen(0, '127.0.0.1', resolve));
    try {
      assert.equal(await new ReadinessProber(grpcProbe(1000), { host: '127.0.0.1', port: (h2.address() as AddressInfo).port }).check(), false);
    } finally {
      await new Promise((r) => h2.close(r));
    }
  });

  it('is not ready when the server does not answer within the timeout', { timeout: TEST_TIMEOUT_MS }, async () => {
    const h2 = createH2Server(() => undefined);
    await new Promise<void>((resolve) => h2.listen(0, '127.0.0.1', resolve));
    try {
      const prober = new ReadinessProber(grpcProbe(0), { host: '127.0.0.1', port: (h2.address() as AddressInfo).port }, { retryIntervalMs: 50, attemptTimeoutMs: 100, pollTimeoutMs: 300 });
      const started = performance.now();
      assert.equal(await prober.check(), false);
      const elapsed = performance.now() - started;
      assert.ok(elapsed >= 250 && elapsed < 1000, `gave up after ${elapsed.toFixed(0)} ms`);
    } finally {
      await new Promise((r) => h2.close(r));
    }
  });

  it('aggressive: ready about 100 ms after the server switches from NOT_SERVING to SERVING', { timeout: TEST_TIMEOUT_MS }, async () => {
    await withHealthServer({ '': 'NOT_SERVING' }, async (server) => {
      const prober = new ReadinessProber(grpcProbe(0), { host: '127.0.0.1', port: server.port });
      const ready = prober.check();
      await new Promise((r) => setTimeout(r, 300));
      const attemptsBefore = server.calls.length;
      server.statuses.set('', 'SERVING');
      const switched = performance.now();
      assert.equal(await ready, true);
      const lag = performance.now() - switched;
      // 50 ms between attempts plus one call; the rest is slack for a loaded 2-core machine.
      assert.ok(lag < 200, `ready ${lag.toFixed(0)} ms after the switch`);
      assert.ok(attemptsBefore >= 4 && attemptsBefore <= 7, `${attemptsBefore} attempts in the first 300 ms`);
    });
  });
});

describe('gRPC readiness through the CLI', () => {
  it('answers K-Network-Probe (HTTP/1.1 on the serving port) 200 while the grpc-js server is SERVING, 503 once NOT_SERVING', { timeout: TEST_TIMEOUT_MS }, async () => {
    await withHealthServer({ 'shop.Cart': 'SERVING' }, async (server) => {
      const args = ['--upstream', `http://127.0.0.1:${server.port}`, '--host', '127.0.0.1'];
      const names = ['--namespace', 'ns', '--config', 'cfg', '--revision', 'cfg-00001', '--pod', 'cfg-00001-pod'];
      const cli = await startCli([...args, ...names], { SERVING_READINESS_PROBE: '{"grpc":{"port":0,"service":"shop.Cart"},"periodSeconds":1}' });
      try {
        const proxyPort = boundPorts(cli).proxy;
        assert.deepEqual(await get(proxyPort, '/', { 'K-Network-Probe': 'queue' }), { status: 200, body: 'queue' });
        server.statuses.set('shop.Cart', 'NOT_SERVING');
        assert.deepEqual(await get(proxyPort, '/', { 'K-Network-Probe': 'queue' }), { status: 503, body: 'upstream not ready\n' });
        assert.deepEqual(
          server.calls.map(({ service }) => service),
          ['shop.Cart', 'shop.Cart'],
        );
      } finally {
        cli.kill();
        await cli.exited;
      }
    });
  });
});
