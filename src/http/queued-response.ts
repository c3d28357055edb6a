import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * The listeners of the queued responses of each connection, called when it
 * closes: one 'close' listener per connection, however many requests a
 * client pipelines on it (a listener per response would pass Node's limit of
 * ten listeners, and warn, at the eleventh).
 */
const waitingOn = new WeakMap<Socket, Set<() => void>>();

function listenersOf(socket: Socket): Set<() => void> {
  const existing = waitingOn.get(socket);
  if (existing !== undefined) return existing;
  const listeners = new Set<() => void>();
  waitingOn.set(socket, listeners);
  socket.once('close', () => {
    waitingOn.delete(socket);
    for (const listener of listeners) listener();
  });
  return listeners;
}

/**
 * Calls `listener` when the client's connection closes before `response`
 * does. Node queues the response to a pipelined request behind the one
 * being written, and Node 22 never emits `'close'` for it when the connection
 * dies meanwhile (Node 24 does); call this for such a response (its `socket` is still `null`)
 * so that its end is not missed. The listener goes once the response closes,
 * so a long-lived kept-alive connection gathers none.
 */
export function onConnectionCloseWhileQueued(request: IncomingMessage, response: ServerResponse, listener: () => void): void {
  const listeners = listenersOf(request.socket);
  // A wrapper of its own, so that the same function given for two responses is called, and removed, once for each.
  const call = (): void => listener();
  listeners.add(call);
  response.once('close', () => listeners.delete(call));
}
