import { createRequire } from 'node:module';

/** This package's name, as its package.json spells it; also the instrumentation scope of the gauges. */
export const PACKAGE_NAME = 'queue-stats-exporter';

/**
 * This package's version, read from its package.json. Resolved through the
 * package's own name (Node's self-reference, allowed by the `./package.json`
 * entry of `exports`), so it works from whatever folder the compiled file sits
 * in, inside the repository or installed under `node_modules`.
 */
export const VERSION: string = (createRequire(import.meta.url)(`${PACKAGE_NAME}/package.json`) as { version: string }).version;
