import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/**
 * Every client connection of the proxy's server, upgraded ones (tunnels) apart,
 * so that a close can wait for their 'close' events (which come after the
 * server's own 'close') and cut each kind at its own deadline, as Knative's
 * queue-proxy bounds hijacked connections apart from requests.
 */
export class ClientConnections {
  private readonly sockets = new Set<Socket>();
  private readonly tunnels = new Set<Duplex>();
  private onSocketClosed: (() => void) | undefined;
  private closing: Promise<void> | undefined;

  constructor(private readonly server: Server) {
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => {
        this.sockets.delete(socket);
        this.tunnels.delete(socket);
        // Deferred so that the response's own 'close' listeners (the tracker's out-event) run first.
        if (this.onSocketClosed !== undefined) process.nextTick(this.onSocketClosed);
      });
    });
  }

  /** Marks a connection as an upgrade tunnel: from now on it has the tunnels' deadline at close. */
  tunnelOpened(socket: Duplex): void {
    this.tunnels.add(socket);
  }

  /**
   * Stops accepting connections and closes idle ones at once (Node's
   * `server.close`), then waits until every connection has closed: those
   * still open are destroyed `requestsMs` milliseconds from now, tunnels
   * `tunnelsMs` from now. Idempotent: later calls return the first promise.
   */
  close(requestsMs: number, tunnelsMs: number): Promise<void> {
    this.closing ??= new Promise((resolve) => {
      const cut = (tunnels: boolean) => () => {
        for (const socket of this.sockets) if (this.tunnels.has(socket) === tunnels) socket.destroy();
      };
      const requestsDeadline = setTimeout(cut(false), requestsMs);
      const tunnelsDeadline = setTimeout(cut(true), tunnelsMs);
      let serverClosed = false;
      const finishIfClosed = (): void => {
        if (!serverClosed || this.sockets.size > 0 || this.onSocketClosed === undefined) return;
        this.onSocketClosed = undefined;
        clearTimeout(requestsDeadline);
        clearTimeout(tunnelsDeadline);
        resolve();
      };
      this.onSocketClosed = finishIfClosed;
      this.server.close(() => {
        serverClosed = true;
        finishIfClosed();
      });
    });
    return this.closing;
  }
}
