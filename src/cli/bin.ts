#!/usr/bin/env -S node --max-semi-space-size=4 --liftoff-only --no-maglev --expose-gc
/**
 * The `queue-stats` executable: turns on Node's module compile cache, then
 * runs the CLI (cli.ts), so that V8's code for the CLI is read from the cache
 * instead of compiled again at every start. The cache is a directory of
 * Node's choosing (`NODE_COMPILE_CACHE`, else `node-compile-cache` in the
 * system's temporary directory); `NODE_DISABLE_COMPILE_CACHE=1` turns it off,
 * and a directory that cannot be written only leaves it off. The CLI flushes
 * it once it has started (see cli.ts), since a sidecar is usually stopped by
 * a signal rather than left to exit.
 */
import { enableCompileCache } from 'node:module';

enableCompileCache();
await import('./cli.js');
