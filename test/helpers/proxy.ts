import type { RequestListener } from 'node:http';
import { startProxy, type ProxyOptions, type ProxyServer } from '../../src/proxy/proxy.js';
import { monotonicNow } from '../../src/core/clock.js';
import { RequestStats } from '../../src/core/stats.js';
import { RequestTracker } from '../../src/tracking/tracker.js';
import { serve } from './http.js';

/** A proxy on a free 127.0.0.1 port to the app on 127.0.0.1:`upstreamPort`, counting into fresh stats. */
export async function trackedProxy(upstreamPort: number, options: Partial<ProxyOptions> = {}): Promise<{ stats: RequestStats; proxy: ProxyServer }> {
  const stats = new RequestStats(monotonicNow());
  const proxy = await startProxy({ upstream: `http://127.0.0.1:${upstreamPort}`, port: 0, host: '127.0.0.1', tracker: new RequestTracker(stats), ...options });
  return { stats, proxy };
}

/** An app serving `listener` and a tracked proxy in front of it, both on 127.0.0.1; `close` stops both. */
export async function proxyPair(listener: RequestListener, options: Partial<ProxyOptions> = {}) {
  const app = await serve(listener);
  const { stats, proxy } = await trackedProxy(app.port, options);
  return {
    app,
    stats,
    proxy,
    async close() {
      await proxy.close(0);
      await app.close();
    },
  };
}
