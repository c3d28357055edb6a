/** What Linux's /proc says about a benchmark's server processes: which serve a port, their memory and CPU time. */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

function listeningInode(port: number): string | undefined {
  // Addresses are hex, IPv4 bytes in host (little-endian) order: 127.0.0.1 is 0100007F; state 0A is LISTEN.
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields[1] === local && fields[3] === '0A') return fields[9];
  }
  return undefined;
}

/** `read()`, or `fallback` when it throws: a process may exit, close a descriptor or belong to another user (not ours). */
function readOr<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}

/**
 * The processes holding the socket that listens on 127.0.0.1:`port`: one for a Node server, master and workers for
 * nginx; the real server behind a wrapper such as bench/servers/guard.ts.
 *
 * @throws Error when nothing listens on that port or no readable process holds the socket
 */
export function listeningPids(port: number): number[] {
  const inode = listeningInode(port);
  if (inode === undefined) throw new Error(`nothing listens on 127.0.0.1:${port}`);
  const pids = readdirSync('/proc')
    .filter((pid) => /^\d+$/.test(pid) && readOr(() => readdirSync(`/proc/${pid}/fd`).some((fd) => readOr(() => readlinkSync(`/proc/${pid}/fd/${fd}`), '') === `socket:[${inode}]`), false))
    .map(Number);
  if (pids.length === 0) throw new Error(`no readable process holds the socket of 127.0.0.1:${port}`);
  return pids;
}

/**
 * A memory line of /proc/<pid>/status in bytes: `VmRSS` now, or `VmHWM`, the kernel's high-water mark of it, which
 * no sampling can miss.
 *
 * @throws Error when the process is gone or has no such line
 */
export function memoryBytes(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const kb = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  if (kb === undefined) throw new Error(`/proc/${pid}/status has no ${field} line`);
  return Number(kb) * 1024;
}

/** The peak RSS of the given processes, summed (pages nginx's master and workers share count once per process). */
export function peakRssBytes(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + memoryBytes(pid, 'VmHWM'), 0);
}

let ticksPerSecond: number | undefined;

/**
 * The CPU time (user + system) the given processes have used so far, summed, in milliseconds; /proc/<pid>/stat
 * counts clock ticks (10 ms at the usual `CLK_TCK` of 100), so differences over seconds are precise to about 1 %.
 *
 * @throws Error when a process is gone or its stat line cannot be parsed
 */
export function cpuTimeMs(pids: readonly number[]): number {
  ticksPerSecond ??= Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout);
  if (!(ticksPerSecond > 0)) throw new Error('getconf CLK_TCK did not print a positive number');
  let ticks = 0;
  for (const pid of pids) {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which may itself hold spaces and parentheses: utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const used = Number(fields[11]) + Number(fields[12]);
    if (!Number.isFinite(used)) throw new Error(`/proc/${pid}/stat has no CPU times: ${stat}`);
    ticks += used;
  }
  return (ticks * 1000) / ticksPerSecond;
}

/**
 * This process's soft limit on open files (`ulimit -n`), which its children inherit. Node raises it to the hard
 * limit at start-up, so no child can be given more without privileges.
 */
export function openFilesLimit(): number {
  const match = /^Max open files\s+(\d+|unlimited)\s/m.exec(readFileSync('/proc/self/limits', 'utf8'));
  if (match === null) throw new Error('/proc/self/limits has no Max open files line');
  return match[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(match[1]);
}
