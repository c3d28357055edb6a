import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { KNATIVE_ENV, SIDECAR_ENV } from '../../src/core/defaults.js';

/** The compiled CLI entry (tests run from build/test/). */
export const CLI = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url));

/** The Node flags of the bin's shebang line, with which the installed `queue-stats` runs. */
export const SHEBANG_FLAGS: readonly string[] = readFileSync(CLI, 'utf8').split('\n', 1)[0]!.split(' ').slice(3);

/** A running `queue-stats` child process. */
export interface CliProcess {
  readonly child: ChildProcess;
  /** Everything it printed so far, stdout and stderr together. */
  output(): string;
  /** Resolves with the exit code once it exits. */
  readonly exited: Promise<number | null>;
  /** Sends SIGKILL if it is still running. */
  kill(): void;
  /** The ports it listens on, once its start-up line is out. */
  readonly ports: CliPorts | undefined;
}

/** The ports a started CLI listens on, as its start-up line names them; a metrics endpoint that is off has none. */
export interface CliPorts {
  readonly proxy: number;
  readonly metrics: number | undefined;
  readonly requestMetrics: number | undefined;
  readonly admin: number;
  /** The TLS port, when it listens (the certificate files are there). */
  readonly tls: number | undefined;
}

/** Each listening port's flag, and the environment variable that sets it where there is one. */
const LISTEN_FLAGS: ReadonlyArray<[string, string | undefined]> = [
  ['--port', KNATIVE_ENV.servingPort],
  ['--metrics-port', SIDECAR_ENV.metricsPort],
  ['--request-metrics-port', undefined],
  ['--admin-port', undefined],
  ['--tls-port', KNATIVE_ENV.tlsServingPort],
];

const STARTED =
  /: proxy http:\/\/\S+:(\d+) -> .*?, metrics (?:http:\/\/\S+:(\d+)\/\S*|\(prometheus endpoint off\)), request metrics (?:http:\/\/\S+:(\d+)\/\S*|\(prometheus endpoint off\)), admin http:\/\/\S+:(\d+)/;

/** The TLS port in the start-up line, named after the upstream when it listens. */
const TLS_STARTED = /: proxy http:\/\/\S+ -> \S+, tls https:\/\/\S+:(\d+),/;

/** The bound ports named by a CLI's start-up line in `output`, if it has one. */
export function portsIn(output: string): CliPorts | undefined {
  const match = STARTED.exec(output);
  if (match === null) return undefined;
  const port = (text: string | undefined): number | undefined => (text === undefined ? undefined : Number(text));
  return { proxy: Number(match[1]), metrics: port(match[2]), requestMetrics: port(match[3]), admin: Number(match[4]), tls: port(TLS_STARTED.exec(output)?.[1]) };
}

/**
 * Starts the CLI with `args` and an environment holding only PATH and `env`,
 * and waits until it prints its start-up line (or exits). Every listening
 * port that neither `args` nor `env` sets is given as 0: the CLI binds a
 * free one and names it in its start-up line, read back as
 * {@link CliProcess.ports}. Tests run several sidecars at once, and a port
 * picked by the test and bound later by the child could be taken meanwhile.
 * `nodeFlags` go to Node before the CLI ({@link SHEBANG_FLAGS}: as the bin runs).
 */
export async function startCli(args: string[], env: Record<string, string> = {}, nodeFlags: readonly string[] = []): Promise<CliProcess> {
  const ports: string[] = [];
  for (const [flag, variable] of LISTEN_FLAGS) {
    if (args.some((arg) => arg === flag || arg.startsWith(`${flag}=`)) || (variable !== undefined && variable in env)) continue;
    ports.push(flag, '0');
  }
  const child = spawn(process.execPath, [...nodeFlags, CLI, ...ports, ...args], { env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
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
    get ports() {
      return portsIn(text);
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

/** The ports of a CLI that started, with its metrics endpoints on; throws with its output otherwise. */
export function boundPorts(cli: CliProcess): CliPorts & { readonly metrics: number; readonly requestMetrics: number } {
  const ports = cli.ports;
  if (cli.child.exitCode !== null || ports?.metrics === undefined || ports.requestMetrics === undefined) throw new Error(`the sidecar did not start: ${cli.output()}`);
  return { ...ports, metrics: ports.metrics, requestMetrics: ports.requestMetrics };
}

/** The JSON objects among `output`'s lines: the CLI's log lines when its stdout is not a terminal. */
export function jsonLines(output: string): Record<string, unknown>[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** The `message` of each of the CLI's JSON log lines in `output`, one a line. */
export function messages(output: string): string {
  return jsonLines(output)
    .map((line) => String(line['message']))
    .join('\n');
}
