import type { Benchmark, Row } from './benchmark.js';
import { freePort, nodeEntry, startChildServer, type ChildCommand, type ChildServer } from './child.js';
import { compareTargets, describeResult, pairedRatio, type CompareOptions } from './compare.js';
import { goReporterAvailable, goReporterServer, GO_REPORTER_PATH } from './go-reporter.js';
import { formatCount } from './table.js';

/** wrk -t1 -c16, seven rotated 2 s runs per server after a 1 s warm-up. */
const LOAD: CompareOptions = { rounds: 7, durationSeconds: 2, connections: 16, warmupSeconds: 1 };

interface ServerKind {
  name: string;
  subject: string;
  command(port: number): ChildCommand;
}

const OURS: ServerKind = {
  name: 'ours',
  subject: 'ours: startMetricsServer (target_info on)',
  command: (port) => nodeEntry('./serve-ours.js', [String(port)]),
};
const EXPORTER: ServerKind = {
  name: 'exporter',
  subject: "exporter: PrometheusExporter's default server",
  command: (port) => nodeEntry('./serve-exporter.js', [String(port)]),
};
const GO: ServerKind = {
  name: 'go',
  subject: 'go: reference reporter (client_golang promhttp)',
  command: goReporterServer,
};

async function bodyBytes(url: string): Promise<number> {
  const response = await fetch(url);
  return (await response.arrayBuffer()).byteLength;
}

/**
 * `scrape`: /metrics throughput under wrk for our metrics server, the OTel
 * PrometheusExporter's own server, and the Go reference reporter when built,
 * each serving the same StatsReporter values from its own child process.
 */
export const scrape: Benchmark = {
  description: 'scrapes/s of our /metrics vs the PrometheusExporter default server vs Go',
  async run(): Promise<Row[]> {
    const kinds = goReporterAvailable() ? [OURS, EXPORTER, GO] : [OURS, EXPORTER];
    const servers: ChildServer[] = [];
    try {
      for (const kind of kinds) {
        const port = await freePort();
        servers.push(await startChildServer(kind.name, kind.command(port), `http://127.0.0.1:${port}/metrics`));
      }
      const sizes = await Promise.all(servers.map((server) => bodyBytes(server.url)));
      const results = await compareTargets(
        kinds.map((kind, index) => ({ name: kind.name, url: servers[index]!.url })),
        LOAD,
      );
      const rows: Row[] = kinds.map((kind, index) => ({
        subject: kind.subject,
        result: `${describeResult(results[index]!, 'scrapes/s')}, body ${formatCount(sizes[index]!)} B`,
      }));
      const versusExporter = pairedRatio(results[0]!, results[1]!);
      rows.push({ subject: 'ours ÷ exporter (scrapes/s, median of per-round ratios)', ratio: versusExporter, goal: '>= 1.00', met: versusExporter >= 1 });
      if (kinds.includes(GO)) {
        rows.push({ subject: 'ours ÷ go (scrapes/s, median of per-round ratios)', ratio: pairedRatio(results[0]!, results[2]!) });
      } else {
        rows.push({ subject: GO.subject, result: `n/a (${GO_REPORTER_PATH} not built)` });
      }
      return rows;
    } finally {
      await Promise.all(servers.map((server) => server.stop()));
    }
  },
};
