import { WebSocket } from 'undici';

/** The V8 heap as `Runtime.getHeapUsage` reports it, in bytes. */
export interface HeapUsage {
  usedSize: number;
  totalSize: number;
}

/**
 * A Chrome DevTools Protocol session with a Node process started with `--inspect=127.0.0.1:0`: the soak forces a
 * full garbage collection in the sidecar through it before reading its memory, with no hook in the sidecar itself.
 * Close it before the process should exit: Node waits for a connected debugger to go away.
 */
export class InspectorSession {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();

  private constructor(private readonly socket: WebSocket) {
    socket.addEventListener('message', (event) => {
      const reply = JSON.parse(String(event.data)) as { id: number; result?: unknown; error?: { message: string } };
      const waiter = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (reply.error !== undefined) waiter?.reject(new Error(reply.error.message));
      else waiter?.resolve(reply.result);
    });
  }

  /**
   * Connects to the inspector URL a process printed (`Debugger listening on ws://127.0.0.1:PORT/ID`).
   *
   * @throws Error (as a rejection) when `output` holds no such URL or the connection fails
   */
  static connect(output: string): Promise<InspectorSession> {
    const url = /Debugger listening on (ws:\/\/127\.0\.0\.1:\d+\/[\w-]+)/.exec(output)?.[1];
    if (url === undefined) return Promise.reject(new Error(`no inspector URL in: ${output}`));
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url);
      socket.addEventListener('open', () => resolve(new InspectorSession(socket)), { once: true });
      socket.addEventListener('error', () => reject(new Error(`cannot connect to ${url}`)), { once: true });
    });
  }

  private call(method: string): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.socket.send(JSON.stringify({ id, method }));
    });
  }

  /** Runs a full, synchronous garbage collection, then reads the heap. */
  async collectGarbage(): Promise<HeapUsage> {
    await this.call('HeapProfiler.collectGarbage');
    return (await this.call('Runtime.getHeapUsage')) as HeapUsage;
  }

  /** Disconnects. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.socket.addEventListener('close', () => resolve(), { once: true });
      this.socket.close();
    });
  }
}
