/**
 * A module resolve hook for `register()` from `node:module`: it writes every
 * URL that the ESM loader resolves to standard output, one a line. Node runs
 * hooks on a thread of their own; writing synchronously to file descriptor 1
 * puts each line out before the import that asked for it completes, so a
 * parent that reads the child's output after it exits has them all, with no
 * messages between threads to wait for. A package imported from ESM shows up
 * here even when it is CommonJS (its own `require` calls do not, but the
 * package's first file is enough to say it was loaded).
 */
import { writeSync } from 'node:fs';
import type { ResolveHook } from 'node:module';

export const resolve: ResolveHook = async (specifier, context, nextResolve) => {
  const resolved = await nextResolve(specifier, context);
  writeSync(1, `${resolved.url}\n`);
  return resolved;
};
