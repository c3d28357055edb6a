import { connect } from 'node:net';
import { monotonicNow } from './clock.js';
import { UpstreamConnection, type ConnectionOwner, type UpstreamRequest } from './upstream-connection.js';

/** Where the pool connects: the app, as host and TCP port. */
export interface UpstreamTarget {
  /** Host name or IP address (IPv6 without brackets). */
  readonly host: string;
  /** TCP port. */
  readonly port: number;
  /** The `Host` header for requests that came without one (HTTP/1.0), e.g. `127.0.0.1:8080`. */
  readonly authority: string;
}

/**
 * How long a connection may sit idle before the pool closes it, in
 * milliseconds. Node's HTTP server closes idle connections after 5 s
 * (`keepAliveTimeout`); closing ours first, within one sweep interval,
 * keeps the pool from reusing a connection the app is closing.
 */
export const IDLE_TIMEOUT_MS = 3000;
/** How often idle connections are checked, in milliseconds. */
const IDLE_SWEEP_INTERVAL_MS = 1000;

/**
 * Keep-alive HTTP/1.1 connections to one upstream: at most `maxConnections`
 * open at once, one request at a time on each (no pipelining), further
 * requests queued in arrival order. The most recently used idle connection
 * is reused first, so that the rest can time out.
 */
export class UpstreamPool implements ConnectionOwner {
  private readonly idle: UpstreamConnection[] = [];
  private readonly queue: UpstreamRequest[] = [];
  private readonly open = new Set<UpstreamConnection>();
  private closed = false;
  private readonly sweep: NodeJS.Timeout;

  /**
   * @param target - the upstream
   * @param maxConnections - most connections open at once, at least 1
   */
  constructor(
    private readonly target: UpstreamTarget,
    private readonly maxConnections: number,
  ) {
    this.sweep = setInterval(() => this.closeIdleSince(monotonicNow() - IDLE_TIMEOUT_MS), IDLE_SWEEP_INTERVAL_MS);
    this.sweep.unref();
  }

  /** Sends `request` on an idle connection, a new one, or when one frees up. After {@link UpstreamPool.destroy} it fails at once. */
  send(request: UpstreamRequest): void {
    if (this.closed) {
      request.failed(new Error('upstream pool closed'));
      return;
    }
    const connection = this.idle.pop();
    if (connection !== undefined) connection.send(request);
    else if (this.open.size < this.maxConnections) this.connect(request);
    else this.queue.push(request);
  }

  /** Takes back a request still waiting for a connection. @returns whether it was waiting */
  cancel(request: UpstreamRequest): boolean {
    const index = this.queue.indexOf(request);
    if (index !== -1) this.queue.splice(index, 1);
    return index !== -1;
  }

  /** Closes every connection and fails the waiting requests; later requests fail at once. */
  destroy(): void {
    this.closed = true;
    clearInterval(this.sweep);
    for (const request of this.queue.splice(0)) request.failed(new Error('upstream pool closed'));
    for (const connection of [...this.open]) connection.close();
  }

  released(connection: UpstreamConnection, reusable: boolean): void {
    if (!reusable || this.closed) {
      connection.close();
      return;
    }
    const next = this.queue.shift();
    if (next !== undefined) {
      connection.send(next);
      return;
    }
    connection.idleSinceMs = monotonicNow();
    this.idle.push(connection);
  }

  retry(request: UpstreamRequest): void {
    if (this.closed) request.failed(new Error('upstream pool closed'));
    // A new connection, even over the limit for a moment: the failed one is about to be removed.
    else this.connect(request);
  }

  removed(connection: UpstreamConnection): void {
    this.open.delete(connection);
    const index = this.idle.indexOf(connection);
    if (index !== -1) this.idle.splice(index, 1);
    const next = this.open.size < this.maxConnections ? this.queue.shift() : undefined;
    if (next !== undefined) this.connect(next);
  }

  private connect(request: UpstreamRequest): void {
    const socket = connect({ host: this.target.host, port: this.target.port, noDelay: true });
    this.open.add(new UpstreamConnection(this, socket, request));
  }

  private closeIdleSince(thresholdMs: number): void {
    // Oldest first: the pool reuses from the end.
    while (this.idle.length > 0 && this.idle[0]!.idleSinceMs <= thresholdMs) this.idle[0]!.close();
  }
}
