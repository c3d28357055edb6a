import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SIDECAR_ENV } from '../src/core/defaults.js';
import { METRIC } from '../src/core/metric-names.js';
import { freePort, get, until } from './helpers/http.js';
import { portsIn } from './helpers/cli.js';
import { scrapeUntil } from './helpers/scrape.js';

/**
 * The package as npm users get it: `npm pack` of this checkout (its dist/,
 * built by `npm test`'s pretest), the tarball installed into a fresh project
 * in a temporary folder, and that project using it. The install reads the
 * registry's metadata and tarballs from npm's cache first (`--prefer-offline`;
 * `npm ci` filled it), so it runs in seconds; only a registry that cannot be
 * reached at all skips these tests, with the reason shown.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const INSTALL_TIMEOUT_MS = 90_000;
const RUN_TIMEOUT_MS = 30_000;
const UNREACHABLE = /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH/;

interface PackageJson {
  name: string;
  version: string;
  devDependencies: Record<string, string>;
}

const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as PackageJson;

/**
 * The environment for child processes: ours without the variables `npm test`
 * sets for this package's own scripts, so that npm in the temporary project
 * works on that project.
 */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^npm_(package_|lifecycle_|config_local_prefix$)/i.test(name) || name === 'INIT_CWD') continue;
    env[name] = value;
  }
  return { ...env, ...extra };
}

/** Runs `file args` in `cwd` to completion within `timeoutMs`; rejects with its output on a non-zero exit. */
function run(file: string, args: string[], cwd: string, timeoutMs = RUN_TIMEOUT_MS): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd, env: childEnv(), timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(Object.assign(new Error(`${file} ${args.join(' ')}: ${error.message}\n${stdout}\n${stderr}`), { stderr }));
      else resolve({ stdout, stderr });
    });
  });
}

/** A TypeScript consumer: each entry point's types used, and misuses that must not type-check. */
const CONSUMER_TS = `import { metrics } from '@opentelemetry/api';
import { RequestStats, RequestTracker, StatsReporter, VERSION, type StatsReport } from 'queue-stats-exporter';
import { startQueueStats, type QueueStats } from 'queue-stats-exporter/queue-stats';
import { decodeStat, encodeStat, startMetricsServer, type Stat } from 'queue-stats-exporter/metrics-server';
import { startProxy, type ProxyServer } from 'queue-stats-exporter/proxy';

export const version: string = VERSION;
export const reporter = new StatsReporter({ namespace: 'a', config: 'b', revision: 'c', pod: 'd', meter: metrics.getMeter('consumer') });
export function report(stats: RequestStats, now: number): StatsReport {
  return stats.report(now);
}
export const wrap: RequestTracker['wrap'] | undefined = undefined;
export function start(): Promise<QueueStats> {
  return startQueueStats({ port: 0, namespace: 'a', config: 'b', revision: 'c', pod: 'd' });
}
export function proxy(queueStats: QueueStats): Promise<ProxyServer> {
  return startProxy({ upstream: 'http://127.0.0.1:8080', port: 0, tracker: queueStats.tracker });
}
export const stat: Stat = decodeStat(encodeStat({ podName: 'p', averageConcurrentRequests: 1, averageProxiedConcurrentRequests: 1, requestCount: 1, proxiedRequestCount: 1, processUptime: 1 }));
// @ts-expect-error the port is a number
void startMetricsServer({ port: '9090' });
// @ts-expect-error the upstream is required
void startProxy({ port: 0 });
`;

/** The same from a CommonJS TypeScript file, which TypeScript compiles to require(esm). */
const CONSUMER_CTS = `import { StatsReporter, VERSION } from 'queue-stats-exporter';
import type { QueueStats } from 'queue-stats-exporter/queue-stats';
export const version: string = VERSION;
export type Reporter = StatsReporter;
export type Tracker = QueueStats['tracker'];
`;

const TSCONFIG = {
  compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', lib: ['ES2022'], types: ['node'], strict: true, noEmit: true },
  files: ['consumer.ts', 'consumer.cts'],
};

