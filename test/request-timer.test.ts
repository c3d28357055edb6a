import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { RequestObserver } from '../src/core/request-observer.js';
import type { ProxyServer } from '../src/proxy/proxy.js';
import { get, serve, until } from './helpers/http.js';
import { proxyPair, trackedProxy } from './helpers/proxy.js';
import { exchange, RawClient, requestHead } from './helpers/raw.js';
import { openUpgrade, REFUSAL, serveUpgrades } from './helpers/upgrade.js';

/** An observer that keeps every call. */
function recorder(): RequestObserver & { ended: Array<[number, number]> } {
  const ended: Array<[number, number]> = [];
  return { ended, requestEnded: (statusCode, durationSeconds) => ended.push([statusCode, durationSeconds]) };
}

describe("the proxy's request observer", () => {
  let app: Awaited<ReturnType<typeof serve>>;
  let proxy: ProxyServer;
  let observer: ReturnType<typeof recorder>;
  before(async () => {
    app = await serve((req, res) => {
      if (req.url === '/slow') setTimeout(() => res.end('slow'), 200);
      else if (req.url === '/never') return;
      else if (req.url?.startsWith('/status/')) res.writeHead(Number(req.url.slice(8))).end();
      else res.end('ok');
    });
    observer = recorder();
    ({ proxy } = await trackedProxy(app.port, { observer }));
  });
  after(async () => {
    await proxy.close(0);
    await app.close();
  });

  it('is told each forwarded request once, with its status and its duration in seconds', async () => {
    observer.ended.length = 0;
    assert.equal((await get(proxy.port, '/slow')).status, 200);
    assert.equal((await get(proxy.port, '/status/503')).status, 503);
    assert.equal((await get(proxy.port, '/status/404')).status, 404);
    await until(() => observer.ended.length === 3, 'three ended requests');
    assert.deepEqual(
      observer.ended.map(([status]) => status),
      [200, 503, 404],
    );
    const slow = observer.ended[0]![1];
    assert.ok(slow >= 0.19 && slow < 5, `slow request took ${slow} s`);
    const fast = observer.ended[1]![1];
    assert.ok(fast >= 0 && fast < 0.19, `fast request took ${fast} s`);
  });

  it('leaves out kubelet probes, network probes and OPTIONS *', async () => {
    observer.ended.length = 0;
    assert.equal((await get(proxy.port, '/', { 'user-agent': 'kube-probe/1.31' })).status, 200);
    assert.equal((await get(proxy.port, '/', { 'k-kubelet-probe': 'queue' })).status, 200);
    assert.equal((await get(proxy.port, '/', { 'k-network-probe': 'queue' })).status, 200);
    const options = await exchange(
      proxy.port,
      requestHead('OPTIONS', '*', [
        ['Host', 'h'],
        ['Connection', 'close'],
      ]),
    );
    assert.match(options, /^HTTP\/1\.1 200 /);
    assert.equal((await get(proxy.port, '/after')).status, 200);
    await until(() => observer.ended.length >= 1, 'the request after the probes');
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(
      observer.ended.map(([status]) => status),
      [200],
    );
  });

  it('is told of a request whose client left before any answer, with status 200 as Knative records it', async () => {
    observer.ended.length = 0;
    const client = request({ host: '127.0.0.1', port: proxy.port, path: '/never', agent: false });
    client.on('error', () => {});
    client.end();
    await new Promise((r) => setTimeout(r, 100));
    client.destroy();
    await until(() => observer.ended.length === 1, 'the abandoned request');
    const [status, seconds] = observer.ended[0]!;
    assert.equal(status, 200);
    assert.ok(seconds >= 0.09 && seconds < 5, `abandoned after ${seconds} s`);
  });

  it('is told once of a pipelined request still queued when its connection dies', async () => {
    observer.ended.length = 0;
    const client = await RawClient.connect(proxy.port);
    client.write(requestHead('GET', '/never', [['Host', 'h']]) + requestHead('GET', '/', [['Host', 'h']]));
    await new Promise((r) => setTimeout(r, 100));
    client.destroy();
    await until(() => observer.ended.length === 2, 'both pipelined requests');
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(
      observer.ended.map(([status]) => status),
      [200, 200],
    );
  });

  it('is told of an upgrade once its connection closes: a tunnel as 200 with no bytes, for its whole life; a refusal with its status and bytes', async () => {
    const app = await serveUpgrades();
    const ended: Array<[number, number, number]> = [];
    const upgrades = await trackedProxy(app.port, { observer: { requestEnded: (status, seconds, _request, bytes) => ended.push([status, seconds, bytes]) } });
    try {
      const tunnel = await openUpgrade(upgrades.proxy.port);
      assert.match(tunnel.handshake, /^HTTP\/1\.1 101 /);
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(ended.length, 0);
      tunnel.client.destroy();
      await until(() => ended.length === 1, "the tunnel's end");
      assert.match((await openUpgrade(upgrades.proxy.port, '/refuse')).handshake, /^HTTP\/1\.1 400 /);
      await until(() => ended.length === 2, "the refusal's end");
      assert.deepEqual(
        ended.map(([status, , bytes]) => [status, bytes]),
        [
          [200, 0],
          [400, REFUSAL.length],
        ],
      );
      assert.ok(ended[0]![1] >= 0.19 && ended[0]![1] < 5, `the tunnel took ${ended[0]![1]} s`);
    } finally {
      await upgrades.proxy.close(0);
      await app.close();
    }
  });

  it('is told of the sidecar own answers: 502 when the upstream is gone', async () => {
    const gone = await serve((_req, res) => res.end());
    const port = gone.port;
    await gone.close();
    const dead = recorder();
    const { proxy: deadProxy } = await trackedProxy(port, { observer: dead });
    try {
      assert.equal((await get(deadProxy.port, '/')).status, 502);
      await until(() => dead.ended.length === 1, 'the failed request');
      assert.equal(dead.ended[0]![0], 502);
    } finally {
      await deadProxy.close(0);
    }
  });

  it("with a breaker, times from the slot (as Knative's handler inside its breaker) and leaves out the refused", async () => {
    const limited = recorder();
    const env = await proxyPair((_req, res) => setTimeout(() => res.end('slow'), 200), { containerConcurrency: 1, maxQueueDepth: 1, observer: limited });
    try {
      const answers = await Promise.all([get(env.proxy.port, '/1'), get(env.proxy.port, '/2'), get(env.proxy.port, '/3')]);
      assert.deepEqual(answers.map((a) => a.status).sort(), [200, 200, 503]);
      await until(() => limited.ended.length === 2, 'the two requests that reached the app');
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(
        limited.ended.map(([status]) => status),
        [200, 200],
      );
      // The second waited about 200 ms for the slot; its duration leaves that out.
      for (const [, seconds] of limited.ended) assert.ok(seconds >= 0.19 && seconds < 0.35, `timed ${seconds} s`);
      assert.ok(env.proxy.breaker!.queuedMs >= 150, `waited ${env.proxy.breaker!.queuedMs} ms`);
    } finally {
      await env.close();
    }
  });
});

