/**
 * Soak: an exact number of requests through the real CLI, as deployed, from 64 keep-alive connections in a separate
 * client process; checks that every request got a 200, that the requests the sidecar reported over its 1 s windows
 * (its protobuf Stat scraped every 50 ms, test/helpers/windows.ts) equal the requests sent, that concurrency reads 0
 * once a window has passed after the last answer, that RSS after the soak is within 10 % of RSS after a warm-up (both
 * right after a full GC forced through the inspector) and that SIGTERM stops it with exit code 0. Prints a Markdown
 * table and exits 1 when a check fails.
 * Usage: npm run soak [-- --requests N] (or SOAK_REQUESTS=N); default 200000.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { decodeStat, PROTOBUF_MEDIA_TYPE } from '../../src/metrics-server/stat-proto.js';
import { startCli } from '../../test/helpers/cli.js';
import { sumWindows, type StatSample } from '../../test/helpers/windows.js';
import { freePort, nodeEntry, startChildServer } from '../lib/child.js';
import { collectGarbage } from '../lib/inspector.js';
import { runLoad, type LoadResult } from '../lib/load.js';
import { memoryBytes } from '../lib/proc.js';
import { formatCount, formatSmall } from '../lib/table.js';

const CONNECTIONS = 64;
const PERIOD_SECONDS = 1;
const SCRAPE_EVERY_MS = 50;
const RSS_GROWTH_LIMIT = 0.1;

/** Scrapes every {@link SCRAPE_EVERY_MS} until `done` holds for a sample; resolves with all samples. */
async function sampleUntil(url: string, done: (sample: StatSample) => boolean, timeoutMs: number): Promise<StatSample[]> {
  const samples: StatSample[] = [];
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const response = await fetch(url, { headers: { accept: PROTOBUF_MEDIA_TYPE } });
    const stat = decodeStat(new Uint8Array(await response.arrayBuffer()));
    const sample = { uptimeSeconds: stat.processUptime, requestsPerSecond: stat.requestCount, averageConcurrency: stat.averageConcurrentRequests };
    samples.push(sample);
    if (done(sample)) return samples;
    if (performance.now() > deadline) throw new Error(`no sample met the condition within ${timeoutMs} ms; last ${JSON.stringify(sample)}`);
    await sleep(SCRAPE_EVERY_MS);
  }
}

const okCount = (result: LoadResult): number => result.statuses['200'] ?? 0;
const idle = (sample: StatSample): boolean => sample.requestsPerSecond === 0 && sample.averageConcurrency === 0;
/**
 * Idle once a busy window has been on show: right after a load, the window on show may still be the idle one before
 * it, with the load's own window reported at the next tick (the warm-up's requests were then counted with the soak's).
 */
const idleAfterBusy = (): ((sample: StatSample) => boolean) => {
  let busy = false;
  return (sample) => {
    busy ||= sample.requestsPerSecond > 0;
    return busy && idle(sample);
  };
};

const mb = (bytes: number): string => (bytes / 1e6).toFixed(1);

