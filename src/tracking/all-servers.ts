import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { UNTRACKED_SERVER, type MarkableServer } from '../http/untracked-server.js';
import type { RequestTracker } from './tracker.js';

/**
 * The channel on which Node's `http` module announces each request of every
 * `http` and `https` server in the process, just before the server's
 * 'request' event (Node >= 18.7 and 16.17).
 */
export const REQUEST_START_CHANNEL = 'http.server.request.start';

/** What Node publishes on {@link REQUEST_START_CHANNEL}. */
interface RequestStart {
  request: IncomingMessage;
  response: ServerResponse;
  // Node's own test for a queued (pipelined) response: the connection still belongs to an earlier response.
  socket: Socket & { _httpMessage?: ServerResponse | null };
  server: MarkableServer;
}

/**
 * Tracks every request of every `node:http` and `node:https` server in the
 * process with `tracker`, with no change to the app: Express, Fastify, Koa,
 * Nest or a bare `createServer`. Servers marked with
 * {@link UNTRACKED_SERVER} (the package's metrics endpoints) are left out.
 * Node does not publish upgraded requests (WebSockets), HTTP/2 servers'
 * requests or those of servers that are not `node:http`'s on this channel.
 *
 * @returns a function that stops tracking
 */
export function trackAllServers(tracker: RequestTracker): () => void {
  const onRequestStart = (message: unknown): void => {
    const { request, response, socket, server } = message as RequestStart;
    // Published before the server hands the response its socket, so the response's own socket says nothing yet.
    if (server[UNTRACKED_SERVER] !== true) tracker.track(request, response, (socket._httpMessage ?? null) !== null);
  };
  subscribe(REQUEST_START_CHANNEL, onRequestStart);
  return () => {
    unsubscribe(REQUEST_START_CHANNEL, onRequestStart);
  };
}
