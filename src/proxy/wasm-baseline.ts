/**
 * Keeps WebAssembly on V8's baseline compiler (Liftoff) in the sidecar's
 * process, when evaluated before undici compiles its HTTP parser, which is
 * WebAssembly (llhttp): the CLI and the stats-off bench server import it
 * first. Tiering that parser up to TurboFan under load costs about 30 MB of
 * peak RSS, a third of the sidecar's memory; what the slower parser costs
 * in CPU per request is measured in BENCHMARKS.md (`proxy`). A sidecar runs
 * beside every pod, so memory wins.
 */
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--liftoff-only');
