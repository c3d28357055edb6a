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
  socket: Socket;
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
  // Responses begun on each connection and not yet closed. Node publishes a request before it hands the response
  // its connection, and queues the response of a pipelined request while an earlier one on the connection is
  // unfinished (it never emits 'close' for a queued response whose connection dies): a response begun while
  // another is open on its connection is queued. A response finishes before it closes, so this errs only towards
  // "queued", which costs a listener, never a lost out-event. Every request counts here, probes too: they hold the
  // connection as much as any.
  const openResponses = new WeakMap<Socket, number>();
  function onResponseClose(this: ServerResponse): void {
    const socket = this.req.socket;
    openResponses.set(socket, openResponses.get(socket)! - 1);
  }
  const onRequestStart = (message: unknown): void => {
    const { request, response, socket, server } = message as RequestStart;
    if (server[UNTRACKED_SERVER] === true) return;
    const open = openResponses.get(socket) ?? 0;
    openResponses.set(socket, open + 1);
    response.on('close', onResponseClose);
    tracker.track(request, response, open > 0);
  };
  subscribe(REQUEST_START_CHANNEL, onRequestStart);
  return () => {
    unsubscribe(REQUEST_START_CHANNEL, onRequestStart);
  };
}
