import { freePort, nodeEntry, startChildServer, type ChildCommand, type ChildServer } from '../lib/child.js';
import { answers200OverH2c, h2loadVersion, runH2load } from '../lib/h2load.js';
import { nginxProxy, nginxVersion, NGINX_PATH } from '../lib/nginx.js';
import { cpuTimeMs, listeningPids, peakRssBytes } from '../lib/proc.js';
import { cliKind, SIDECAR_NODE_FLAG } from '../lib/proxies.js';
import { cpuPerRequest as phaseCpuPerRequest, pairRatios, runSwitched } from '../lib/switched-phases.js';
import { describeRatioSpread, formatCount, formatSmall, megabytes, type Benchmark, type Row } from '../lib/table.js';

/** Rounds, and requests per load per round (`H2_ROUNDS`, `H2_REQUESTS` for a smoke run). */
const ROUNDS = Number(process.env['H2_ROUNDS'] ?? 5);
const REQUESTS = Number(process.env['H2_REQUESTS'] ?? 20_000);
/** Seconds of h2load on the switched proxy that measures the stats' cost (`H2_SWITCHED_SECONDS`). */
const SWITCHED_SECONDS = Number(process.env['H2_SWITCHED_SECONDS'] ?? 20);
/** 32 requests in flight either way: 4 connections of 8 streams over HTTP/2, 32 connections over HTTP/1.1. */
const H2_LOAD = { clients: 4, streams: 8 };
const H1_LOAD = { clients: 32, streams: 1 };
/** Goals: the stats cost at most 3 % on the HTTP/2 path; an HTTP/2 request at most 1.5 times an HTTP/1.1 one's CPU. */
const GOAL_STATS_RATIO = 1.03;
const GOAL_H2_OVER_H1 = 1.5;

/** One load of the rotation: a URL, the protocol, and the processes whose CPU it is charged to. */
interface Load {
  name: string;
  subject: string;
  url: string;
  http1: boolean;
  pids: number[];
  cpuMs: number[];
  requests: number[];
  rates: number[];
  meanMs: number[];
}

