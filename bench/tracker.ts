import type { Benchmark, Row } from './benchmark.js';
import { freePort, nodeEntry, startChildServer, type ChildServer } from './child.js';
import { compareTargets, describeResult, pairedRatio, type CompareOptions } from './compare.js';

/** wrk -t1 -c32, seven rotated 2 s runs per app after a 1 s warm-up. */
const LOAD: CompareOptions = { rounds: 7, durationSeconds: 2, connections: 32, warmupSeconds: 1 };
const GOAL_RATIO = 0.97;
const MODES = ['plain', 'tracked'] as const;

/**
 * `tracker`: requests per second of a hello-world node:http app with and
 * without RequestTracker, each in its own child process, loaded in
 * alternating order.
 */
export const tracker: Benchmark = {
  description: 'hello-world app req/s with RequestTracker vs without',
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
      const ratio = pairedRatio(tracked!, plain!);
      return [
        { subject: 'hello world, plain node:http', result: describeResult(plain!, 'req/s') },
        { subject: 'hello world + RequestTracker', result: describeResult(tracked!, 'req/s') },
        { subject: 'tracked ÷ plain (req/s, median of per-round ratios)', ratio, goal: `>= ${GOAL_RATIO.toFixed(2)}`, met: ratio >= GOAL_RATIO },
      ];
    } finally {
      await Promise.all(servers.map((server) => server.stop()));
    }
  },
};
