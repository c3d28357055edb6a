/**
 * Runs a benchmark server that would outlive the runner (nginx, the Go anchor, the CLI, which does not watch stdin)
 * and kills it when this process's stdin, a pipe from the runner, closes (even when the runner is killed) or when
 * this process gets SIGTERM. Exits with the server's exit code.
 * Usage: node dist/bench/servers/guard.js <command> [args...]
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
