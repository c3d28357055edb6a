import type { Benchmark, Row } from './benchmark.js';
import { freePort } from './child.js';
import type { CompareOptions } from './compare.js';
import { describeMeasured, megabytes, type Measured } from './measure-targets.js';
import { nginxVersion, NGINX_PATH } from './nginx.js';
import { cliKind, measureProxies, nginxKind, statsOffKind } from './proxies.js';
import { cpuRatioRow, ratioRow } from './ratio-rows.js';
import { formatCount } from './table.js';

/** wrk -t1 -c32, eleven rotated 2 s runs per target after a 1 s warm-up: the nginx ratio moves by ±0.1 between runs with seven. */
const LOAD: CompareOptions = { rounds: 11, durationSeconds: 2, connections: 32, warmupSeconds: 1 };
const GOAL_NGINX_RATIO = 0.6;
/** Peak RSS goal of the CLI process, in MB (10^6 bytes). */
const GOAL_RSS_MB = 80;

/** The nginx rows, or one `n/a` row when nginx is not installed. */
function nginxRows(statsOn: Measured, statsOff: Measured, direct: Measured, nginxOne: Measured | undefined, nginxAuto: Measured | undefined): Row[] {
  if (nginxOne === undefined || nginxAuto === undefined) {
    return [
      { subject: 'nginx, worker_processes 1 and auto', result: `n/a (${NGINX_PATH} not installed)` },
      { subject: 'stats on ÷ nginx 1 worker', result: 'n/a', goal: `>= ${GOAL_NGINX_RATIO.toFixed(2)}` },
    ];
  }
  return [
    ratioRow('stats on ÷ nginx 1 worker', statsOn.load, nginxOne.load, GOAL_NGINX_RATIO),
    ratioRow('stats off ÷ nginx 1 worker', statsOff.load, nginxOne.load),
    ratioRow('stats on ÷ nginx auto workers', statsOn.load, nginxAuto.load),
    ratioRow('nginx 1 worker ÷ direct', nginxOne.load, direct.load),
    cpuRatioRow('stats on ÷ nginx 1 worker', statsOn, nginxOne),
  ];
}

/**
 * `proxy`: a hello-world node:http app loaded directly and through four
 * reverse proxies, each in its own process: our CLI with stats on (its
 * /metrics scraped once a second), our proxy with stats off, and nginx with
 * one worker and with one per CPU. The CPU time and peak RSS of every
 * server process are read from /proc. The cost of the stats alone is
 * measured more finely by `stats-cost`.
 */
export const proxy: Benchmark = {
  description: 'hello-world app req/s direct vs through our proxy (stats on/off) vs nginx, and the CLI peak RSS',
  async run(): Promise<Row[]> {
    const version = nginxVersion();
    const metricsPort = await freePort();
    const kinds = [cliKind(metricsPort), statsOffKind(), ...(version === undefined ? [] : [nginxKind(version, 1), nginxKind(version, 'auto')])];
    const { direct, proxies, peakCounted } = await measureProxies(kinds, LOAD, `http://127.0.0.1:${metricsPort}/metrics`);
    const [statsOn, statsOff, nginxOne, nginxAuto] = proxies as [Measured, Measured, Measured?, Measured?];
    const rows: Row[] = [{ subject: 'direct: hello world, plain node:http', result: describeMeasured(direct) }];
    kinds.forEach((kind, index) => {
      const counted = index === 0 ? `, its own peak queue_requests_per_second ${formatCount(peakCounted)}` : '';
      rows.push({ subject: kind.subject, result: `${describeMeasured(proxies[index]!)}${counted}` });
    });
    rows.push(
      // Separate processes measured in turn: this moves by ±10 % between runs; `stats-cost` measures the stats finely.
      ratioRow('stats on ÷ stats off', statsOn.load, statsOff.load),
      ratioRow('stats on ÷ direct', statsOn.load, direct.load),
      ratioRow('stats off ÷ direct', statsOff.load, direct.load),
      ...nginxRows(statsOn, statsOff, direct, nginxOne, nginxAuto),
      {
        subject: 'stats on: peak RSS of the CLI process (VmHWM)',
        result: megabytes(statsOn.peakRssBytes),
        goal: `<= ${GOAL_RSS_MB} MB`,
        met: statsOn.peakRssBytes <= GOAL_RSS_MB * 1e6,
      },
    );
    return rows;
  },
};
