import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request } from 'node:http';
import { connect, createServer as createH2cServer, type ClientHttp2Session } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { RequestKind } from '../src/core/request-kind.js';
import { RequestStats } from '../src/core/stats.js';
import { monotonicNow } from '../src/core/clock.js';
import { RequestTracker } from '../src/tracking/tracker.js';
import { get, serve, until } from './helpers/http.js';

function tracked() {
  const stats = new RequestStats(monotonicNow());
  return { stats, tracker: new RequestTracker(stats) };
}

describe('RequestTracker.wrap', () => {
  it('in-flight is 1 inside the handler and 0 after', async () => {
    const { stats, tracker } = tracked();
    let inside = -1;
    const app = await serve(
      tracker.wrap((_req, res) => {
        inside = stats.inFlight;
        res.end('ok');
      }),
    );
    try {
      assert.deepEqual(await get(app.port), { status: 200, body: 'ok' });
      assert.equal(inside, 1);
      await until(() => stats.inFlight === 0, 'the out-event');
      const report = stats.report(monotonicNow());
      assert.equal(report.requestCount, 1);
      assert.equal(report.proxiedRequestCount, 0);
    } finally {
      await app.close();
    }
  });

  it('an aborted client brings concurrency back to 0, counted once', async () => {
    const { stats, tracker } = tracked();
    let arrived = false;
    const app = await serve(
      tracker.wrap(() => {
        arrived = true; // never answers
      }),
    );
    try {
      const client = request({ host: '127.0.0.1', port: app.port, path: '/' });
      client.on('error', () => {});
      client.end();
      await until(() => arrived, 'the request');
      assert.equal(stats.inFlight, 1);
      client.destroy();
      await until(() => stats.inFlight === 0, 'the abort');
      assert.equal(stats.report(monotonicNow()).requestCount, 1);
    } finally {
      await app.close();
    }
  });

  it('the proxied header counts in both counts and both concurrencies', async () => {
    const { stats, tracker } = tracked();
    const seen: number[] = [];
    const app = await serve(
      tracker.wrap((_req, res) => {
        seen.push(stats.inFlight, stats.proxiedInFlight);
        res.end();
      }),
    );
    try {
      await get(app.port, '/', { 'K-Proxy-Request': 'activator' });
      await get(app.port, '/', { 'k-proxy-request': 'Activator' }); // value must be exactly "activator"
      await until(() => stats.inFlight === 0, 'the out-events');
      assert.deepEqual(seen, [1, 1, 1, 0]);
      assert.equal(stats.proxiedInFlight, 0);
      const report = stats.report(monotonicNow());
      assert.equal(report.requestCount, 2);
      assert.equal(report.proxiedRequestCount, 1);
    } finally {
      await app.close();
    }
  });

  it('probes are served but not counted', async () => {
    const { stats, tracker } = tracked();
    let served = 0;
    const app = await serve(
      tracker.wrap((_req, res) => {
        served++;
        res.end();
      }),
    );
    try {
      await get(app.port, '/', { 'K-Network-Probe': 'queue' });
      await get(app.port, '/', { 'User-Agent': 'kube-probe/1.29' });
      await get(app.port, '/', { 'K-Kubelet-Probe': 'queue' });
      assert.equal(served, 3);
      assert.equal(stats.inFlight, 0);
      assert.equal(stats.report(monotonicNow()).requestCount, 0);
    } finally {
      await app.close();
    }
  });
});

describe('RequestTracker.middleware', () => {
  it('tracks and calls next, Connect-style', async () => {
    const { stats, tracker } = tracked();
    let kind: RequestKind | undefined;
    const app = await serve((req, res) => {
      tracker.middleware(req, res, () => {
        kind = stats.inFlight === 1 ? RequestKind.Direct : undefined;
        res.end('next');
      });
    });
    try {
      assert.equal((await get(app.port)).body, 'next');
      assert.equal(kind, RequestKind.Direct);
      await until(() => stats.inFlight === 0, 'the out-event');
      assert.equal(stats.report(monotonicNow()).requestCount, 1);
    } finally {
      await app.close();
    }
  });
});

describe('RequestTracker.trackStream', () => {
  it("tracks the streams of a node:http2 server by hand, from its 'stream' event or its compatibility API, until each closes", async () => {
    const { stats, tracker } = tracked();
    const inside: number[] = [];
    const onStream = createH2cServer();
    onStream.on('stream', (stream, _headers, _flags, rawHeaders) => {
      tracker.trackStream(rawHeaders, stream);
      inside.push(stats.inFlight);
      stream.respond({ ':status': 200 });
      stream.end('ok');
    });
    const compat = createH2cServer((req, res) => {
      tracker.trackStream(req.rawHeaders, req.stream);
      inside.push(stats.inFlight);
      res.end('ok');
    });
    const sessions: ClientHttp2Session[] = [];
    try {
      for (const server of [onStream, compat]) {
        server.listen(0, '127.0.0.1');
        await once(server, 'listening');
        const session = connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
        sessions.push(session);
        for (const headers of [{}, { 'k-proxy-request': 'activator' }, { 'user-agent': 'kube-probe/1.30' }]) {
          const stream = session.request({ ':path': '/', ...headers }).resume();
          stream.end();
          await once(stream, 'close');
          await until(() => stats.inFlight === 0, 'the out-event');
        }
      }
      assert.deepEqual(inside, [1, 1, 0, 1, 1, 0]);
      const report = stats.report(monotonicNow());
      assert.deepEqual([report.requestCount, report.proxiedRequestCount], [4, 2]);
    } finally {
      for (const session of sessions) session.close();
      onStream.close();
      compat.close();
    }
  });
});
