import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { describe, it } from 'node:test';
import type { ReadinessProbeSpec } from '../src/core/readiness-probe.js';
import { ReadinessProber } from '../src/proxy/readiness-prober.js';
import { freePort, serve } from './helpers/http.js';

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
