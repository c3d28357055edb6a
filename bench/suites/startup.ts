import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SIDECAR_ENV } from '../../src/core/defaults.js';
import { freePort, nodeEntry, startChildServer, type ChildCommand, type ChildServer } from '../lib/child.js';
import { memoryBytes } from '../lib/proc.js';
import { formatSmall, medianBy, type Benchmark, type Row } from '../lib/table.js';

/** Cold starts per subject, alternated so that a slow moment of the machine hits each alike; odd for a true median. */
const RUNS = Number(process.env['STARTUP_RUNS'] ?? 7);
/** How long a started server sits idle before its RSS is read, in milliseconds. */
const IDLE_MS = 1000;
/** Pause between two polls of a starting server, in milliseconds. */
const POLL_MS = 1;
const READY_TIMEOUT_MS = 10_000;
const GOAL_RATIO = 1.5;
/** Idle RSS may exceed the bare server's (median, same line, same run) by this much: MiB, as /proc and `ps` count them. */
const GOAL_IDLE_RSS_OVER_BARE_BYTES = 10 * 2 ** 20;
/** The shipped bin and register entry: the bundles `npm run build` writes into dist/ (`npm run bench` builds them). */
const BIN_PATH = fileURLToPath(new URL('../../../dist/bundle/cli/bin.js', import.meta.url));
const REGISTER_PATH = fileURLToPath(new URL('../../../dist/bundle/register/register.js', import.meta.url));

/** One cold start: from spawn to the first 200 on `url`, and the RSS once idle. */
interface ColdStart {
  readyMs: number;
  idleRssBytes: number;
}

/** A subject of the benchmark: what it starts, given a free port to serve on. */
interface Subject {
  subject: string;
  launch(port: number): Promise<{ command: ChildCommand; env?: NodeJS.ProcessEnv }>;
}

async function answers200(url: string): Promise<boolean> {
  try {
    const response = await fetch(url);
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false;
  }
}

/**
 * Spawns `command`, polls `http://127.0.0.1:port/` every millisecond until it answers 200, waits {@link IDLE_MS}
 * and reads the process's RSS; then kills it.
 *
 * @throws Error when the process exits first or does not answer within 10 seconds
 */