const sum = (values: readonly number[]): number => values.reduce((total, value) => total + value, 0);
const median = (values: readonly number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
/** CPU microseconds per request over every round of `load`. */
const cpuPerRequest = (load: Load): number => (sum(load.cpuMs) * 1000) / sum(load.requests);

/**
 * `h2`: the HTTP/2 path with h2load (h2c, prior knowledge), in rotated rounds: the app direct (it serves HTTP/1.1
 * and h2c on one port), the CLI with stats on (HTTP/2 streams to the app over h2c), the same CLI loaded over
 * HTTP/1.1 (the baseline of the HTTP/2 cost), and nginx (h2c in, h2c out through its gRPC module) when installed;
 * CPU per request from /proc over every round of a load. Then the stats' cost on the HTTP/2 path as `stats-cost`
 * measures it on HTTP/1.1: one proxy whose tracker is switched on and off every 250 ms under one h2load run.
 */
export const h2: Benchmark = {
  description: 'HTTP/2 (h2c) through the sidecar with h2load: CPU per request against its HTTP/1.1 path, the stats cost, nginx',
  async run(): Promise<Row[]> {
    const version = await h2loadVersion();
    if (version === undefined) return [{ subject: 'h2load', result: 'n/a (apt-get install -y nghttp2-client)' }];
    const servers: ChildServer[] = [];
    const removals: (() => void)[] = [];
    try {
      const appPort = await freePort();
      const appUrl = `http://127.0.0.1:${appPort}/`;
      servers.push(await startChildServer('app', nodeEntry('serve-app.js', [String(appPort), 'both']), appUrl));
      const cliPort = await freePort();
      const cli = await cliKind(await freePort());
      servers.push(await startChildServer(cli.name, cli.launch(cliPort, appPort).command, `http://127.0.0.1:${cliPort}/`));
      const nginx = nginxVersion();
      let nginxPort: number | undefined;
      if (nginx !== undefined) {
        nginxPort = await freePort();
        const { command, remove } = nginxProxy(nginxPort, appPort, true);
        removals.push(remove);
        servers.push(await startChildServer('nginx', command, `http://127.0.0.1:${nginxPort}/`, answers200OverH2c));
      }
      const load = (name: string, subject: string, port: number, http1 = false): Load => ({
        name,
        subject,
        url: `http://127.0.0.1:${port}/`,
        http1,
        pids: listeningPids(port),
        cpuMs: [],
        requests: [],
        rates: [],
        meanMs: [],
      });
      const loads = [
        load('direct', 'direct h2c: hello world, node:http2 (HTTP/1.1 and h2c on one port)', appPort),
        load('cli-h2', `ours, stats on, h2c in and out: ${cli.subject.replace('ours, stats on: ', '')}`, cliPort),
        load('cli-h1', 'ours, stats on, HTTP/1.1 in and out: the same CLI process', cliPort, true),
        ...(nginxPort === undefined ? [] : [load('nginx', `nginx ${nginx}, worker_processes 1, h2c in, grpc_pass h2c out`, nginxPort)]),
      ];
      // Warm-up: one unmeasured short load each, so every process runs optimised code.
      for (const each of loads) await runH2load({ url: each.url, requests: 2000, ...(each.http1 ? H1_LOAD : H2_LOAD), http1: each.http1 });
      for (let round = 0; round < ROUNDS; round++) {
        const shift = round % loads.length;
        for (const each of [...loads.slice(shift), ...loads.slice(0, shift)]) {
          const before = cpuTimeMs(each.pids);
          const result = await runH2load({ url: each.url, requests: REQUESTS, ...(each.http1 ? H1_LOAD : H2_LOAD), http1: each.http1 });
          each.cpuMs.push(cpuTimeMs(each.pids) - before);
          each.requests.push(result.requests);
          each.rates.push(result.requestsPerSecond);
          each.meanMs.push(result.meanMs);
        }
      }
      const byName = (name: string): Load => loads.find((each) => each.name === name)!;
      const [cliH2, cliH1] = [byName('cli-h2'), byName('cli-h1')];
      const rows: Row[] = loads.map((each) => ({
        subject: each.subject,
        result: `${formatCount(median(each.rates))} req/s (${ROUNDS} rounds of ${formatCount(REQUESTS)}), mean ${formatSmall(median(each.meanMs))} ms, CPU ${formatSmall(cpuPerRequest(each))} µs/req${
          each.name === 'cli-h1' ? '' : `, peak RSS ${megabytes(peakRssBytes(each.pids))}`
        }`,
      }));
      if (nginxPort === undefined) rows.push({ subject: 'nginx, h2c', result: `n/a (${NGINX_PATH} not installed)` });
      const switchedCommand = (port: number, resultsFile: string): ChildCommand => nodeEntry('serve-switched.js', [String(port), `http://127.0.0.1:${appPort}`, resultsFile], [SIDECAR_NODE_FLAG]);
      const h2Load = (url: string, seconds: number): Promise<{ requestsPerSecond: number }> => runH2load({ url, durationSeconds: seconds, ...H2_LOAD });
      const { phases, requestsPerSecond } = await runSwitched('switched proxy', switchedCommand, SWITCHED_SECONDS, { load: h2Load });
      const [tracked, untracked] = [phases.filter((phase) => phase.tracked), phases.filter((phase) => !phase.tracked)];
      const statsRatio = phaseCpuPerRequest(tracked) / phaseCpuPerRequest(untracked);
      const pairs = pairRatios(phases);
      const h2OverH1 = cpuPerRequest(cliH2) / cpuPerRequest(cliH1);
      rows.push(
        {
          subject: `h2c, startProxy switched (h2load -c${H2_LOAD.clients} -m${H2_LOAD.streams} for ${SWITCHED_SECONDS} s, ${formatCount(requestsPerSecond)} req/s): tracker on ÷ off (CPU µs/req over all phases)`,
          result: `on ${formatSmall(phaseCpuPerRequest(tracked))}, off ${formatSmall(phaseCpuPerRequest(untracked))} µs/req; ${describeRatioSpread(pairs, 'adjacent pairs')}`,
          ratio: statsRatio,
          goal: `<= ${GOAL_STATS_RATIO.toFixed(2)}`,
          met: statsRatio <= GOAL_STATS_RATIO,
        },
        {
          subject: 'the CLI: an h2c request ÷ an HTTP/1.1 request (CPU µs/req over all rounds)',
          result: '',
          ratio: h2OverH1,
          goal: `<= ${GOAL_H2_OVER_H1.toFixed(2)}`,
          met: h2OverH1 <= GOAL_H2_OVER_H1,
        },
      );
      return rows;
    } finally {
      await Promise.all(servers.map((server) => server.stop()));
      for (const remove of removals) remove();
    }
  },
};
