import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:http2';
import { promisify } from 'node:util';
import { nearestRank } from './load.js';

/**
 * How to load one 127.0.0.1 URL with h2load (Debian's nghttp2-client): `requests` requests, or as many as fit in
 * `durationSeconds`, over `clients` connections with at most `streams` concurrent streams each, on one thread.
 * HTTP/2 with prior knowledge (h2c) for an `http:` URL, or HTTP/1.1 with `http1`.
 */
export interface H2loadOptions {
  url: string;
  requests?: number;
  durationSeconds?: number;
  clients: number;
  streams: number;
  http1?: boolean;
}

/** What one h2load run measured: succeeded requests, their rate over the run, and the mean and longest request time. */
export interface H2loadResult {
  requests: number;
  requestsPerSecond: number;
  meanMs: number;
  maxMs: number;
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000 };

/** The h2load binary, or `undefined` when it is not installed (the rows that need it then say n/a). */
export async function h2loadVersion(): Promise<string | undefined> {
  try {
    const { stdout } = await promisify(execFile)('h2load', ['--version']);
    return /nghttp2\/(\S+)/.exec(stdout)?.[1];
  } catch {
    return undefined;
  }
}

/**
 * Runs h2load once and parses its report.
 *
 * @throws Error when h2load cannot be started, exits non-zero, or reports a request that did not succeed with a 2xx
 */
export async function runH2load(options: H2loadOptions): Promise<H2loadResult> {
  const amount = options.durationSeconds === undefined ? ['-n', String(options.requests)] : ['-D', String(options.durationSeconds)];
  const args = [...amount, '-c', String(options.clients), '-m', String(options.streams), '-t', '1', ...(options.http1 === true ? ['--h1'] : []), options.url];
  // The timeout only catches a hung h2load.
  const { stdout: output } = await promisify(execFile)('h2load', args, { timeout: 120_000 });
  const finished = /^finished in [\d.]+\w+, ([\d.]+) req\/s/m.exec(output);
  const counts = /^requests: (\d+) total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/m.exec(output);
  const codes = /^status codes: (\d+) 2xx/m.exec(output);
  const time = /^time for request:\s+[\d.]+\w+\s+([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s)/m.exec(output);
  if (finished === null || counts === null || codes === null || time === null) throw new Error(`h2load output not understood:\n${output}`);
  const [total, succeeded, unsuccessful] = [Number(counts[1]), Number(counts[2]), Number(counts[3]) + Number(counts[4]) + Number(counts[5])];
  // In duration mode, requests still in flight at the end are left out of `total` (but their 2xx may be counted).
  const complete = options.durationSeconds === undefined ? succeeded === total && Number(codes[1]) === total : unsuccessful === 0 && Number(codes[1]) >= succeeded;
  if (!complete) throw new Error(`h2load: ${succeeded} of ${total} requests succeeded, ${codes[1]} with a 2xx:\n${output}`);
  const ms = (value: string, unit: string): number => Number(value) * (UNIT_MS[unit] ?? Number.NaN);
  return { requests: succeeded, requestsPerSecond: Number(finished[1]), meanMs: ms(time[3]!, time[4]!), maxMs: ms(time[1]!, time[2]!) };
}

/** Whether a GET of `url` over h2c (prior knowledge) answers 200: the readiness check of a server that speaks HTTP/2 only. */
export function answers200OverH2c(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const session = connect(url);
    const done = (ok: boolean): void => {
      session.destroy();
      resolve(ok);
    };
    session.on('error', () => done(false));
    const stream = session.request({ ':path': new URL(url).pathname });
    stream.on('response', (headers) => {
      stream.resume();
      stream.on('end', () => done(headers[':status'] === 200));
    });
    stream.on('error', () => done(false));
    stream.end();
  });
}

/** What one warm run measured: requests logged after the warm-up and their median and 99th-percentile latency. */
export interface WarmLatency {
  requests: number;
  p50Ms: number;
  p99Ms: number;
}

/**
 * Latency over connections that are already open and warm, as Knative's activator and ingress keep them: h2load over
 * HTTP/1.1 (`--h1`) opens `clients` connections, loads them for `warmupSeconds` unmeasured (`--warm-up-time`), then
 * for `durationSeconds` with every request written to a log (`--log-file`: start, status, microseconds to the end of
 * the response), from which the percentiles are read. wrk, by contrast, counts the burst of new connections at its
 * start in its percentiles.
 *
 * @throws Error when h2load fails, or a logged request did not answer 2xx
 */
export async function runWarmLatency(url: string, clients: number, durationSeconds: number, warmupSeconds: number): Promise<WarmLatency> {
  const dir = await mkdtemp(join(tmpdir(), 'h2load-log-'));
  try {
    const log = join(dir, 'requests.tsv');
    const args = ['--h1', '-c', String(clients), '-t', '1', '-D', String(durationSeconds), '--warm-up-time', String(warmupSeconds), '--log-file', log, url];
    await promisify(execFile)('h2load', args, { timeout: (durationSeconds + warmupSeconds + 60) * 1000 });
    const microseconds: number[] = [];
    for (const line of (await readFile(log, 'utf8')).split('\n')) {
      if (line === '') continue;
      const [, status, elapsed] = line.split('\t');
      if (!/^2\d\d$/.test(status ?? '')) throw new Error(`h2load logged a request answered ${status}`);
      microseconds.push(Number(elapsed));
    }
    if (microseconds.length === 0) throw new Error(`h2load logged no request for ${url}`);
    microseconds.sort((a, b) => a - b);
    return { requests: microseconds.length, p50Ms: nearestRank(microseconds, 0.5) / 1000, p99Ms: nearestRank(microseconds, 0.99) / 1000 };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