async function coldStart(command: ChildCommand, port: number, env: NodeJS.ProcessEnv = process.env): Promise<ColdStart> {
  const url = `http://127.0.0.1:${port}/`;
  const started = performance.now();
  const child = spawn(command[0], command.slice(1), { stdio: ['pipe', 'ignore', 'pipe'], env });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    while (!(await answers200(url))) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${command.join(' ')} exited before answering ${url}:\n${stderr}`);
      if (performance.now() - started > READY_TIMEOUT_MS) throw new Error(`${command.join(' ')} did not answer 200 at ${url} within ${READY_TIMEOUT_MS} ms:\n${stderr}`);
      await sleep(POLL_MS);
    }
    const readyMs = performance.now() - started;
    await sleep(IDLE_MS);
    return { readyMs, idleRssBytes: memoryBytes(child.pid!, 'VmRSS') };
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
}

/** Formats bytes as MiB (2^20 bytes), e.g. `46.0 MiB`. */
function mebibytes(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

function median(starts: readonly ColdStart[], key: (start: ColdStart) => number): number {
  return key(medianBy(starts, key));
}

function range(starts: readonly ColdStart[], key: (start: ColdStart) => number, format: (value: number) => string): string {
  const values = starts.map(key);
  return `${format(Math.min(...values))}-${format(Math.max(...values))}`;
}

/** One subject's line: its median time to the first 200 with the range, and its median idle RSS. */
function summary(subject: string, starts: readonly ColdStart[]): Row {
  const readyMs = median(starts, (start) => start.readyMs);
  return {
    subject,
    result: `${formatSmall(readyMs)} ms to the first 200 (${starts.length} runs ${range(starts, (start) => start.readyMs, formatSmall)} ms), idle RSS ${mebibytes(median(starts, (start) => start.idleRssBytes))}`,
  };
}

/** The rows of one subject against the bare server: its summary, then its ratio and idle RSS with the goals. */
function subjectRows(name: string, subject: string, starts: readonly ColdStart[], bare: readonly ColdStart[]): Row[] {
  const rss = median(starts, (start) => start.idleRssBytes);
  const rssGoal = median(bare, (start) => start.idleRssBytes) + GOAL_IDLE_RSS_OVER_BARE_BYTES;
  const ratio = median(starts, (start) => start.readyMs) / median(bare, (start) => start.readyMs);
  return [
    summary(subject, starts),
    { subject: `${name} ÷ bare node:http (exec to first 200, medians)`, ratio, goal: `<= ${GOAL_RATIO}`, met: ratio <= GOAL_RATIO },
    { subject: `${name}: idle RSS ${IDLE_MS} ms after the first 200 (median)`, result: mebibytes(rss), goal: `<= ${mebibytes(rssGoal)} (bare + 10 MiB)`, met: rss <= rssGoal },
  ];
}

/**
 * Start-up on the critical path of a scale-from-zero request: median of {@link RUNS} cold starts of the shipped
 * bin in front of a hello-world app (spawn to the first proxied 200) against a bare node:http hello server started
 * the same way (spawn to its first 200), and the idle RSS of each; with the shipped register entry on top of the
 * same bare server.
 */
async function run(): Promise<Row[]> {
  const appPort = await freePort();
  const app: ChildServer = await startChildServer('app', nodeEntry('serve-app.js', [String(appPort), 'plain']), `http://127.0.0.1:${appPort}/`);
  const bare: Subject = { subject: 'bare node:http hello server (bench/servers/serve-app.js)', launch: (port) => Promise.resolve({ command: nodeEntry('serve-app.js', [String(port), 'plain']) }) };
  const cliArgs = async (port: number): Promise<string[]> => [
    ...['--upstream', `http://127.0.0.1:${appPort}`, '--port', String(port), '--host', '127.0.0.1'],
    ...['--metrics-port', String(await freePort()), '--request-metrics-port', String(await freePort()), '--admin-port', String(await freePort())],
    ...['--namespace', 'bench', '--config', 'hello', '--revision', 'hello-1', '--pod', 'hello-1-bench'],
  ];
  const cli: Subject = {
    subject: 'the bin (dist/bundle/cli/bin.js run by its shebang) in front of a hello app: proxy, tracker, metrics server, request metrics',
    launch: async (port) => ({ command: [BIN_PATH, ...(await cliArgs(port))] }),
  };
  const register: Subject = {
    subject: 'the bare server under node --import queue-stats-exporter/register (its metrics server on)',
    launch: async (port) => ({
      command: nodeEntry('serve-app.js', [String(port), 'plain'], ['--import', pathToFileURL(REGISTER_PATH).href]),
      env: { ...process.env, [SIDECAR_ENV.metricsPort]: String(await freePort()) },
    }),
  };
  const cacheOff = (subject: Subject): Subject => ({
    subject: `${subject.subject}, compile cache off (NODE_DISABLE_COMPILE_CACHE=1)`,
    launch: async (port) => {
      const launched = await subject.launch(port);
      return { ...launched, env: { ...(launched.env ?? process.env), NODE_DISABLE_COMPILE_CACHE: '1' } };
    },
  });
  for (const path of [BIN_PATH, REGISTER_PATH]) if (!existsSync(path)) throw new Error(`${path} is not built: npm run build`);
  // A compile cache of this run's own, filled by the first round (each start flushes it once it serves).
  const cacheDir = await mkdtemp(join(tmpdir(), 'startup-compile-cache-'));
  process.env['NODE_COMPILE_CACHE'] = cacheDir;
  const subjects = [bare, cli, register, cacheOff(cli), cacheOff(register)];
  const starts: ColdStart[][] = subjects.map(() => []);
  try {
    for (let round = 0; round < RUNS; round++) {
      for (const [index, subject] of subjects.entries()) {
        const port = await freePort();
        const { command, env } = await subject.launch(port);
        starts[index]!.push(await coldStart(command, port, env));
      }
    }
  } finally {
    await app.stop();
    delete process.env['NODE_COMPILE_CACHE'];
    await rm(cacheDir, { recursive: true, force: true });
  }
  const [bareStarts, cliStarts, registerStarts, cliUncached, registerUncached] = starts as [ColdStart[], ColdStart[], ColdStart[], ColdStart[], ColdStart[]];
  const cacheGain = (name: string, cached: readonly ColdStart[], uncached: readonly ColdStart[]): Row => ({
    subject: `${name}: compile cache on ÷ off (exec to first 200, medians)`,
    ratio: median(cached, (start) => start.readyMs) / median(uncached, (start) => start.readyMs),
  });
  return [
    summary(bare.subject, bareStarts),
    ...subjectRows('CLI', cli.subject, cliStarts, bareStarts),
    ...subjectRows('register mode', register.subject, registerStarts, bareStarts),
    summary(cacheOff(cli).subject, cliUncached),
    cacheGain('CLI', cliStarts, cliUncached),
    summary(cacheOff(register).subject, registerUncached),
    cacheGain('register mode', registerStarts, registerUncached),
  ];
}

/** Cold start of the sidecar and of the register mode against a bare node:http server: time to the first 200 and idle RSS. */
export const startup: Benchmark = {
  description: 'cold start: exec to the first 200 and idle RSS, the CLI (and the register mode) against a bare node:http server',
  run,
};