/** An Express app for the register mode; Express from this repository's dev dependencies. */
const EXPRESS_APP = `const express = require(process.env.EXPRESS_PATH);
const app = express();
app.get('/', (request, response) => response.send('hello'));
const server = app.listen(0, '127.0.0.1', () => console.log('listening ' + server.address().port));
`;

describe('the packed package, installed into a fresh project', () => {
  let work = '';
  let project = '';
  let packedFiles: string[] = [];
  let skip: string | undefined;

  before(
    async () => {
      work = await mkdtemp(join(tmpdir(), 'queue-stats-packaging-'));
      const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], ROOT);
      const [packed] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
      packedFiles = packed!.files.map((file) => file.path).sort();
      project = join(work, 'consumer');
      await mkdir(project);
      await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }));
      const types = `@types/node@${pkg.devDependencies['@types/node']}`;
      try {
        await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(work, packed!.filename), types], project, INSTALL_TIMEOUT_MS);
      } catch (error) {
        const stderr = (error as { stderr?: string }).stderr ?? '';
        if (!UNREACHABLE.test(stderr)) throw error;
        skip = `the npm registry is unreachable and the cache lacks a dependency: ${stderr.split('\n').find((line) => UNREACHABLE.test(line)) ?? ''}`;
      }
    },
    { timeout: INSTALL_TIMEOUT_MS + 30_000 },
  );

  after(async () => {
    if (work !== '') await rm(work, { recursive: true, force: true });
  });

  /** True (and the test skipped with the reason) when the install could not reach the registry. */
  function skipped(t: TestContext): boolean {
    if (skip !== undefined) t.skip(skip);
    return skip !== undefined;
  }

  it('packs dist/ without source maps, otel-config/, the README and the LICENSE, and nothing else', () => {
    assert.deepEqual(
      packedFiles.filter((path) => !/^(dist\/.+\.(js|d\.ts)|otel-config\/.+|README\.md|LICENSE|package\.json)$/.test(path)),
      [],
    );
    for (const path of ['LICENSE', 'README.md', 'package.json', 'dist/index.js', 'dist/index.d.ts', 'dist/bundle/cli/bin.js', 'dist/bundle/register/register.js']) {
      assert.ok(packedFiles.includes(path), path);
    }
  });

  it('installs one copy of @opentelemetry/api, the peer dependency, beside the package', async (t) => {
    if (skipped(t)) return;
    const { stdout } = await run('npm', ['ls', '--all', '--json', '@opentelemetry/api'], project);
    const versions = new Set([...stdout.matchAll(/"@opentelemetry\/api": \{\s*"version": "([^"]+)"/g)].map((match) => match[1]));
    assert.equal(versions.size, 1, stdout);
    assert.ok(existsSync(join(project, 'node_modules/@opentelemetry/api/package.json')));
    assert.ok(!existsSync(join(project, 'node_modules/queue-stats-exporter/node_modules/@opentelemetry/api')));
  });

  it('imports as ESM: each entry point by its name', async (t) => {
    if (skipped(t)) return;
    const script = `import { StatsReporter, VERSION } from 'queue-stats-exporter'; import { startQueueStats } from 'queue-stats-exporter/queue-stats'; import { encodeStat } from 'queue-stats-exporter/metrics-server'; import { startProxy } from 'queue-stats-exporter/proxy'; console.log([typeof StatsReporter, typeof startQueueStats, typeof encodeStat, typeof startProxy, VERSION].join(' '));`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], project);
    assert.equal(stdout.trim(), `function function function function ${pkg.version}`);
  });

  it('requires from CommonJS (require(esm), Node >= 22.12): each entry point by its name', async (t) => {
    if (skipped(t)) return;
    const script = `const { StatsReporter, VERSION } = require('queue-stats-exporter'); const { startQueueStats } = require('queue-stats-exporter/queue-stats'); const { encodeStat } = require('queue-stats-exporter/metrics-server'); const { startProxy } = require('queue-stats-exporter/proxy'); console.log([typeof StatsReporter, typeof startQueueStats, typeof encodeStat, typeof startProxy, VERSION].join(' '));`;
    const { stdout } = await run(process.execPath, ['--input-type=commonjs', '-e', script], project);
    assert.equal(stdout.trim(), `function function function function ${pkg.version}`);
  });

  it('type-checks a TypeScript consumer (ESM and CommonJS) against the shipped types, misuses rejected', async (t) => {
    if (skipped(t)) return;
    await writeFile(join(project, 'consumer.ts'), CONSUMER_TS);
    await writeFile(join(project, 'consumer.cts'), CONSUMER_CTS);
    await writeFile(join(project, 'tsconfig.json'), JSON.stringify(TSCONFIG));
    const tsc = createRequire(join(ROOT, 'package.json')).resolve('typescript/bin/tsc');
    const { stdout } = await run(process.execPath, [tsc, '-p', project], project, 60_000);
    assert.equal(stdout, '');
  });

  it('runs the CLI through npx: queue-stats --help', async (t) => {
    if (skipped(t)) return;
    const { stdout } = await run('npx', ['--no-install', 'queue-stats', '--help'], project);
    assert.match(stdout, /^Usage: queue-stats \[options\]\n/);
  });

  it('proxies through the installed bin (the bundled CLI, run by its shebang): the app answers, the gauges count', async (t) => {
    if (skipped(t)) return;
    const app = createServer((_request, response) => response.end('app'));
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    // Every port 0: the bin binds free ones and names them in its start-up line.
    const args = ['--upstream', `http://127.0.0.1:${(app.address() as AddressInfo).port}`, '--host', '127.0.0.1', '--port', '0', '--metrics-port', '0'];
    args.push('--request-metrics-port', '0', '--admin-port', '0', '--namespace', 'ns', '--config', 'cfg', '--revision', 'rev', '--pod', 'pod');
    const child = spawn(join(project, 'node_modules/.bin/queue-stats'), args, { cwd: project, env: childEnv({}), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    try {
      await until(() => portsIn(output) !== undefined, `the bin to start: ${output}`, 10_000);
      const { proxy: port, metrics: metricsPort } = portsIn(output)!;
      for (let i = 0; i < 10; i++) assert.deepEqual(await get(port, '/'), { status: 200, body: 'app' });
      const values = await scrapeUntil(`http://127.0.0.1:${metricsPort}/metrics`, (scrape) => (scrape.get(METRIC.requestsPerSecond) ?? 0) > 0, 'requests per second above 0', 10_000);
      assert.ok(values.get(METRIC.requestsPerSecond)! <= 10, output);
    } finally {
      child.kill('SIGKILL');
      app.close();
    }
  });

  it('tracks an Express app started with node --import queue-stats-exporter/register: the gauges move', async (t) => {
    if (skipped(t)) return;
    const metricsPort = await freePort();
    await writeFile(join(project, 'app.cjs'), EXPRESS_APP);
    const expressPath = createRequire(join(ROOT, 'package.json')).resolve('express');
    const env = childEnv({ EXPRESS_PATH: expressPath, [SIDECAR_ENV.metricsPort]: String(metricsPort) });
    const child = spawn(process.execPath, ['--import', 'queue-stats-exporter/register', 'app.cjs'], { cwd: project, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    try {
      await until(() => /listening \d+/.test(output), `the app to listen: ${output}`, 10_000);
      const port = Number(/listening (\d+)/.exec(output)![1]);
      for (let i = 0; i < 10; i++) assert.deepEqual(await get(port, '/'), { status: 200, body: 'hello' });
      const values = await scrapeUntil(`http://127.0.0.1:${metricsPort}/metrics`, (scrape) => (scrape.get(METRIC.requestsPerSecond) ?? 0) > 0, 'requests per second above 0', 10_000);
      // At most the ten requests in a reporting second (they may straddle two): the scrapes, every 20 ms, are not counted.
      assert.ok(values.get(METRIC.requestsPerSecond)! <= 10, output);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
