/**
 * What /proc (Linux) says about a bench's server processes: which processes
 * serve a port, their peak memory, and the CPU time they used.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** `/proc/net/tcp` state code of a listening socket. */
const TCP_LISTEN = '0A';

function listeningInode(port: number): string | undefined {
  // Addresses are hex, IPv4 bytes in host (little-endian) order: 127.0.0.1 is 0100007F.
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields[1] === local && fields[3] === TCP_LISTEN) return fields[9];
  }
  return undefined;
}

function holdsSocket(pid: string, socket: string): boolean {
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`) === socket;
      } catch {
        return false;
      }
    });
  } catch {
    // Gone, or another user's process: not ours.
    return false;
  }
}

/**
 * The processes holding the socket that listens on 127.0.0.1:`port` (Linux
 * /proc only): one for a Node server, master and workers for nginx. Finds
 * the real server behind a wrapper such as bench/guard.ts.
 *
 * @throws Error when nothing listens on that port or no readable process holds the socket
 */
export function listeningPids(port: number): number[] {
  const inode = listeningInode(port);
  if (inode === undefined) throw new Error(`nothing listens on 127.0.0.1:${port}`);
  const socket = `socket:[${inode}]`;
  const pids = readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry) && holdsSocket(entry, socket))
    .map(Number);
  if (pids.length === 0) throw new Error(`no readable process holds the socket of 127.0.0.1:${port}`);
  return pids;
}

/**
 * The peak resident set size of the given processes so far, in bytes: the
 * sum of their `VmHWM` (the kernel's high-water mark of `VmRSS`) in
 * /proc/<pid>/status, so no sampling can miss a spike. Pages shared between
 * processes (nginx's master and workers) count once per process.
 *
 * @throws Error when a process is gone or its status has no `VmHWM` line
 */
export function peakRssBytes(pids: readonly number[]): number {
  let total = 0;
  for (const pid of pids) {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    if (match === null) throw new Error(`/proc/${pid}/status has no VmHWM line`);
    total += Number(match[1]) * 1024;
  }
  return total;
}

let ticksPerSecond: number | undefined;

/** `CLK_TCK`, the unit of the CPU times in /proc/<pid>/stat (100 on common Linux builds). */
function clockTicksPerSecond(): number {
  if (ticksPerSecond === undefined) {
    const value = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout);
    if (!Number.isSafeInteger(value) || value <= 0) throw new Error('getconf CLK_TCK did not print a positive integer');
    ticksPerSecond = value;
  }
  return ticksPerSecond;
}

/**
 * The CPU time (user + system) the given processes have used so far, in
 * milliseconds, summed; read from /proc/<pid>/stat in clock ticks (10 ms at
 * the usual `CLK_TCK` of 100), so differences over a few seconds are precise
 * to about 1 %.
 *
 * @throws Error when a process is gone or its stat line cannot be parsed
 */
export function cpuTimeMs(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which may itself contain spaces and parentheses: state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const used = Number(fields[11]) + Number(fields[12]);
    if (!Number.isFinite(used)) throw new Error(`/proc/${pid}/stat has no CPU times: ${stat}`);
    ticks += used;
  }
  return (ticks * 1000) / clockTicksPerSecond();
}

/**
 * This process's soft limit on open files (`ulimit -n`), which the
 * processes it starts inherit. Node raises its soft limit to the hard limit
 * at start-up, so no child can be given more without privileges.
 *
 * @throws Error when /proc/self/limits has no `Max open files` line
 */
export function openFilesLimit(): number {
  const match = /^Max open files\s+(\d+|unlimited)\s/m.exec(readFileSync('/proc/self/limits', 'utf8'));
  if (match === null) throw new Error('/proc/self/limits has no Max open files line');
  return match[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(match[1]);
}
