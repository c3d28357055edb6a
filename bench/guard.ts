/**
 * Runs a non-Node bench server (the Go reporter, later nginx) so that it
 * cannot outlive the bench: it is killed when this process's stdin (a pipe
 * from the runner) closes, which happens even when the runner is killed, and
 * when this process gets SIGTERM. Exits with the server's exit code.
 * Usage: node build/bench/guard.js <command> [args...]
 */
import { spawn } from 'node:child_process';

const [command, ...args] = process.argv.slice(2);
if (command === undefined) {
  console.error('usage: guard.js <command> [args...]');
  process.exit(2);
}
const server = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'] });
const stop = (): void => {
  server.kill('SIGTERM');
};
server.once('error', (error) => {
  console.error(error);
  process.exit(1);
});
server.once('exit', (code, signal) => process.exit(code ?? (signal === null ? 1 : 0)));
process.once('SIGTERM', stop);
process.stdin.once('end', stop);
process.stdin.resume();
