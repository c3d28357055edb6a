import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, guarded, isExecutable, nodeEntry, startChildServer, type ChildCommand, type ChildServer } from '../lib/child.js';
import { compareTargets, describeResult, pairedRatio, type CompareOptions } from '../lib/compare.js';
import { nearestRank, runLoad } from '../lib/load.js';
import { cliKind } from '../lib/proxies.js';
import { formatCount, formatSmall, type Benchmark, type Row } from '../lib/table.js';

/** wrk -t1 -c16, seven rotated 2 s runs per server after a 1 s warm-up. */
const LOAD: CompareOptions = { rounds: 7, durationSeconds: 2, connections: 16, warmupSeconds: 1 };
/** The Go reference reporter (client_golang promhttp), built by hand outside this repository as shared/anchors/go-reporter/README.md says. */
const GO_REPORTER_PATH = '/tmp/go-reporter';
/** Under load: 64 keep-alive clients for 7 s, /metrics scraped every 50 ms after the first second (over 100 scrapes). */
const SATURATING_CLIENTS = 64;
const SATURATING_MS = 7000;
const SCRAPE_EVERY_MS = 50;
const GOAL_P99_UNDER_LOAD_MS = 100;

const SERVERS: ReadonlyArray<{ name: string; subject: string; command: (port: number) => ChildCommand }> = [
  { name: 'ours', subject: 'ours: startMetricsServer (target_info on)', command: (port) => nodeEntry('serve-metrics.js', [String(port), 'ours']) },
  { name: 'exporter', subject: "exporter: PrometheusExporter's default server", command: (port) => nodeEntry('serve-metrics.js', [String(port), 'exporter']) },
  { name: 'go', subject: 'go: reference reporter (client_golang promhttp)', command: (port) => guarded(GO_REPORTER_PATH, ['-addr', `127.0.0.1:${port}`]) },
];

/** Scrapes/s of the three servers, each serving the same StatsReporter values from its own process. */
async function throughput(): Promise<Row[]> {
  const kinds = isExecutable(GO_REPORTER_PATH) ? SERVERS : SERVERS.slice(0, 2);
  const servers: ChildServer[] = [];
  try {
    for (const kind of kinds) {
      const port = await freePort();
      servers.push(await startChildServer(kind.name, kind.command(port), `http://127.0.0.1:${port}/metrics`));
    }
    const sizes = await Promise.all(servers.map(async (server) => (await (await fetch(server.url)).arrayBuffer()).byteLength));
    const results = await compareTargets(
      kinds.map((kind, index) => ({ name: kind.name, url: servers[index]!.url })),
      LOAD,
    );
    const rows: Row[] = kinds.map((kind, index) => ({ subject: kind.subject, result: `${describeResult(results[index]!, 'scrapes/s')}, body ${formatCount(sizes[index]!)} B` }));
    const versusExporter = pairedRatio(results[0]!, results[1]!);
    rows.push({ subject: 'ours ÷ exporter (scrapes/s, median of per-round ratios)', ratio: versusExporter, goal: '>= 1.00', met: versusExporter >= 1 });
    if (results[2] === undefined) rows.push({ subject: SERVERS[2]!.subject, result: `n/a (${GO_REPORTER_PATH} not built)` });
    else rows.push({ subject: 'ours ÷ go (scrapes/s, median of per-round ratios)', ratio: pairedRatio(results[0]!, results[2]) });
    return rows;
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
  }
}

/**
 * Scrape latency of the CLI's /metrics, over one keep-alive connection, while 64 keep-alive clients in their own
 * process saturate its proxy in front of a hello-world app (Knative's autoscaler scrapes a busy pod); this process
 * only scrapes.
 */
async function underLoad(): Promise<Row> {
  const servers: ChildServer[] = [];
  try {
    const [appPort, port, metricsPort] = [await freePort(), await freePort(), await freePort()];
    servers.push(await startChildServer('app', nodeEntry('serve-app.js', [String(appPort), 'plain']), `http://127.0.0.1:${appPort}/`));
    const cli = await cliKind(metricsPort);
    servers.push(await startChildServer(cli.name, cli.launch(port, appPort).command, `http://127.0.0.1:${port}/`));
    const load = runLoad({ url: `http://127.0.0.1:${port}`, connections: SATURATING_CLIENTS, durationMs: SATURATING_MS });
    let loadDone = false;
    const finished = (): boolean => (loadDone = true);
    load.then(finished, finished);
    const latencies: number[] = [];
    let peakConcurrency = 0;
    // Let the load client start and the first window fill before measuring.
    await sleep(1000);
    while (!loadDone) {
      // One scrape at a time over fetch's keep-alive connection, timed to the last byte.
      const started = performance.now();
      const response = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      const body = await response.text();
      const elapsedMs = performance.now() - started;
      if (response.status !== 200) throw new Error(`a scrape under load answered ${response.status}`);
      latencies.push(elapsedMs);
      peakConcurrency = Math.max(peakConcurrency, Number(/^queue_average_concurrent_requests\{[^}]*\} (\S+)$/m.exec(body)?.[1]));
      await sleep(Math.max(0, SCRAPE_EVERY_MS - elapsedMs));
    }
    const result = await load;
    if (result.failed > 0 || result.statuses['200'] !== result.sent) throw new Error(`the load saw failures: ${JSON.stringify(result)}`);
    const sorted = latencies.sort((a, b) => a - b);
    const p99 = nearestRank(sorted, 0.99);
    const scrapes = `${sorted.length} scrapes: p50 ${formatSmall(nearestRank(sorted, 0.5))} ms, p99 ${formatSmall(p99)} ms, max ${formatSmall(sorted.at(-1)!)} ms`;
    return {
      subject: `ours under load: the CLI's /metrics every ${SCRAPE_EVERY_MS} ms while ${SATURATING_CLIENTS} keep-alive clients saturate its proxy for ${SATURATING_MS / 1000} s`,
      result: `${scrapes}; proxy at ${formatCount(result.sent / (result.elapsedMs / 1000))} req/s, peak average concurrency ${formatSmall(peakConcurrency)}`,
      goal: `p99 < ${GOAL_P99_UNDER_LOAD_MS} ms`,
      met: p99 < GOAL_P99_UNDER_LOAD_MS,
    };
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
  }
}

/**
 * `scrape`: /metrics throughput under wrk for our metrics server, the OTel PrometheusExporter's own server and the Go
 * reference reporter when built; then the latency of our CLI's /metrics while its proxy is saturated.
 */
export const scrape: Benchmark = {
  description: 'scrapes/s of our /metrics vs the PrometheusExporter default server vs Go, and our scrape latency under a saturated proxy',
  run: async (): Promise<Row[]> => [...(await throughput()), await underLoad()],
};
