import type { Benchmark, Row } from './benchmark.js';
import { freePort } from './child.js';
import type { CompareOptions } from './compare.js';
import { describeMeasured } from './measure-targets.js';
import { cliKind, measureProxies, SIDECAR_NODE_FLAG } from './proxies.js';
import { cpuRatioRow, ratioRow } from './ratio-rows.js';

/** wrk -t1 -c32, eight rotated 3 s runs per target after a 1 s warm-up: long enough for V8 to grow its young generation. */
const LOAD: CompareOptions = { rounds: 8, durationSeconds: 3, connections: 32, warmupSeconds: 1 };

/**
 * `young-gen`: what the CLI's V8 flag (a cap on the young generation's
 * semi-spaces) costs and saves. The same CLI, stats on, with the flag and
 * with V8's defaults, in front of one hello-world app: req/s, CPU per
 * request, peak RSS.
 */
export const youngGen: Benchmark = {
  description: `our CLI with ${SIDECAR_NODE_FLAG} vs V8 defaults (req/s, CPU, peak RSS)`,
  async run(): Promise<Row[]> {
    const kinds = [cliKind(await freePort()), cliKind(await freePort(), [])];
    const {
      proxies: [capped, defaults],
    } = await measureProxies(kinds, LOAD);
    return [
      ...kinds.map((kind, index) => ({ subject: kind.subject, result: describeMeasured(index === 0 ? capped! : defaults!) })),
      ratioRow('capped ÷ defaults', capped!.load, defaults!.load),
      cpuRatioRow('capped ÷ defaults', capped!, defaults!),
      { subject: 'capped ÷ defaults (peak RSS)', ratio: capped!.peakRssBytes / defaults!.peakRssBytes },
    ];
  },
};
