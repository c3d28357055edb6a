import type { Benchmark, Row } from './benchmark.js';
import { nodeEntry, startChildServer, freePort, type ChildServer } from './child.js';
import { pairedRatio, type CompareOptions } from './compare.js';
import { describeMeasured, measureTargets } from './measure-targets.js';
import { SIDECAR_NODE_FLAG } from './proxy.js';

/** wrk -t1 -c32, eight rotated 2 s runs per target after a 1 s warm-up. */
const LOAD: CompareOptions = { rounds: 8, durationSeconds: 2, connections: 32, warmupSeconds: 1 };

/**
 * `v8-tuning`: what src/v8-tuning.ts and `--max-semi-space-size=1` cost and
 * save. The same stats-off proxy, with the CLI's V8 settings and with V8's
 * defaults, in front of one hello-world app: req/s, CPU per request, peak RSS.
 */
export const v8Tuning: Benchmark = {
  description: 'our proxy with the CLI V8 settings vs V8 defaults (req/s, CPU, peak RSS)',
  async run(): Promise<Row[]> {
    const servers: ChildServer[] = [];
    try {
      const appPort = await freePort();
      servers.push(await startChildServer('app', nodeEntry('./serve-app.js', [String(appPort), 'plain']), `http://127.0.0.1:${appPort}/`));
      const upstream = `http://127.0.0.1:${appPort}`;
      const tunedPort = await freePort();
      const tuned = nodeEntry('./serve-proxy.js', [String(tunedPort), upstream]);
      servers.push(await startChildServer('tuned', { command: tuned.command, args: [SIDECAR_NODE_FLAG, ...tuned.args] }, `http://127.0.0.1:${tunedPort}/`));
      const defaultsPort = await freePort();
      servers.push(await startChildServer('v8 defaults', nodeEntry('./serve-proxy.js', [String(defaultsPort), upstream, 'v8-defaults']), `http://127.0.0.1:${defaultsPort}/`));
      const [, withTuning, withDefaults] = await measureTargets(servers, ['direct', 'tuned', 'v8 defaults'], LOAD);
      return [
        { subject: `proxy (stats off), the CLI's V8 settings: ${SIDECAR_NODE_FLAG}, --liftoff-only`, result: describeMeasured(withTuning!) },
        { subject: 'proxy (stats off), V8 defaults', result: describeMeasured(withDefaults!) },
        { subject: 'tuned ÷ defaults (req/s, median of per-round ratios)', ratio: pairedRatio(withTuning!.load, withDefaults!.load) },
        { subject: 'tuned ÷ defaults (CPU µs/req over all rounds)', ratio: withTuning!.cpuUsPerRequest / withDefaults!.cpuUsPerRequest },
        { subject: 'tuned ÷ defaults (peak RSS)', ratio: withTuning!.peakRssBytes / withDefaults!.peakRssBytes },
      ];
    } finally {
      await Promise.all(servers.map((server) => server.stop()));
    }
  },
};
