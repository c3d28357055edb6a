import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

/** A server running in a child process, ready to answer. */
export interface ChildServer {
  /** The URL that answered 200 when the server became ready. */
  readonly url: string;
  /** Terminates the process (SIGTERM) and waits for it to exit. Idempotent. */
  stop(): Promise<void>;
}

/** How to start one child server: an executable (`process.execPath`, `/tmp/go-reporter`) and its arguments. */
export type ChildCommand = readonly [executable: string, ...args: string[]];

const READY_TIMEOUT_MS = 10_000;
const running = new Set<ChildProcess>();
// Safety net: a benchmark that throws must not leave servers behind.
process.on('exit', () => {
  for (const child of running) child.kill('SIGTERM');
});

/** A TCP port on 127.0.0.1 that was free a moment ago, for servers that cannot report the port they bound. */
export { freePort } from '../../test/helpers/http.js';

/** True when `path` exists and this process may execute it (a hand-built anchor binary in /tmp, say). */
export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The command that runs a compiled server entry of bench/servers/ (e.g. `serve-app.js`) with this Node binary, after `nodeFlags`. */
export function nodeEntry(file: string, args: readonly string[], nodeFlags: readonly string[] = []): ChildCommand {
  return [process.execPath, ...nodeFlags, fileURLToPath(new URL(`../servers/${file}`, import.meta.url)), ...args];
}

/** `command` under bench/servers/guard.ts, for servers that would outlive the runner: not Node, or not watching stdin. */
export function guarded(command: string, args: readonly string[]): ChildCommand {
  return nodeEntry('guard.js', [command, ...args]);
}

/** Whether a GET of `url` over HTTP/1.1 answers 200. */
function answers200(url: string): Promise<boolean> {
  return fetch(url).then((response) => response.arrayBuffer().then(() => response.status === 200));
}

/**
 * Starts a server process and polls `url` until it answers 200 (or `ready`, given, resolves true). The child gets a stdin pipe, so it can exit when
 * this process goes away (bench/lib/serve-process.ts, bench/servers/guard.ts).
 *
 * @throws Error naming `name` when the process exits first or is not ready within 10 seconds
 */
export async function startChildServer(name: string, command: ChildCommand, url: string, ready: (url: string) => Promise<boolean> = answers200): Promise<ChildServer> {
  const child = spawn(command[0], command.slice(1), { stdio: ['pipe', 'ignore', 'pipe'] });
  running.add(child);
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve(void running.delete(child))));
  let stopped = false;
  const stop = (): Promise<void> => {
    // Once only: a second SIGTERM would kill guard.js before it has stopped its server.
    if (!stopped && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    stopped = true;
    return exited;
  };
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!(await ready(url).catch(() => false))) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${name} exited before answering ${url}:\n${stderr}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${name} did not answer 200 at ${url} within ${READY_TIMEOUT_MS} ms:\n${stderr}`);
    }
    await sleep(50);
  }
  return { url, stop };
}