describe("the proxy's request log hook beside its request metrics", () => {
  it('tells both of one response, each with its own timing, the log with the request and the body bytes; probes only to a log that asks', async () => {
    const app = await serve((_req, res) => setTimeout(() => res.end('slow'), 50));
    const told: Record<string, Array<[number, string | undefined, number]>> = { metrics: [], log: [], probes: [] };
    const into = (name: string): RequestObserver => ({ requestEnded: (status, _seconds, request, bytes) => told[name]!.push([status, request?.url, bytes]) });
    const { proxy } = await trackedProxy(app.port, { observer: into('metrics'), requestLog: into('log') });
    const { proxy: probing } = await trackedProxy(app.port, { requestLog: into('probes'), logProbeRequests: true });
    try {
      assert.equal((await get(proxy.port, '/a')).body, 'slow');
      assert.equal((await get(proxy.port, '/', { 'k-network-probe': 'queue' })).status, 200);
      assert.equal((await get(probing.port, '/p', { 'user-agent': 'kube-probe/1.31' })).body, 'slow');
      await until(() => told['metrics']!.length === 1 && told['log']!.length === 1 && told['probes']!.length === 1, 'one call each');
      assert.deepEqual(told, { metrics: [[200, undefined, 4]], log: [[200, '/a', 4]], probes: [[200, '/p', 4]] });
    } finally {
      await proxy.close(0);
      await probing.close(0);
      await app.close();
    }
  });
});
