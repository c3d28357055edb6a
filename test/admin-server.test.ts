import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { monotonicNow } from '../src/core/clock.js';
import { PortInUseError } from '../src/core/errors.js';
import { startAdminServer } from '../src/proxy/admin/admin-server.js';
import { get, serve } from './helpers/http.js';
import { trackedProxy } from './helpers/proxy.js';

const TEST_TIMEOUT_MS = 15_000;
const PROBE = { 'K-Network-Probe': 'queue' };

async function setUp(drainQuietPeriodMs: number, terminating: () => boolean) {
  const app = await serve((_req, res) => res.end('app'));
  const { proxy } = await trackedProxy(app.port, { drainQuietPeriodMs });
  const admin = await startAdminServer({ drainer: proxy.drainer, terminating, port: 0, host: '127.0.0.1' });
  return {
    proxy,
    admin,
    close: async () => {
      await proxy.close(0);
      await admin.close();
      await app.close();
    },
  };
}

describe('GET /wait-for-drain', () => {
  it('while terminating: starts the drain itself and answers 200 once the quiet period has passed', { timeout: TEST_TIMEOUT_MS }, async () => {
    const env = await setUp(600, () => true);
    try {
      const started = monotonicNow();
      let answeredAt = 0;
      const waiting = get(env.admin.port, '/wait-for-drain').then((reply) => ((answeredAt = monotonicNow()), reply));
      await new Promise((r) => setTimeout(r, 100));
      assert.equal((await get(env.proxy.port, '/', PROBE)).status, 503);
      assert.equal(answeredAt, 0);
      assert.deepEqual(await waiting, { status: 200, body: '' });
      assert.ok(answeredAt - started >= 590, `answered after ${(answeredAt - started).toFixed(0)} ms`);
    } finally {
      await env.close();
    }
  });

  it('when no SIGTERM follows within 1 s (the app alone restarts): resets the drain and answers 200', { timeout: TEST_TIMEOUT_MS }, async () => {
    const env = await setUp(10_000, () => false);
    try {
      const started = monotonicNow();
      const waiting = get(env.admin.port, '/wait-for-drain?x=1');
      await new Promise((r) => setTimeout(r, 100));
      assert.equal((await get(env.proxy.port, '/', PROBE)).status, 503);
      assert.deepEqual(await waiting, { status: 200, body: '' });
      const elapsed = monotonicNow() - started;
      assert.ok(elapsed >= 990 && elapsed < 3000, `answered after ${elapsed.toFixed(0)} ms`);
      assert.deepEqual(await get(env.proxy.port, '/', PROBE), { status: 200, body: 'queue' });
    } finally {
      await env.close();
    }
  });

  it('answers 404 elsewhere, and a taken port is reported as such', { timeout: TEST_TIMEOUT_MS }, async () => {
    const env = await setUp(10_000, () => true);
    try {
      assert.deepEqual(await get(env.admin.port, '/'), { status: 404, body: 'not found\n' });
      assert.equal(env.proxy.drainer.draining, false);
      await assert.rejects(
        startAdminServer({ drainer: env.proxy.drainer, terminating: () => true, port: env.admin.port, host: '127.0.0.1' }),
        (error: unknown) => error instanceof PortInUseError && error.message === `admin server: port ${env.admin.port} on 127.0.0.1 is already in use`,
      );
    } finally {
      await env.close();
    }
  });
});
