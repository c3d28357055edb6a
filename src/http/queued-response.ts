import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Calls `listener` when the client's connection closes before `response`
 * does. Node queues the response to a pipelined request behind the one
 * being written, and Node 22 never emits `'close'` for it when the connection
 * dies meanwhile (Node 24 does); call this for such a response (its `socket` is still `null`)
 * so that its end is not missed. The connection listener goes once the
 * response closes, so a long-lived kept-alive connection gathers none.
 */
export function onConnectionCloseWhileQueued(request: IncomingMessage, response: ServerResponse, listener: () => void): void {
  const socket = request.socket;
  socket.once('close', listener);
  response.once('close', () => socket.off('close', listener));
}
