// @ts-check
/**
 * Bundles the two entry points that start a process, after `tsc` has built dist/: the CLI into
 * dist/bundle/cli/ and the `--import` register mode into dist/bundle/register/. One file each
 * instead of about 250 modules cuts the CLI's start-up by about a third and its idle RSS by about
 * 5 MB (BENCHMARKS.md, `startup`); what loads on demand (the OTLP exporters, protobufjs, the gRPC
 * health check) stays in chunks of its own. The library's entries are not bundled: an app's own
 * bundler or Node resolves them.
 *
 * The register mode keeps `@opentelemetry/api` outside its bundle, so that it shares the app's one
 * copy of the API (its global MeterProvider). The CLI is a process of its own and bundles it:
 * loading it from node_modules through Node's ESM loader cost 4 MB of RSS and 30 ms.
 */
import { build } from 'esbuild';

/** The bundled dependencies are CommonJS that `require` Node's own modules: an ES module has no `require` of its own. */
const REQUIRE_SHIM = "import { createRequire as queueStatsCreateRequire } from 'node:module'; const require = queueStatsCreateRequire(import.meta.url);";

/**
 * Node's own modules, and the packages a bundle leaves to Node (`external`), are loaded with `require` where our ES
 * modules import them. Importing a built-in as an ES module makes Node read every one of its exports to build the
 * module's facade, which runs the built-in's lazy getters: on Node 24 that loads the undici copy inside Node behind
 * `node:http`'s `WebSocket` export (13 ms of the CLI's start-up in a profile), though the sidecar never uses it. An
 * external package imported as an ES module goes through Node's ES module loader file by file (the
 * `@opentelemetry/api` of the register bundle: its ESM build is about 60 files); `require` loads its CommonJS build.
 * esbuild's CommonJS interop reads a property only where the code uses it. `node:module` stays an import (the
 * banner's `require` comes from it), and so do dynamic imports, which load a module only when it is needed anyway.
 *
 * @param {string[]} external - packages left to Node's resolution
 * @returns {import('esbuild').Plugin}
 */
function loadByRequire(external) {
  const byRequire = (/** @type {string} */ path) => (path.startsWith('node:') ? path !== 'node:module' : external.includes(path));
  return {
    name: 'load-by-require',
    setup(build) {
      build.onResolve({ filter: /.*/ }, (args) => (args.kind === 'import-statement' && byRequire(args.path) ? { path: args.path, namespace: 'by-require' } : undefined));
      build.onLoad({ filter: /.*/, namespace: 'by-require' }, (args) => ({ contents: `module.exports = require(${JSON.stringify(args.path)});`, loader: 'js' }));
    },
  };
}

/**
 * @param {string} entry - the tsc-built entry point
 * @param {string} outdir - where the bundle and its chunks go
 * @param {string[]} external - packages left to Node's resolution
 */
function bundle(entry, outdir, external) {
  return build({
    entryPoints: [entry],
    outdir,
    entryNames: '[name]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    external,
    banner: { js: REQUIRE_SHIM },
    plugins: [loadByRequire(external)],
    logLevel: 'warning',
  });
}

await Promise.all([bundle('dist/cli/bin.js', 'dist/bundle/cli', []), bundle('dist/register/register.js', 'dist/bundle/register', ['@opentelemetry/api'])]);
