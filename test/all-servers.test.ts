import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { RequestStats } from '../src/core/stats.js';
import { markUntracked } from '../src/http/untracked-server.js';
import { trackAllServers } from '../src/tracking/all-servers.js';
import { RequestTracker } from '../src/tracking/tracker.js';
import { get, serve, until } from './helpers/http.js';
import { RawClient, requestHead } from './helpers/raw.js';

/** The window's request count and the requests in flight, reported at the current time. */
function counts(stats: RequestStats): { requests: number; inFlight: number } {
  const inFlight = stats.inFlight;
  return { requests: stats.report(performance.now()).requestCount, inFlight };
}

describe('trackAllServers', () => {
  const stats = new RequestStats(performance.now());
  const stop = trackAllServers(new RequestTracker(stats));
  after(stop);

  it("counts every server's requests, but not those of a server marked untracked, nor probes", async () => {
    const plain = await serve((_req, res) => res.end('a'));
    const marked = await serve((_req, res) => res.end('b'));
    markUntracked(marked.server);
    try {
      counts(stats);
      assert.equal((await get(plain.port)).status, 200);
      assert.equal((await get(plain.port)).status, 200);
      assert.equal((await get(marked.port)).status, 200);
      assert.equal((await get(plain.port, '/', { 'User-Agent': 'kube-probe/1.30' })).status, 200);
      await until(() => stats.inFlight === 0, 'the responses to close');
      assert.deepEqual(counts(stats), { requests: 2, inFlight: 0 });
    } finally {
      await plain.close();
      await marked.close();
    }
  });

  it('ends a pipelined request still queued when its connection dies, and the one ahead of it, once each', async () => {
    const app = await serve((req, res) => {
      if (req.url !== '/never') res.end('ok');
    });
    try {
      counts(stats);
      const client = await RawClient.connect(app.port);
      client.write(requestHead('GET', '/never', [['Host', 'h']]) + requestHead('GET', '/', [['Host', 'h']]));
      await until(() => stats.inFlight === 2, 'both requests in flight');
      client.destroy();
      await until(() => stats.inFlight === 0, 'both requests ended');
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(counts(stats), { requests: 2, inFlight: 0 });
    } finally {
      await app.close();
    }
  });

  it('stops when told to', async () => {
    const own = new RequestStats(performance.now());
    const stopOwn = trackAllServers(new RequestTracker(own));
    stopOwn();
    const app = await serve((_req, res) => res.end());
    try {
      assert.equal((await get(app.port)).status, 200);
      assert.deepEqual(counts(own), { requests: 0, inFlight: 0 });
    } finally {
      await app.close();
    }
  });
});
