/**
 * Keeps WebAssembly on V8's baseline compiler (Liftoff) in the sidecar's
 * process, when evaluated before undici compiles its HTTP parser, which is
 * WebAssembly (llhttp): the CLI and the stats-off bench server import it
 * first. Tiering that parser up to TurboFan under load costs about 30 MB of
 * peak RSS, a third of the sidecar's memory; what the slower parser costs
 * in CPU per request is measured in BENCHMARKS.md (`proxy`). A sidecar runs
 * beside every pod, so memory wins.
 *
 * The bin's shebang, `npm start` and the Dockerfile pass `--liftoff-only`
 * to Node already; `node:v8` is loaded to set it only when they did not
 * (loading it costs about 4 % of the CLI's start-up).
 */
const LIFTOFF_ONLY = '--liftoff-only';

if (!process.execArgv.includes(LIFTOFF_ONLY)) (await import('node:v8')).setFlagsFromString(LIFTOFF_ONLY);
