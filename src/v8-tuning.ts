/**
 * V8 settings for the sidecar process, applied when this module is
 * evaluated. The CLI imports it first, before undici compiles its
 * WebAssembly HTTP parser.
 *
 * `--liftoff-only` keeps that parser on V8's baseline WebAssembly compiler.
 * Tiering it up to TurboFan under load costs about 15 MB of peak RSS (VmHWM
 * 113 MB without, 99 MB with, wrk -c32). The price is CPU: about 12% more
 * per request in a median of six noisy rounds on a 2-core machine. A sidecar
 * runs beside every pod, so memory wins (see BENCHMARKS.md). The
 * young-generation size, the other large part of the sidecar's memory, can
 * only be set at start-up: `npm start`, the bin's shebang and the Dockerfile
 * pass `--max-semi-space-size=1`.
 */
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--liftoff-only');
