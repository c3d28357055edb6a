import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { posix } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * The layers of src/ as ARCHITECTURE.md draws them, bottom to top, and the
 * folders each may import besides its own. Every entry points down only, so
 * the folders cannot form a cycle; src/index.ts, the package root, only
 * re-exports and is checked on its own.
 */
const LAYERS = ['core', 'http', 'log', 'tracking', 'otel', 'trace', 'metrics-server', 'queue-stats', 'proxy', 'register', 'cli'] as const;
type Layer = (typeof LAYERS)[number];
const MAY_IMPORT: Record<Layer, readonly Layer[]> = {
  core: [],
  http: ['core'],
  log: ['core'],
  tracking: ['core', 'http'],
  otel: ['core'],
  trace: ['core', 'otel'],
  'metrics-server': ['core', 'http'],
  'queue-stats': ['core', 'http', 'tracking', 'otel', 'metrics-server'],
  proxy: ['core', 'http', 'tracking'],
  register: ['core', 'http', 'tracking', 'otel', 'metrics-server', 'queue-stats'],
  cli: ['core', 'http', 'log', 'tracking', 'otel', 'trace', 'metrics-server', 'queue-stats', 'proxy'],
};
/**
 * The sub-folders of proxy/ as ARCHITECTURE.md's "Inside proxy/" draws them, bottom
 * to top, and those each may import besides its own; the files at the top of
 * proxy/ wire them and may import any.
 */
const PROXY_PARTS = ['contract', 'upstream', 'connections', 'admin', 'http1', 'http2', 'tls'] as const;
type ProxyPart = (typeof PROXY_PARTS)[number];
const PROXY_PART_MAY_IMPORT: Record<ProxyPart, readonly ProxyPart[]> = {
  contract: [],
  upstream: [],
  connections: [],
  admin: ['contract'],
  http1: ['contract', 'upstream'],
  http2: ['contract', 'upstream', 'admin'],
  tls: [],
};
/** The files at the top of proxy/. */
const PROXY_TOP = ['index.ts', 'proxy-options.ts', 'proxy.ts'];

/** What the package root may re-export from: the reporter's path, which needs `@opentelemetry/api` alone. */
const ROOT_EXPORTS_FROM: readonly Layer[] = ['core', 'tracking', 'otel'];

/** src/ of the repository; compiled tests run from build/test/. */
const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

interface SourceFile {
  /** Path under src/, with forward slashes: `proxy/proxy.ts`. */
  path: string;
  /** The module specifiers the file imports or re-exports, type-only ones included. */
  specifiers: string[];
  /** The text without comments. */
  code: string;
}

/** The specifiers of `import ... from '...'`, `export ... from '...'`, `import '...'` and `import('...')`, in order. */
function specifiersOf(code: string): string[] {
  return [...code.matchAll(/\bfrom\s+'([^']+)'|^\s*import\s+'([^']+)'|\bimport\(\s*'([^']+)'\s*\)/gm)].map((match) => (match[1] ?? match[2] ?? match[3])!);
}

/** Drops block comments and whole-line `//` comments, so that examples in TSDoc are not taken for imports. */
function withoutComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
}

async function sourceFiles(): Promise<SourceFile[]> {
  const paths = (await readdir(SRC, { recursive: true })).map((path) => path.split('\\').join('/')).filter((path) => path.endsWith('.ts'));
  return Promise.all(
    paths.sort().map(async (path) => {
      const code = withoutComments(await readFile(SRC + path, 'utf8'));
      return { path, specifiers: specifiersOf(code), code };
    }),
  );
}

/** The folder of src/ that a relative specifier of `from` points into (`''` for a file at the top of src/). */
function targetFolder(from: string, specifier: string): string {
  const target = posix.normalize(posix.join(posix.dirname(from), specifier));
  assert.ok(!target.startsWith('../'), `${from} imports ${specifier}, outside src/`);
  return target.includes('/') ? target.slice(0, target.indexOf('/')) : '';
}

function isLayer(folder: string): folder is Layer {
  return (LAYERS as readonly string[]).includes(folder);
}

/** Lines `file -> specifier` for every relative import that `allowed` rejects. */
function violations(files: SourceFile[], allowed: (folder: Layer, target: string) => boolean): string[] {
  return files.flatMap(({ path, specifiers }) => {
    const folder = path.slice(0, path.indexOf('/'));
    if (!isLayer(folder)) return [];
    return specifiers.filter((s) => s.startsWith('.') && !allowed(folder, targetFolder(path, s))).map((s) => `${path} -> ${s}`);
  });
}

describe('the layers of src/', () => {
  it('point down only, so the folders cannot form a cycle', () => {
    for (const layer of LAYERS) {
      for (const lower of MAY_IMPORT[layer]) {
        assert.ok(LAYERS.indexOf(lower) < LAYERS.indexOf(layer), `${layer} may import ${lower}, which is not below it`);
      }
    }
  });

  it('are the only folders, with index.ts alone at the top', async () => {
    const entries = await readdir(SRC, { withFileTypes: true });
    const folders = entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name);
    const files = entries.filter((entry) => !entry.isDirectory()).map((entry) => entry.name);
    assert.deepEqual(folders.sort(), [...LAYERS].sort());
    assert.deepEqual(files, ['index.ts']);
  });
});

