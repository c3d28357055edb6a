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

/** How to start one child server. */
export interface ChildCommand {
  /** Executable, e.g. `process.execPath` or `/tmp/go-reporter`. */
  command: string;
  /** Its arguments. */
  args: string[];
}

const READY_TIMEOUT_MS = 10_000;
const READY_POLL_MS = 50;

const running = new Set<ChildProcess>();
// Safety net: a benchmark that throws must not leave servers behind.
process.on('exit', () => {
  for (const child of running) child.kill('SIGTERM');
});

/** A TCP port on 127.0.0.1 that was free a moment ago, for servers that cannot report the port they bound. */
export { freePort } from '../test/helpers/http.js';

/** True when `path` exists and this process may execute it (a hand-built anchor binary in /tmp, say). */
export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The command that runs a compiled bench entry (e.g. `serve-ours.js`, a
 * sibling of this file in build/bench) with the current Node binary.
 */
export function nodeEntry(file: string, args: string[]): ChildCommand {
  return { command: process.execPath, args: [fileURLToPath(new URL(file, import.meta.url)), ...args] };
}

async function answers200(url: string): Promise<boolean> {
  try {
    const response = await fetch(url);
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false;
  }
}

/**
 * Starts a server process and polls `url` until it answers 200. Node
 * children get a stdin pipe, so they can exit when this process goes away.
 *
 * @throws Error naming `name` when the process exits first or is not ready within 10 seconds
 */
export async function startChildServer(name: string, command: ChildCommand, url: string): Promise<ChildServer> {
  const child = spawn(command.command, command.args, { stdio: ['pipe', 'ignore', 'pipe'] });
  running.add(child);
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      running.delete(child);
      resolve();
    });
  });
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    })();
    return stopping;
  };

  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!(await answers200(url))) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${name} exited before answering ${url}:\n${stderr}`);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${name} did not answer 200 at ${url} within ${READY_TIMEOUT_MS} ms:\n${stderr}`);
    }
    await sleep(READY_POLL_MS);
  }
  return { url, stop };
}
