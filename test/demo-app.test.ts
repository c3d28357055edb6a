import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { ConfigError, PortInUseError } from '../src/core/errors.js';
import { MAX_SLEEP_MS, startDemoApp, type DemoApp } from '../src/cli/demo-app.js';
import { monotonicNow } from '../src/core/clock.js';
import { get, until } from './helpers/http.js';

describe('demo app', () => {
  let app: DemoApp;
  before(async () => {
    app = await startDemoApp({ port: 0, host: '127.0.0.1' });
  });
  after(() => app.close());

  it('echoes method and path without the query', async () => {
    assert.equal(app.url, `http://127.0.0.1:${app.port}`);
    assert.deepEqual(await get(app.port, '/some/path?x=1'), { status: 200, body: 'GET /some/path\nslept 0 ms\n' });
  });

  it('answers after ?sleep milliseconds', async () => {
    const started = monotonicNow();
    const reply = await get(app.port, '/work?sleep=250');
    const elapsedMs = monotonicNow() - started;
    assert.deepEqual(reply, { status: 200, body: 'GET /work\nslept 250 ms\n' });
    assert.ok(elapsedMs >= 250 && elapsedMs < 2000, `answered after ${elapsedMs} ms`);
  });

  it('answers any method, reading the body', async () => {
    const reply = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const client = request({ host: '127.0.0.1', port: app.port, method: 'POST', path: '/submit' }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      client.on('error', reject);
      client.end('payload');
    });
    assert.deepEqual(reply, { status: 200, body: 'POST /submit\nslept 0 ms\n' });
  });

  it('rejects a bad sleep with 400', async () => {
    for (const sleep of ['-1', 'abc', '1.5', '', String(MAX_SLEEP_MS + 1), '1e3']) {
      const reply = await get(app.port, `/?sleep=${sleep}`);
      assert.equal(reply.status, 400, `sleep=${sleep}`);
      assert.equal(reply.body, `sleep must be an integer from 0 to ${MAX_SLEEP_MS} (milliseconds), got ${sleep}\n`);
    }
  });
});

describe('startDemoApp', () => {
  it('rejects a bad port with ConfigError and a taken one with PortInUseError', async () => {
    await assert.rejects(startDemoApp({ port: -1 }), (error: unknown) => error instanceof ConfigError && error.field === 'port');
    const first = await startDemoApp({ port: 0, host: '127.0.0.1' });
    try {
      await assert.rejects(startDemoApp({ port: first.port, host: '127.0.0.1' }), PortInUseError);
    } finally {
      await first.close();
    }
  });

  it('close() cuts a pending sleep at once', async () => {
    const app = await startDemoApp({ port: 0, host: '127.0.0.1' });
    let failed = false;
    const client = request({ host: '127.0.0.1', port: app.port, path: '/?sleep=10000' });
    client.on('error', () => (failed = true));
    client.end();
    await new Promise((resolve) => client.once('socket', (socket) => socket.once('connect', resolve)));
    const started = monotonicNow();
    await app.close();
    assert.ok(monotonicNow() - started < 1000);
    await until(() => failed, 'the cut request');
  });
});
