import type { Benchmark, Row } from './benchmark.js';
import { freePort } from './child.js';
import type { CompareOptions } from './compare.js';
import { GO_QUEUE_PROXY_MISSING, GO_QUEUE_PROXY_SUBJECT, goQueueProxyKind } from './go-queue-proxy.js';
import { describeMeasured, megabytes, type Measured } from './measure-targets.js';
import { nginxVersion, NGINX_PATH } from './nginx.js';
import { cliKind, measureProxies, nginxKind, statsOffKind, type ProxyKind } from './proxies.js';
import { cpuRatioRow, ratioRow } from './ratio-rows.js';
import { formatCount } from './table.js';

/** wrk -t1 -c32, eleven rotated 2 s runs per target after a 1 s warm-up: the nginx ratio moves by ±0.1 between runs with seven. */
const LOAD: CompareOptions = { rounds: 11, durationSeconds: 2, connections: 32, warmupSeconds: 1 };
/** Goal: the CLI's CPU per request at most this share of the Go anchor's (issue 10); 0.6 is the moonshot. */
const GOAL_GO_CPU_RATIO = 0.75;
const MOONSHOT_GO_CPU_RATIO = 0.6;
/** Peak RSS goal of the CLI process, in MB (10^6 bytes). */
const GOAL_RSS_MB = 80;

/** The nginx rows (information only), or one `n/a` row when nginx is not installed. */
function nginxRows(statsOn: Measured, statsOff: Measured, direct: Measured, nginxOne?: Measured, nginxAuto?: Measured): Row[] {
  if (nginxOne === undefined || nginxAuto === undefined) {
    return [{ subject: 'nginx, worker_processes 1 and auto', result: `n/a (${NGINX_PATH} not installed)` }];
  }
  return [
    ratioRow('stats on ÷ nginx 1 worker', statsOn.load, nginxOne.load),
    ratioRow('stats off ÷ nginx 1 worker', statsOff.load, nginxOne.load),
    ratioRow('stats on ÷ nginx auto workers', statsOn.load, nginxAuto.load),
    ratioRow('nginx 1 worker ÷ direct', nginxOne.load, direct.load),
    cpuRatioRow('stats on ÷ nginx 1 worker', statsOn, nginxOne),
  ];
}

/** The Go anchor rows: the CPU goal, and req/s for information; `n/a` rows when the binary is absent. */
function goRows(statsOn: Measured, go?: Measured): Row[] {
  const cpuName = `stats on ÷ Go queue-proxy anchor, moonshot ${MOONSHOT_GO_CPU_RATIO.toFixed(2)}`;
  if (go === undefined) {
    return [
      { subject: GO_QUEUE_PROXY_SUBJECT, result: GO_QUEUE_PROXY_MISSING },
      { subject: `${cpuName} (CPU µs/req over all rounds)`, result: GO_QUEUE_PROXY_MISSING, goal: `<= ${GOAL_GO_CPU_RATIO.toFixed(2)}` },
    ];
  }
  return [cpuRatioRow(cpuName, statsOn, go, GOAL_GO_CPU_RATIO), ratioRow('stats on ÷ Go queue-proxy anchor', statsOn.load, go.load)];
}

/**
 * `proxy`: a hello-world node:http app loaded directly and through up to
 * five reverse proxies, each in its own process: our CLI with stats on (its
 * /metrics scraped once a second), our proxy with stats off, nginx with
 * one worker and with one per CPU, and the Go queue-proxy anchor. The CPU
 * time and peak RSS of every server process are read from /proc. The cost
 * of the stats alone is measured more finely by `stats-cost`.
 */
export const proxy: Benchmark = {
  description: 'hello-world app direct vs through our proxy (stats on/off), nginx and the Go queue-proxy anchor: CPU per request, req/s, CLI peak RSS',
  async run(): Promise<Row[]> {
    const version = nginxVersion();
    const metricsPort = await freePort();
    const [onKind, offKind] = [cliKind(metricsPort), statsOffKind()];
    const nginxKinds = version === undefined ? [] : [nginxKind(version, 1), nginxKind(version, 'auto')];
    const goKind = goQueueProxyKind(await freePort());
    const kinds = [onKind, offKind, ...nginxKinds, ...(goKind === undefined ? [] : [goKind])];
    const { direct, proxies, peakCounted } = await measureProxies(kinds, LOAD, `http://127.0.0.1:${metricsPort}/metrics`);
    const of = (kind?: ProxyKind): Measured | undefined => (kind === undefined ? undefined : proxies[kinds.indexOf(kind)]);
    const statsOn = of(onKind)!;
    const statsOff = of(offKind)!;
    const rows: Row[] = [{ subject: 'direct: hello world, plain node:http', result: describeMeasured(direct) }];
    kinds.forEach((kind, index) => {
      const counted = kind === onKind ? `, its own peak queue_requests_per_second ${formatCount(peakCounted)}` : '';
      rows.push({ subject: kind.subject, result: `${describeMeasured(proxies[index]!)}${counted}` });
    });
    rows.push(
      // Separate processes measured in turn: this moves by ±10 % between runs; `stats-cost` measures the stats finely.
      ratioRow('stats on ÷ stats off', statsOn.load, statsOff.load),
      ratioRow('stats on ÷ direct', statsOn.load, direct.load),
      ratioRow('stats off ÷ direct', statsOff.load, direct.load),
      ...goRows(statsOn, of(goKind)),
      ...nginxRows(statsOn, statsOff, direct, of(nginxKinds[0]), of(nginxKinds[1])),
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
