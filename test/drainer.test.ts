import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { monotonicNow } from '../src/core/clock.js';
import { parseReadinessProbe } from '../src/core/readiness-probe.js';
import type { Socket } from 'node:net';
import { get, serve, until } from './helpers/http.js';
import { RawClient, requestHead } from './helpers/raw.js';
import { trackedProxy } from './helpers/proxy.js';

const TEST_TIMEOUT_MS = 15_000;
const PROBE = { 'K-Network-Probe': 'queue' };
const KUBELET = { 'User-Agent': 'kube-probe/1.30' };

describe('ProxyServer.drain', () => {
  it('fails probes with 503 while still proxying; each request restarts the quiet period; then the proxy closes', { timeout: TEST_TIMEOUT_MS }, async () => {
    let forwarded = 0;
    const app = await serve((_req, res) => {
      forwarded++;
      res.end('app');
    });
    const { stats, proxy } = await trackedProxy(app.port, { drainQuietPeriodMs: 400, drainTimeoutMs: 5000 });
    try {
      assert.equal((await get(proxy.port, '/', PROBE)).status, 200);
      const started = monotonicNow();
      let drained = 0;
      const draining = proxy.drain().then(() => (drained = monotonicNow()));
      assert.equal(proxy.drain(), proxy.drain());
      assert.deepEqual(await get(proxy.port, '/', PROBE), { status: 503, body: 'shutting down\n' });
      assert.deepEqual(await get(proxy.port, '/healthz', KUBELET), { status: 503, body: 'shutting down\n' });
      assert.equal(forwarded, 0);
      await new Promise((r) => setTimeout(r, 250));
      const last = monotonicNow();
      assert.deepEqual(await get(proxy.port, '/'), { status: 200, body: 'app' });
      await draining;
      assert.ok(drained - last >= 390, `drained ${(drained - last).toFixed(0)} ms after the last request (quiet period 400 ms)`);
      assert.ok(drained - started < 2000, `drained ${(drained - started).toFixed(0)} ms after it started`);
      await assert.rejects(get(proxy.port, '/'), { code: 'ECONNREFUSED' });
      assert.equal(stats.report(monotonicNow()).requestCount, 1);
    } finally {
      await proxy.close(0);
      await app.close();
    }
  });

  it('after the quiet period, cuts requests in flight at drainTimeoutMs and open tunnels at upgradeDrainTimeoutMs', { timeout: TEST_TIMEOUT_MS }, async () => {
    // The app never answers /hang, and echoes in tunnels.
    const app = await serve(() => {});
    app.server.on('upgrade', (_req, socket: Socket) => {
      socket.on('error', () => {});
      socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
      socket.pipe(socket);
    });
    const { proxy } = await trackedProxy(app.port, { drainQuietPeriodMs: 100, drainTimeoutMs: 300, upgradeDrainTimeoutMs: 1200 });
    try {
      const tunnel = await RawClient.connect(proxy.port);
      tunnel.write(
        requestHead('GET', '/ws', [
          ['Host', 'x'],
          ['Connection', 'Upgrade'],
          ['Upgrade', 'websocket'],
        ]),
      );
      await until(() => tunnel.received.includes('\r\n\r\n'), 'the tunnel');
      const hanging = await RawClient.connect(proxy.port);
      hanging.write(requestHead('GET', '/hang', [['Host', 'x']]));
      const started = monotonicNow();
      const closedAt = { hanging: 0, tunnel: 0 };
      const drained = proxy.drain();
      await until(() => hanging.closed, 'the request in flight to be cut', 5000);
      closedAt.hanging = monotonicNow() - started;
      tunnel.write('still open');
      await until(() => tunnel.received.endsWith('still open'), 'the tunnel to echo after the requests were cut');
      await until(() => tunnel.closed, 'the tunnel to be cut', 5000);
      closedAt.tunnel = monotonicNow() - started;
      await drained;
      // Quiet period 100 ms, then 300 ms for the request and 1200 ms for the tunnel, both from the close.
      assert.ok(closedAt.hanging >= 390 && closedAt.hanging < 1100, `request cut after ${closedAt.hanging.toFixed(0)} ms`);
      assert.ok(closedAt.tunnel >= 1290 && closedAt.tunnel < 2500, `tunnel cut after ${closedAt.tunnel.toFixed(0)} ms`);
    } finally {
      await proxy.close(0);
      await app.close();
    }
  });

  it('ends at drainTimeoutMs even while requests keep arriving', { timeout: TEST_TIMEOUT_MS }, async () => {
    const app = await serve((_req, res) => res.end('app'));
    const { proxy } = await trackedProxy(app.port, { drainQuietPeriodMs: 300, drainTimeoutMs: 600 });
    try {
      const started = monotonicNow();
      let done = false;
      const draining = proxy.drainer.drain().then(() => (done = true));
      while (!done) {
        assert.equal((await get(proxy.port, '/')).status, 200);
        await new Promise((r) => setTimeout(r, 50));
      }
      await draining;
      const elapsed = monotonicNow() - started;
      assert.ok(elapsed >= 590 && elapsed < 1500, `quiet period ended after ${elapsed.toFixed(0)} ms`);
    } finally {
      await proxy.close(0);
      await app.close();
    }
  });

  it('reset() ends a running quiet period at once and lets probes pass again', { timeout: TEST_TIMEOUT_MS }, async () => {
    const app = await serve((_req, res) => res.end('app'));
    const { proxy } = await trackedProxy(app.port, { drainQuietPeriodMs: 10_000 });
    try {
      const draining = proxy.drainer.drain();
      assert.equal(proxy.drainer.draining, true);
      assert.equal((await get(proxy.port, '/', PROBE)).status, 503);
      proxy.drainer.reset();
      await draining;
      assert.equal(proxy.drainer.draining, false);
      assert.deepEqual(await get(proxy.port, '/', PROBE), { status: 200, body: 'queue' });
      assert.deepEqual(await get(proxy.port, '/healthz', KUBELET), { status: 200, body: 'app' });
    } finally {
      await proxy.close(0);
    }
    await app.close();
  });
});

describe('the network probe answer with a readiness probe', () => {
  it("comes from the app's HTTP probe, not from a TCP connect", { timeout: TEST_TIMEOUT_MS }, async () => {
    let healthy = false;
    const app = await serve((req, res) => res.writeHead(req.url === '/healthz' && healthy ? 200 : 503).end());
    const readinessProbe = parseReadinessProbe('{"httpGet":{"path":"/healthz"},"periodSeconds":1}', 'SERVING_READINESS_PROBE');
    const { proxy } = await trackedProxy(app.port, { readinessProbe });
    try {
      assert.deepEqual(await get(proxy.port, '/', PROBE), { status: 503, body: 'upstream not ready\n' });
      healthy = true;
      assert.deepEqual(await get(proxy.port, '/', PROBE), { status: 200, body: 'queue' });
    } finally {
      await proxy.close(0);
      await app.close();
    }
  });
});
