import { MeterProvider } from '@opentelemetry/sdk-metrics';
import type { StatsReport } from '../src/core/stats.js';
import type { Benchmark, Row } from './benchmark.js';
import { benchReporter } from './fixture.js';
import { goReporterAvailable, goReportNsPerOp, GO_REPORTER_PATH } from './go-reporter.js';
import { allocatesNothing, measureLoop, type Loop, type LoopResult } from './measure-loop.js';
import { formatSmall } from './table.js';

const ITERATIONS = 10_000_000;
const GOAL_NS_PER_OP = 100;

function describeLoop(result: LoopResult): string {
  return `${formatSmall(result.nsPerOp)} ns/op, ${result.gcCount} GCs, ${formatSmall(result.bytesPerOp)} B/op`;
}

/**
 * `report`: StatsReporter.report() on a meter from a real MeterProvider,
 * in ns/op with an allocation check, against the floor of writing the same
 * four values into the report object without the call, and beside the Go
 * reference reporter's Report() when /tmp/go-reporter is built.
 */
export const report: Benchmark = {
  description: 'StatsReporter.report() ns/op and allocation vs plain field writes and Go Report()',
  async run(): Promise<Row[]> {
    const meterProvider = new MeterProvider();
    const reporter = benchReporter(meterProvider.getMeter('bench'));
    // The same values as the Go reporter's -bench-report loop.
    const input: StatsReport = { averageConcurrency: 0, averageProxiedConcurrency: 0, requestCount: 0, proxiedRequestCount: 0 };
    const floorLoop: Loop = (iterations) => {
      for (let i = 0; i < iterations; i++) {
        input.averageConcurrency = i % 7;
        input.averageProxiedConcurrency = i % 3;
        input.requestCount = i;
        input.proxiedRequestCount = i >> 1;
      }
    };
    const reportLoop: Loop = (iterations) => {
      for (let i = 0; i < iterations; i++) {
        input.averageConcurrency = i % 7;
        input.averageProxiedConcurrency = i % 3;
        input.requestCount = i;
        input.proxiedRequestCount = i >> 1;
        reporter.report(input);
      }
    };
    try {
      const floor = await measureLoop(floorLoop, { iterations: ITERATIONS });
      const ours = await measureLoop(reportLoop, { iterations: ITERATIONS });
      const rows: Row[] = [
        {
          subject: 'StatsReporter.report()',
          result: describeLoop(ours),
          goal: `< ${GOAL_NS_PER_OP} ns/op, no allocation`,
          met: ours.nsPerOp < GOAL_NS_PER_OP && allocatesNothing(ours),
        },
        { subject: 'floor: the same four field writes, no call', result: describeLoop(floor) },
        { subject: 'report() ÷ floor (time per op)', ratio: ours.nsPerOp / floor.nsPerOp },
      ];
      if (goReporterAvailable()) {
        const goNs = await goReportNsPerOp(ITERATIONS);
        rows.push({ subject: 'Go reference Report() (client_golang)', result: `${formatSmall(goNs)} ns/op` }, { subject: 'report() ÷ Go Report() (time per op)', ratio: ours.nsPerOp / goNs });
      } else {
        rows.push({ subject: 'Go reference Report() (client_golang)', result: `n/a (${GO_REPORTER_PATH} not built)` });
      }
      return rows;
    } finally {
      await meterProvider.shutdown();
    }
  },
};
