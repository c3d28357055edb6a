import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from './http.js';

/** The compiled CLI entry (tests run from build/test/). */
export const CLI = fileURLToPath(new URL('../../src/cli/cli.js', import.meta.url));

/** A running `queue-stats` child process. */
export interface CliProcess {
  readonly child: ChildProcess;
  /** Everything it printed so far, stdout and stderr together. */
  output(): string;
  /** Resolves with the exit code once it exits. */
  readonly exited: Promise<number | null>;
  /** Sends SIGKILL if it is still running. */
  kill(): void;
}

/**
 * Starts the CLI with `args` and an environment holding only PATH and `env`,
 * and waits until it prints its start-up line (or exits). Unless `args` name
 * them, a free `--request-metrics-port` and `--admin-port` are added (never
 * a number that `args` or `env` name): tests run several sidecars at once,
 * and they would all take 9091 and 8022.
 */
export async function startCli(args: string[], env: Record<string, string> = {}): Promise<CliProcess> {
  const ports: string[] = [];
  // A port the test picked but left unbound (an upstream that is down, say) is free to the OS: never reuse one named in args or env.
  const named = new Set(`${args.join(' ')} ${Object.values(env).join(' ')}`.match(/\d+/g));
  for (const flag of ['--request-metrics-port', '--admin-port']) {
    if (args.some((arg) => arg.startsWith(flag))) continue;
    let port = String(await freePort());
    while (named.has(port)) port = String(await freePort());
    named.add(port);
    ports.push(flag, port);
  }
  const child = spawn(process.execPath, [CLI, ...ports, ...args], { env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (text += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (text += c));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const cli: CliProcess = {
    child,
    output: () => text,
    exited,
    kill: () => {
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
  const deadline = Date.now() + 10_000;
  while (!text.includes('queue-stats ') && child.exitCode === null && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
  return cli;
}

/** Runs the CLI to completion; resolves with its exit code and output. */
export async function runCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
  const cli = await startCli(args, env);
  const code = await cli.exited;
  return { code, output: cli.output() };
}
