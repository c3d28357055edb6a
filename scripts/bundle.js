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
    logLevel: 'warning',
  });
}

await Promise.all([bundle('dist/cli/bin.js', 'dist/bundle/cli', []), bundle('dist/register/register.js', 'dist/bundle/register', ['@opentelemetry/api'])]);
