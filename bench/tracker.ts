import type { Benchmark, Row } from './benchmark.js';
import { freePort, nodeEntry, startChildServer, type ChildServer } from './child.js';
import { compareTargets, describeResult, pairedRatio, type CompareOptions } from './compare.js';
import { measureSwitched } from './switched.js';

/** wrk -t1 -c32, seven rotated 2 s runs per app after a 1 s warm-up. */
const LOAD: CompareOptions = { rounds: 7, durationSeconds: 2, connections: 32, warmupSeconds: 1 };
const MODES = ['plain', 'tracked'] as const;

/**
 * `tracker`: what RequestTracker costs a hello-world node:http app. The
 * goal is judged in one process whose tracker is switched on and off every
 * 250 ms (bench/switched.ts); two separate apps, plain and tracked, loaded
 * in alternating order, are shown for their req/s, but their ratio moves by
 * more than the goal's margin between runs (BENCHMARKS.md, Noise).
 */
export const tracker: Benchmark = {
  description: 'hello-world app CPU per request with RequestTracker switched on and off, and req/s of plain vs tracked apps',
  async run(): Promise<Row[]> {
    const servers: ChildServer[] = [];
    try {
      for (const mode of MODES) {
        const port = await freePort();
        servers.push(await startChildServer(`${mode} app`, nodeEntry('./serve-app.js', [String(port), mode]), `http://127.0.0.1:${port}/`));
      }
      const [plain, tracked] = await compareTargets(
        MODES.map((mode, index) => ({ name: `${mode} app`, url: servers[index]!.url })),
        LOAD,
      );
      const separate: Row[] = [
        { subject: 'hello world, plain node:http', result: describeResult(plain!, 'req/s') },
        { subject: 'hello world + RequestTracker', result: describeResult(tracked!, 'req/s') },
        { subject: 'separate processes: tracked ÷ plain (req/s, median of per-round ratios)', ratio: pairedRatio(tracked!, plain!) },
      ];
      await Promise.all(servers.splice(0).map((server) => server.stop()));
      return [...separate, ...(await measureSwitched('app'))];
    } finally {
      await Promise.all(servers.map((server) => server.stop()));
    }
  },
};
