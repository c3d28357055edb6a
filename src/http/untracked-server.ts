import type { Server } from 'node:http';

/**
 * Marks a server whose requests in-process tracking leaves out: the
 * package's own metrics endpoints, which must not count their scrapes as
 * the app's traffic. `Symbol.for`, so that two copies of the package in one
 * process agree.
 */
export const UNTRACKED_SERVER = Symbol.for('queue-stats-exporter.untracked-server');

/** A server that may carry the {@link UNTRACKED_SERVER} mark. */
export type MarkableServer = Server & { [UNTRACKED_SERVER]?: true };

/** Leaves the requests of `server` out of in-process tracking. */
export function markUntracked(server: Server): void {
  (server as MarkableServer)[UNTRACKED_SERVER] = true;
}
