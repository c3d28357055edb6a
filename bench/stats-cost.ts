import type { Benchmark, Row } from './benchmark.js';
import { freePort } from './child.js';
import type { CompareOptions, TargetResult } from './compare.js';
import { describeMeasured } from './measure-targets.js';
import { cliKind, measureProxies, statsOffKind } from './proxies.js';
import { formatSmall } from './table.js';

/** wrk -t1 -c32, fifteen rotated 2 s runs per target after a 1 s warm-up: enough rounds for quartiles. */
const LOAD: CompareOptions = { rounds: 15, durationSeconds: 2, connections: 32, warmupSeconds: 1 };
const GOAL_STATS_RATIO = 0.97;

/** The per-round req/s ratios of two targets, sorted. */
function roundRatios(numerator: TargetResult, denominator: TargetResult): number[] {
  return numerator.runs.map((run, round) => run.requestsPerSecond / denominator.runs[round]!.requestsPerSecond).sort((a, b) => a - b);
}

/** A ratio row: the median of per-round ratios, with the quartiles in the result column. */
function quartileRow(subject: string, ratios: readonly number[], goal?: number): Row {
  const at = (fraction: number): number => ratios[Math.round(fraction * (ratios.length - 1))]!;
  const row: Row = {
    subject: `${subject} (req/s, median of ${ratios.length} per-round ratios)`,
    result: `quartiles ${formatSmall(at(0.25))}–${formatSmall(at(0.75))}`,
    ratio: at(0.5),
  };
  return goal === undefined ? row : { ...row, goal: `>= ${goal.toFixed(2)}`, met: at(0.5) >= goal };
}

/**
 * `stats-cost`: what the statistics cost a proxied request. Our CLI (stats
 * on, /metrics scraped once a second) against our proxy without a tracker,
 * over fifteen rotated rounds, beside a second, identical stats-off proxy:
 * the ratio of the two identical ones is this machine's noise floor, the
 * spread any stats-on ratio must be read against.
 */
export const statsCost: Benchmark = {
  description: 'CLI with stats on vs the same proxy with stats off, with an identical stats-off copy as noise floor',
  async run(): Promise<Row[]> {
    const metricsPort = await freePort();
    const kinds = [cliKind(metricsPort), statsOffKind(), statsOffKind(' (second copy)')];
    const { proxies, peakCounted } = await measureProxies(kinds, LOAD, `http://127.0.0.1:${metricsPort}/metrics`);
    const [statsOn, statsOff, statsOffCopy] = proxies;
    return [
      ...kinds.map((kind, index) => ({ subject: kind.subject, result: describeMeasured(proxies[index]!) })),
      { subject: 'stats on: its own peak queue_requests_per_second', result: formatSmall(peakCounted) },
      quartileRow('stats on ÷ stats off', roundRatios(statsOn!.load, statsOff!.load), GOAL_STATS_RATIO),
      quartileRow('noise floor: stats off (second copy) ÷ stats off', roundRatios(statsOffCopy!.load, statsOff!.load)),
      { subject: 'stats on ÷ stats off (CPU µs/req over all rounds)', ratio: statsOn!.cpuUsPerRequest / statsOff!.cpuUsPerRequest },
      { subject: 'noise floor: second copy ÷ stats off (CPU µs/req over all rounds)', ratio: statsOffCopy!.cpuUsPerRequest / statsOff!.cpuUsPerRequest },
    ];
  },
};
