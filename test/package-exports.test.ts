import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { access, readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type * as MetricsServerEntry from '../src/metrics-server/index.js';
import type * as ProxyEntry from '../src/proxy/index.js';
import type * as QueueStatsEntry from '../src/queue-stats/index.js';
import type * as RootEntry from '../src/index.js';

/**
 * The package as a user imports it: by its own name, through the `exports`
 * of package.json, so from the compiled package in dist/ (`npm run build`),
 * not from the copy of src/ the other tests run against. Node resolves a
 * package's own name from inside it (self-reference) once package.json has
 * `exports`.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const HOOK = new URL('./helpers/log-resolved.js', import.meta.url).href;

interface PackageJson {
  name: string;
  version: string;
  main: string;
  types: string;
  bin: Record<string, string>;
  private?: boolean;
  license: string;
  engines: { node: string };
  sideEffects: string[];
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  exports: Record<string, { types: string; default: string } | string>;
}

const pkg = JSON.parse(await readFile(`${ROOT}package.json`, 'utf8')) as PackageJson;

/**
 * Every URL the ESM loader resolves in a fresh Node process that imports
 * `specifier` and nothing else, then runs `then` with the module as `entry`,
 * followed by every file in CommonJS's module cache (what `require` loaded,
 * which the ESM hook does not see, as file URLs). The child registers the
 * resolve hook of helpers/log-resolved.ts before its one dynamic import, so
 * the list is exactly what that import and `then` loaded (plus `node:module`
 * and `node:url` for the register call and the listing).
 */
function urlsLoadedBy(specifier: string, then = ''): Promise<string[]> {
  const listCommonJs = "const { pathToFileURL } = await import('node:url'); for (const file of Object.keys(createRequire(import.meta.url).cache)) console.log(pathToFileURL(file).href);";
  const script = `import { createRequire, register } from 'node:module'; register(${JSON.stringify(HOOK)}); const entry = await import(${JSON.stringify(specifier)}); ${then}; ${listCommonJs}`;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, timeout: 30_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${error.message}\n${stderr}`));
      else resolve(stdout.split('\n').filter((line) => line !== ''));
    });
  });
}

describe('package.json', () => {
  it('maps each entry point to compiled JavaScript and its types in dist/', async () => {
    assert.deepEqual(Object.keys(pkg.exports), ['.', './queue-stats', './metrics-server', './proxy', './register', './package.json']);
    for (const [name, target] of Object.entries(pkg.exports)) {
      if (name === './package.json') continue;
      assert.equal(typeof target, 'object', name);
      const { types, default: js } = target as { types: string; default: string };
      // ./register is a module run for its effect (node --import), bundled as the CLI is; its types are tsc's.
      if (name === './register') {
        assert.equal(js, './dist/bundle/register/register.js');
        assert.equal(types, './dist/register/register.d.ts');
      } else {
        assert.match(js, /^\.\/dist\/(.+\/)?index\.js$/, name);
        assert.equal(types, js.replace(/\.js$/, '.d.ts'), name);
      }
      await access(`${ROOT}${js}`);
      await access(`${ROOT}${types}`);
    }
    assert.equal(pkg.main, (pkg.exports['.'] as { default: string }).default);
    assert.equal(pkg.types, (pkg.exports['.'] as { types: string }).types);
  });

  it('is publishable: not private, a LICENSE matching `license`, engines from require(esm) on', async () => {
    assert.equal(pkg.private, undefined);
    assert.equal(pkg.license, 'Apache-2.0');
    assert.match(await readFile(`${ROOT}LICENSE`, 'utf8'), /^\s+Apache License\n\s+Version 2\.0, January 2004\n/);
    assert.equal(pkg.engines.node, '>=22.12.0');
  });

  it("takes @opentelemetry/api as a peer with the SDK's own range, so an app's copy is the one copy", async () => {
    const sdk = JSON.parse(await readFile(`${ROOT}node_modules/@opentelemetry/sdk-metrics/package.json`, 'utf8')) as { peerDependencies: Record<string, string> };
    assert.equal(pkg.peerDependencies['@opentelemetry/api'], sdk.peerDependencies['@opentelemetry/api']);
    assert.equal(pkg.dependencies['@opentelemetry/api'], undefined);
    assert.match(pkg.devDependencies['@opentelemetry/api']!, /^\d+\.\d+\.\d+$/);
    for (const [name, range] of Object.entries(pkg.dependencies)) assert.match(range, /^\^\d+\.\d+\.\d+$/, name);
  });

  it('lists as side effects only the modules that act when imported, each of them built', async () => {
    assert.deepEqual(pkg.sideEffects, [
      './dist/cli/bin.js',
      './dist/cli/cli.js',
      './dist/register/register.js',
      './dist/bundle/cli/bin.js',
      './dist/bundle/register/register.js',
      './dist/proxy/upstream/wasm-baseline.js',
    ]);
    for (const file of pkg.sideEffects) await access(`${ROOT}${file}`);
  });

  it('points the bin at the bundled CLI', async () => {
    assert.equal(pkg.bin['queue-stats'], 'dist/bundle/cli/bin.js');
    assert.match(await readFile(`${ROOT}${pkg.bin['queue-stats']}`, 'utf8'), /^#!\/usr\/bin\/env -S node /);
  });
});

describe('importing the package by its name', () => {
  it('gives the reporter, tracking, the statistics, the identity check and the errors at the root', async () => {
    const root = (await import(pkg.name)) as typeof RootEntry;
    assert.equal(typeof root.StatsReporter, 'function');
    assert.equal(typeof root.RequestTracker, 'function');
    assert.equal(typeof root.RequestStats, 'function');
    assert.equal(typeof root.ReportingLoop, 'function');
    assert.equal(typeof root.ConfigError, 'function');
    assert.equal(typeof root.PortInUseError, 'function');
    assert.equal(typeof root.classifyRequest, 'function');
    assert.equal(root.VERSION, pkg.version);
  });

  it('gives startQueueStats at /queue-stats', async () => {
    const entry = (await import(`${pkg.name}/queue-stats`)) as typeof QueueStatsEntry;
    assert.equal(typeof entry.startQueueStats, 'function');
  });

  it('gives the metrics server and the Stat encoding at /metrics-server', async () => {
    const entry = (await import(`${pkg.name}/metrics-server`)) as typeof MetricsServerEntry;
    assert.equal(typeof entry.startMetricsServer, 'function');
    assert.equal(entry.PROTOBUF_MEDIA_TYPE, 'application/protobuf');
    const stat = { podName: 'p', averageConcurrentRequests: 1.5, averageProxiedConcurrentRequests: 0.5, requestCount: 3, proxiedRequestCount: 1, processUptime: 7 };
    assert.deepEqual(entry.decodeStat(entry.encodeStat(stat)), { ...stat, timestamp: 0 });
  });

  it('gives startProxy at /proxy', async () => {
    const entry = (await import(`${pkg.name}/proxy`)) as typeof ProxyEntry;
    assert.equal(typeof entry.startProxy, 'function');
  });
});

describe('what importing the package root loads', () => {
  it('is the reporter and its API, and none of the proxy, undici, protobufjs, the OTel SDK and exporters or the metrics server', async () => {
    const urls = await urlsLoadedBy(pkg.name);
    const dist = new URL('../../dist/', import.meta.url).href;
    // The hook saw the import at all: the root and the reporter were resolved from dist/.
    assert.ok(urls.includes(`${dist}index.js`), urls.join('\n'));
    assert.ok(urls.includes(`${dist}otel/reporter.js`), urls.join('\n'));
    const forbidden = [
      /\/node_modules\/undici\//,
      /\/node_modules\/protobufjs\//,
      /\/node_modules\/@opentelemetry\/exporter-/,
      /\/node_modules\/@opentelemetry\/sdk-metrics\//,
      /\/node_modules\/@opentelemetry\/resources\//,
      /\/node_modules\/@opentelemetry\/(sdk-trace|sdk-trace-base|propagator-b3)\//,
    ];
    const ours = [`${dist}proxy/`, `${dist}metrics-server/`, `${dist}queue-stats/`, `${dist}cli/`, `${dist}otel/otlp.js`, `${dist}trace/`];
    const unwanted = urls.filter((url) => forbidden.some((pattern) => pattern.test(url)) || ours.some((prefix) => url.startsWith(prefix)));
    assert.deepEqual(unwanted, []);
  });

  it("includes undici's Pool, but not undici's index (fetch, WebSocket, mocks), once /proxy is imported (so the check above can fail)", async () => {
    const urls = await urlsLoadedBy(`${pkg.name}/proxy`);
    assert.ok(
      urls.some((url) => url.endsWith('/node_modules/undici/lib/dispatcher/pool.js')),
      urls.join('\n'),
    );
    assert.deepEqual(
      urls.filter((url) => /\/node_modules\/undici\/(index\.js|lib\/web\/|lib\/mock\/)/.test(url)),
      [],
    );
    // The gRPC readiness check (node:http2, protobufjs) loads only when a grpc probe first runs; nothing of tracing
    // loads with the proxy (its `tracer` option is an interface of the core).
    const dist = new URL('../../dist/', import.meta.url).href;
    assert.deepEqual(
      urls.filter(
        (url) =>
          /\/node_modules\/(protobufjs|@opentelemetry\/(sdk-trace|sdk-trace-base|propagator-b3|exporter-trace-otlp-http|exporter-trace-otlp-proto))\//.test(url) ||
          url.startsWith(`${dist}proxy/admin/grpc-health`) ||
          url.startsWith(`${dist}trace/`),
      ),
      [],
    );
  });
});

describe('what a running startQueueStats loads', () => {
  it('without an OTLP endpoint and without a protobuf scrape: no OTLP exporter, no protobufjs', async () => {
    const urls = await urlsLoadedBy(
      `${pkg.name}/queue-stats`,
      "const stats = await entry.startQueueStats({ port: 0, host: '127.0.0.1', namespace: 'a', config: 'b', revision: 'c', pod: 'd', env: {} }); await stats.close();",
    );
    const dist = new URL('../../dist/', import.meta.url).href;
    assert.ok(urls.includes(`${dist}metrics-server/server.js`), urls.join('\n'));
    assert.deepEqual(
      urls.filter((url) => /\/node_modules\/(@opentelemetry\/exporter-metrics-otlp-|protobufjs\/)/.test(url) || url === `${dist}otel/otlp.js` || url === `${dist}metrics-server/stat-proto.js`),
      [],
    );
  });

  it('loads protobufjs at the first protobuf scrape (so the check above can fail)', async () => {
    const urls = await urlsLoadedBy(
      `${pkg.name}/queue-stats`,
      "const stats = await entry.startQueueStats({ port: 0, host: '127.0.0.1', namespace: 'a', config: 'b', revision: 'c', pod: 'd', env: {} }); const answer = await fetch(stats.metricsServer.url, { headers: { accept: 'application/protobuf' } }); if (answer.headers.get('content-type') !== 'application/protobuf') throw new Error(String(answer.status)); await stats.close();",
    );
    const dist = new URL('../../dist/', import.meta.url).href;
    assert.ok(urls.includes(`${dist}metrics-server/stat-proto.js`), urls.join('\n'));
    assert.ok(
      urls.some((url) => /\/node_modules\/protobufjs\//.test(url)),
      urls.join('\n'),
    );
  });
});

describe('requiring the package from CommonJS', () => {
  it('gives each entry point through require(esm), unflagged from Node 22.12 (the engines floor)', async () => {
    const script = `const names = ['', '/queue-stats', '/metrics-server', '/proxy'].map((entry) => Object.keys(require(${JSON.stringify(pkg.name)} + entry)).sort().join(',')); console.log(JSON.stringify(names));`;
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['-e', script], { cwd: ROOT, timeout: 30_000 }, (error, out, stderr) => {
        if (error) reject(new Error(`${error.message}\n${stderr}`));
        else resolve(out);
      });
    });
    const [root, queueStats, metricsServer, proxy] = JSON.parse(stdout) as string[];
    assert.equal(
      root,
      Object.keys((await import(pkg.name)) as typeof RootEntry)
        .sort()
        .join(','),
    );
    assert.equal(queueStats, 'startQueueStats,startRequestTelemetry');
    assert.equal(metricsServer, 'PROTOBUF_MEDIA_TYPE,TEXT_CONTENT_TYPE,decodeStat,encodeStat,startMetricsServer');
    assert.equal(
      proxy,
      Object.keys((await import(`${pkg.name}/proxy`)) as typeof ProxyEntry)
        .sort()
        .join(','),
    );
  });
});
