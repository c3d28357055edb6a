import { requirePort } from '../../src/core/checks.js';

/** The port a server entry of bench/servers/ listens on: its first argument, so the parent knows where to poll and point wrk. */
export function portArgument(): number {
  return requirePort('port', Number(process.argv[2]));
}

/** Exits when stdin (a pipe from the parent) closes, so no server outlives a benchmark run, even when the runner is killed. */
export function exitWithParent(onExit: () => void = () => process.exit(0)): void {
  process.stdin.on('end', onExit);
  process.stdin.resume();
}
