import { WebSocket } from 'undici';

/**
 * Forces a full, synchronous garbage collection in a Node process started with `--inspect=127.0.0.1:0`, through the
 * Chrome DevTools Protocol at the URL it printed in `output` (`Debugger listening on ws://...`), and returns its V8
 * heap used afterwards, in bytes. The soak reads the sidecar's memory so, with no hook in the sidecar itself. Closes
 * the connection before resolving: Node waits for a connected debugger to go away before exiting.
 *
 * @throws Error (as a rejection) when `output` holds no inspector URL, the connection fails or a call is refused
 */
export async function collectGarbage(output: string): Promise<number> {
  const url = /Debugger listening on (ws:\/\/127\.0\.0\.1:\d+\/[\w-]+)/.exec(output)?.[1];
  if (url === undefined) throw new Error(`no inspector URL in: ${output}`);
  const socket = new WebSocket(url);
  await new Promise((resolve, reject) => {
    socket.addEventListener('open', resolve, { once: true });
    socket.addEventListener('error', () => reject(new Error(`cannot connect to ${url}`)), { once: true });
  });
  // One call at a time, so the next message is its reply.
  const call = (id: number, method: string): Promise<unknown> =>
    new Promise((resolve, reject) => {
      socket.addEventListener(
        'message',
        (event) => {
          const reply = JSON.parse(String(event.data)) as { result?: unknown; error?: { message: string } };
          if (reply.error === undefined) resolve(reply.result);
          else reject(new Error(reply.error.message));
        },
        { once: true },
      );
      socket.send(JSON.stringify({ id, method }));
    });
  try {
    await call(1, 'HeapProfiler.collectGarbage');
    return ((await call(2, 'Runtime.getHeapUsage')) as { usedSize: number }).usedSize;
  } finally {
    await new Promise((resolve) => {
      socket.addEventListener('close', resolve, { once: true });
      socket.close();
    });
  }
}
