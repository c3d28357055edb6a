/**
 * Runs the benchmarks and prints the command, the machine and a Markdown table of results on stdout (progress goes
 * to stderr). Exits 2 for an unknown name, 1 when a benchmark failed.
 * Usage: `node dist/bench/run.js [name ...]` (`npm run bench [-- name ...]`; no name runs them all).
 */
import { spawnSync } from 'node:child_process';
import { cpus, release } from 'node:os';
import { relative } from 'node:path';
import { markdownTable, type Benchmark, type NamedRow, type Row } from './lib/table.js';

/**
 * Every benchmark, by the name that selects it, in the order `npm run bench` runs them; modules load only when
 * selected. To add one, write bench/suites/<name>.ts exporting a {@link Benchmark} and add its line here.
 */
const BENCHMARKS: Record<string, () => Promise<Benchmark>> = {
  stats: async () => (await import('./suites/stats.js')).stats,
  scrape: async () => (await import('./suites/scrape.js')).scrape,
  'stats-cost': async () => (await import('./suites/stats-cost.js')).statsCost,
  'breaker-cost': async () => (await import('./suites/breaker-cost.js')).breakerCost,
  'tracing-cost': async () => (await import('./suites/tracing-cost.js')).tracingCost,
  'bounds-cost': async () => (await import('./suites/bounds-cost.js')).boundsCost,
  'request-log-cost': async () => (await import('./suites/request-log-cost.js')).requestLogCost,
  'register-cost': async () => (await import('./suites/register-cost.js')).registerCost,
  proxy: async () => (await import('./suites/proxy.js')).proxy,
  h2: async () => (await import('./suites/h2.js')).h2,
  'proxy-load': async () => (await import('./suites/proxy-load.js')).proxyLoad,
  startup: async () => (await import('./suites/startup.js')).startup,
  abuse: async () => (await import('./suites/abuse.js')).abuse,
};

const names = process.argv.slice(2);
const unknown = names.filter((name) => !Object.hasOwn(BENCHMARKS, name));
if (unknown.length > 0) {
  console.error(`unknown benchmark ${unknown.join(', ')}; known: ${Object.keys(BENCHMARKS).join(', ')}`);
  process.exit(2);
}
const selected = names.length > 0 ? names : Object.keys(BENCHMARKS);

const rows: NamedRow[] = [];
for (const name of selected) {
  const benchmark = await BENCHMARKS[name]!();
  console.error(`${name}: ${benchmark.description} ...`);
  const started = performance.now();
  let result: Row[];
  try {
    result = await benchmark.run();
  } catch (error) {
    process.exitCode = 1;
    console.error(error);
    result = [{ subject: benchmark.description, result: `failed: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}` }];
  }
  console.error(`${name}: done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  rows.push(...result.map((row) => ({ benchmark: name, ...row })));
}

const wrk = spawnSync('wrk', ['-v'], { encoding: 'utf8' });
console.log(`Command: \`${['node', ...process.execArgv, relative(process.cwd(), process.argv[1]!), ...names].join(' ')}\``);
console.log(`Date: ${new Date().toISOString()}`);
console.log(
  `Machine: ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), Linux ${release()}, Node ${process.version}, wrk ${/wrk (\S+)/.exec(`${wrk.stdout}${wrk.stderr}`)?.[1] ?? 'not found'}`,
);
console.log('');
console.log(markdownTable(rows));
