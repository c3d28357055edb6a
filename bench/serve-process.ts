import { requirePort } from '../src/core/checks.js';

/**
 * The port a bench server entry must listen on: its first command-line
 * argument, so the parent knows where to poll and point wrk.
 *
 * @throws ConfigError (field `port`) when the argument is not a port number
 */
export function portArgument(): number {
  return requirePort('port', Number(process.argv[2]));
}

/**
 * Keeps a bench server alive while its parent lives: the process exits when
 * its stdin (a pipe from the parent) closes, so no server outlives a bench
 * run, even when the parent is killed.
 */
export function exitWithParent(): void {
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
}
