import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import { UNTRACKED_SERVER, type MarkableServer } from '../http/untracked-server.js';
import type { RequestTracker } from './tracker.js';

/**
 * The channel on which Node's `http` module announces each request of every
 * `http` and `https` server in the process, just before the server's
 * 'request' event (Node >= 18.7 and 16.17).
 */
export const REQUEST_START_CHANNEL = 'http.server.request.start';

/**
 * The channel on which Node's `http2` module announces each stream of every
 * `http2` server in the process (secure or cleartext, compatibility API or
 * 'stream' event), just before the session's 'stream' event (Node >= 22.17 on
 * the 22 line; every supported 24).
 */
export const STREAM_START_CHANNEL = 'http2.server.stream.start';

/** What Node publishes on {@link REQUEST_START_CHANNEL}. */
interface RequestStart {
  request: IncomingMessage;
  response: ServerResponse;
  socket: Socket;
  server: MarkableServer;
}

/** What Node publishes on {@link STREAM_START_CHANNEL}. */
interface StreamStart {
  stream: ServerHttp2Stream;
  headers: IncomingHttpHeaders;
}

/**
 * Tracks every request of every `node:http` and `node:https` server, and
 * every stream of every `node:http2` server, in the process with `tracker`,
 * with no change to the app: Express, Fastify, Koa, Nest, a bare
 * `createServer`, or a gRPC server of `@grpc/grpc-js`. Servers marked with
 * {@link UNTRACKED_SERVER} (the package's metrics endpoints, all `node:http`)
 * are left out. Node publishes neither upgraded requests (WebSockets) nor the
 * requests of servers that are not `node:http`'s or `node:http2`'s.
 *
 * @returns a function that stops tracking
 */
export function trackAllServers(tracker: RequestTracker): () => void {
  // Responses begun on each connection and not yet closed. Node publishes a request before it hands the response
  // its connection, and queues the response of a pipelined request while an earlier one on the connection is
  // unfinished, so a response begun while another is open on its connection is queued. Node 22 never emits 'close'
  // for a queued response whose connection dies (24 does; measured on 22.23.5 and 24.22.3): test/all-servers.test.ts
  // 'ends a pipelined request still queued...' fails on 22 when a queued response is taken for an ordinary one. A
  // response finishes before it closes, so this count errs only towards "queued", which costs a listener, never a
  // lost out-event. Every request counts here, probes too: they hold the connection as much as any.
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
  const onStreamStart = (message: unknown): void => {
    const { stream, headers } = message as StreamStart;
    tracker.trackStreamHeaders(headers, stream);
  };
  subscribe(REQUEST_START_CHANNEL, onRequestStart);
  subscribe(STREAM_START_CHANNEL, onStreamStart);
  return () => {
    unsubscribe(REQUEST_START_CHANNEL, onRequestStart);
    unsubscribe(STREAM_START_CHANNEL, onStreamStart);
  };
}
