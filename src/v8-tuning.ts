/**
 * V8 settings for the sidecar process, applied when this module is
 * evaluated. The CLI imports it first, before undici compiles its
 * WebAssembly HTTP parser.
 *
 * `--liftoff-only` keeps that parser on V8's baseline WebAssembly compiler:
 * tiering it up to TurboFan under load costs about 15 MB of peak RSS. The
 * young-generation size, the other large part of the sidecar's memory, can
 * only be set at start-up: `npm start`, the bin's shebang and the Dockerfile
 * pass `--max-semi-space-size=1`. Together, under wrk -c32, they take the
 * proxy's peak RSS from about 115 MB to 72 MB (0.63x) for 5 to 28% more CPU
 * per request (`npm run bench -- v8-tuning`, four noisy runs, BENCHMARKS.md). A sidecar runs
 * beside every pod, so memory wins; run `node dist/src/cli.js` without the
 * flag to give some of it back for throughput.
 */
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--liftoff-only');