describe('imports between folders', () => {
  it('go from each folder to itself or a layer it may import', async () => {
    const files = await sourceFiles();
    assert.ok(files.length > 30, `only ${files.length} files found under ${SRC}`);
    assert.deepEqual(
      violations(files, (folder, target) => target === folder || (isLayer(target) && MAY_IMPORT[folder].includes(target))),
      [],
    );
  });

  it('are caught when they point up (the check itself)', () => {
    const upward: SourceFile = { path: 'core/stats.ts', specifiers: ['./clock.js', '../proxy/proxy.js'], code: '' };
    const files = [upward, { path: 'tracking/loop.ts', specifiers: ['../queue-stats/queue-stats.js'], code: '' }];
    assert.deepEqual(
      violations(files, (folder, target) => target === folder || (isLayer(target) && MAY_IMPORT[folder].includes(target))),
      ['core/stats.ts -> ../proxy/proxy.js', 'tracking/loop.ts -> ../queue-stats/queue-stats.js'],
    );
  });

  it('leave the core free of packages: Node built-ins only, no OpenTelemetry', async () => {
    const core = (await sourceFiles()).filter(({ path }) => path.startsWith('core/'));
    const packages = core.flatMap(({ path, specifiers }) => specifiers.filter((s) => !s.startsWith('.') && !s.startsWith('node:')).map((s) => `${path} -> ${s}`));
    assert.deepEqual(packages, []);
  });
});

/** The sub-folder of proxy/ a path under src/ lies in: `'http1'` for `proxy/http1/exchange.ts`, `''` for a file at the top of proxy/. */
function proxyPart(path: string): string {
  const [, part, file] = path.split('/');
  return file === undefined ? '' : part!;
}

function isProxyPart(part: string): part is ProxyPart {
  return (PROXY_PARTS as readonly string[]).includes(part);
}

describe('the sub-folders of proxy/', () => {
  it('point down only, and are the only folders beside the wiring files', async () => {
    for (const part of PROXY_PARTS) {
      for (const lower of PROXY_PART_MAY_IMPORT[part]) {
        assert.ok(PROXY_PARTS.indexOf(lower) < PROXY_PARTS.indexOf(part), `proxy/${part} may import ${lower}, which is not below it`);
      }
    }
    const entries = await readdir(SRC + 'proxy', { withFileTypes: true });
    assert.deepEqual(
      entries
        .filter((entry) => entry.isDirectory())
        .map((entry) => entry.name)
        .sort(),
      [...PROXY_PARTS].sort(),
    );
    assert.deepEqual(
      entries
        .filter((entry) => !entry.isDirectory())
        .map((entry) => entry.name)
        .sort(),
      PROXY_TOP,
    );
  });

  it('import only their own sub-folder and those they may', async () => {
    const proxyFiles = (await sourceFiles()).filter(({ path }) => path.startsWith('proxy/') && proxyPart(path) !== '');
    const wrong = proxyFiles.flatMap(({ path, specifiers }) => {
      const part = proxyPart(path);
      assert.ok(isProxyPart(part), `${path} is in an unknown sub-folder`);
      return specifiers
        .filter((s) => s.startsWith('.'))
        .map((s) => posix.normalize(posix.join(posix.dirname(path), s)))
        .filter((target) => target.startsWith('proxy/'))
        .filter((target) => {
          const to = proxyPart(target);
          return to !== part && !(isProxyPart(to) && PROXY_PART_MAY_IMPORT[part].includes(to));
        })
        .map((target) => `${path} -> ${target}`);
    });
    assert.deepEqual(wrong, []);
  });
});

describe('entry points', () => {
  it('only re-export: src/index.ts and each index.ts of a folder', async () => {
    const entries = (await sourceFiles()).filter(({ path }) => posix.basename(path) === 'index.ts');
    assert.deepEqual(entries.map(({ path }) => path).sort(), ['index.ts', 'metrics-server/index.ts', 'proxy/index.ts', 'queue-stats/index.ts']);
    for (const { path, code } of entries) {
      const statements = code
        .split(';')
        .map((statement) => statement.trim())
        .filter((statement) => statement !== '');
      for (const statement of statements) {
        assert.match(statement, /^export\s+(type\s+)?\{[^}]*\}\s+from\s+'\.\/[^']+'$/, `${path}: ${statement}`);
      }
    }
  });

  it('the package root re-exports from the core, tracking and the reporter only', async () => {
    const root = (await sourceFiles()).find(({ path }) => path === 'index.ts')!;
    const outside = root.specifiers.filter((s) => !ROOT_EXPORTS_FROM.some((layer) => s.startsWith(`./${layer}/`)));
    assert.deepEqual(outside, []);
  });

  it("the CLI's first import sets V8's WebAssembly tier before undici loads", async () => {
    const cli = (await sourceFiles()).find(({ path }) => path === 'cli/cli.ts')!;
    assert.equal(cli.specifiers[0], '../proxy/upstream/wasm-baseline.js');
  });

  it('the bin turns on the compile cache before it loads the CLI, and passes the V8 flags in its shebang', async () => {
    const bin = await readFile(SRC + 'cli/bin.ts', 'utf8');
    assert.match(bin, /^#!\/usr\/bin\/env -S node --max-semi-space-size=4 --liftoff-only --no-maglev --expose-gc\n/);
    assert.ok(bin.indexOf('enableCompileCache();') < bin.indexOf("await import('./cli.js');"));
    assert.deepEqual((await sourceFiles()).find(({ path }) => path === 'cli/bin.ts')!.specifiers, ['node:module', './cli.js']);
  });
});
