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
  const onRequestStart = (message: unknown): void => {
    const { request, response, socket, server } = message as RequestStart;
    if (server[UNTRACKED_SERVER] !== true) tracker.trackOnConnection(request, response, socket);
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