const requestsText = parseArgs({ options: { requests: { type: 'string' } } }).values.requests ?? process.env['SOAK_REQUESTS'] ?? '200000';
const requests = Number(requestsText);
if (!Number.isSafeInteger(requests) || requests < 1) {
  console.error(`soak: --requests (or SOAK_REQUESTS) must be a positive integer, got ${requestsText}`);
  process.exit(2);
}
const warmup = Math.min(20_000, Math.max(2_000, Math.round(requests / 10)));
const appPort = await freePort();
const app = await startChildServer('hello app', nodeEntry('serve-app.js', [String(appPort), 'plain']), `http://127.0.0.1:${appPort}/`);
const proxyPort = await freePort();
const metricsPort = await freePort();
const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
const cli = await startCli(
  [
    ...['--upstream', `http://127.0.0.1:${appPort}`, '--port', String(proxyPort), '--metrics-port', String(metricsPort), '--host', '127.0.0.1'],
    ...['--namespace', 'soak', '--config', 'hello', '--revision', 'hello-1', '--pod', 'hello-1-soak', '--reporting-period', `${PERIOD_SECONDS}s`],
    // SIGTERM's quiet period (30 s by default) would only lengthen the run.
    ...['--drain-quiet-period', '100ms'],
  ],
  { NODE_OPTIONS: '--inspect=127.0.0.1:0' },
);
const pid = cli.child.pid!;
try {
  if (cli.child.exitCode !== null) throw new Error(`the CLI exited: ${cli.output()}`);
  const measure = async (): Promise<{ heapUsed: number; rss: number }> => ({ heapUsed: await collectGarbage(cli.output()), rss: memoryBytes(pid, 'VmRSS') });
  const load = (count: number): Promise<LoadResult> => runLoad({ url: `http://127.0.0.1:${proxyPort}`, connections: CONNECTIONS, requests: count });

  const warm = await load(warmup);
  await sampleUntil(metricsUrl, idleAfterBusy(), 5000);
  const before = await measure();

  let loading = true;
  const sampler = sampleUntil(metricsUrl, () => !loading, Infinity);
  const main = await load(requests);
  const lastAnswerAt = performance.now();
  loading = false;
  const samples = await sampler;
  // The first idle window after the last answer: every busy window has been reported by then.
  const tail = await sampleUntil(metricsUrl, idleAfterBusy(), 5000);
  const idleAfterMs = performance.now() - lastAnswerAt;
  const windows = sumWindows([...samples, ...tail], PERIOD_SECONDS);
  const after = await measure();
  cli.child.kill('SIGTERM');
  const exitCode = await cli.exited;

  const growth = after.rss / before.rss - 1;
  const checks: Array<[string, boolean]> = [
    ['every request answered 200', warm.failed === 0 && main.failed === 0 && okCount(warm) === warmup && okCount(main) === requests],
    ['reported requests = requests sent', windows.requests === requests],
    ['concurrency back to 0 within 2.5 windows', idleAfterMs < 2500 * PERIOD_SECONDS],
    [`RSS growth within ${RSS_GROWTH_LIMIT * 100}%`, growth <= RSS_GROWTH_LIMIT],
    ['exit code 0 after SIGTERM', exitCode === 0],
  ];
  const rows: Array<[string, string]> = [
    ['Requests sent (64 keep-alive connections, after a warm-up of ' + formatCount(warmup) + ')', formatCount(main.sent)],
    ['Answered 200 / failed', `${formatCount(okCount(main))} / ${main.failed}${main.firstError === undefined ? '' : ` (${main.firstError})`}`],
    ['Duration / throughput', `${(main.elapsedMs / 1000).toFixed(1)} s / ${formatCount(main.sent / (main.elapsedMs / 1000))} req/s`],
    ['Client latency p50 / p99 / max', `${formatSmall(main.p50Ms)} / ${formatSmall(main.p99Ms)} / ${formatSmall(main.maxMs)} ms`],
    [`Requests reported (sum of queue_requests_per_second × ${PERIOD_SECONDS} s over ${windows.busyWindows} windows)`, formatCount(windows.requests)],
    ['Longest gap between scrapes', `${Math.round(windows.maxGapSeconds * 1000)} ms`],
    ['queue_average_concurrent_requests = 0 after the last answer', `after ${Math.round(idleAfterMs)} ms`],
    ['CLI RSS after forced GC: warm-up → soak', `${mb(before.rss)} → ${mb(after.rss)} MB (${growth >= 0 ? '+' : ''}${(growth * 100).toFixed(1)}%)`],
    ['CLI V8 heap used after forced GC: warm-up → soak', `${mb(before.heapUsed)} → ${mb(after.heapUsed)} MB`],
    ['Exit code after SIGTERM', String(exitCode)],
  ];
  const lines = ['| Soak | Result |', '|---|---|', ...rows.map(([what, value]) => `| ${what} | ${value} |`), '', ...checks.map(([what, ok]) => `${ok ? 'ok  ' : 'FAIL'} ${what}`)];
  process.stdout.write(`${lines.join('\n')}\n`);
  process.exitCode = checks.every(([, ok]) => ok) ? 0 : 1;
} finally {
  cli.kill();
  await app.stop();
}
