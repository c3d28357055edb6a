import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { parseResponses, RawClient, type Transport } from './raw.js';
import { until } from './http.js';

/*
 * The parts of the request-integrity tests: servers that log every request
 * Node parses for them and tag every answer with the request's id, and a
 * client that writes a stream of raw bytes and reads back the ids of the
 * answers it got.
 */

/** Header that carries a request's id; every answer names the id of the request it answers in it. */
export const ID_HEADER = 'x-req-id';
export const ANSWER_HEADER = 'x-answer-to';
/** Requests to targets starting with this, sent as upgrades, are switched (101) by the app. */
export const SWITCH_PATH = '/switch';

/** One request as a server's Node parser read it. */
export interface Parsed {
  id: string;
  method: string;
  url: string;
  /** The body bytes as latin1 text, once the whole body has arrived. */
  body?: string;
}

/** A server on 127.0.0.1 with the log of what it parsed. */
export interface RecordingServer {
  readonly port: number;
  readonly log: Parsed[];
  /** Requests parsed whose body has ended but whose answer is not written yet. */
  readonly unanswered: () => number;
  /** Leaves out of {@link RecordingServer.log} whatever is parsed from now on on the connections open now. */
  retireConnections(): void;
  close(): Promise<void>;
}

function idOf(request: IncomingMessage): string {
  const id = request.headers[ID_HEADER];
  return typeof id === 'string' ? id : `(none: ${request.method} ${request.url})`;
}

/** The answer to `id`, written by Node, tagged with the id. */
function answerBody(id: string): string {
  return `answer to ${id}`;
}

function rawAnswer(status: string, id: string, extra: string, body: string): string {
  return `HTTP/1.1 ${status}\r\n${ANSWER_HEADER}: ${id}\r\n${extra}content-length: ${body.length}\r\n\r\n${body}`;
}

/**
 * Starts a server that logs every request it parses and answers each,
 * after its body, with `200` tagged with the request's id. Upgrade
 * requests to {@link SWITCH_PATH} are switched (`101`, then whatever comes is
 * read and dropped). Any other upgrade request is answered `200`; then
 * `upgradeAnswered` says what happens to the connection: `'parse'` hands it
 * back to Node's parser, as an app that ignores `Upgrade` keeps reading
 * requests (the app); `'close'` closes it (what the sidecar owes a client:
 * the reference).
 */
export async function recordingServer(upgradeAnswered: 'parse' | 'close'): Promise<RecordingServer> {
  const log: Parsed[] = [];
  // Connections of an earlier proxy: what they still bring is answered but not logged.
  const retired = new WeakSet<Duplex>();
  const record = (entry: Parsed, socket: Duplex): void => {
    if (!retired.has(socket)) log.push(entry);
  };
  const pending = new Set<ServerResponse>();
  // Per connection: answers not yet written, and what waits for them (an upgrade answer comes after earlier ones).
  const unwritten = new Map<Duplex, { count: number; then?: () => void }>();
  const server: Server = createServer((request, response) => {
    const entry: Parsed = { id: idOf(request), method: request.method ?? '', url: request.url ?? '' };
    const socket = request.socket;
    record(entry, socket);
    const state = unwritten.get(socket) ?? { count: 0 };
    unwritten.set(socket, state);
    state.count++;
    response.on('close', () => {
      if (--state.count === 0) state.then?.();
    });
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      entry.body = Buffer.concat(chunks).toString('latin1');
      const body = answerBody(entry.id);
      pending.add(response);
      response.on('close', () => pending.delete(response));
      response.writeHead(200, { [ANSWER_HEADER]: entry.id, 'content-length': body.length }).end(body);
    });
  });
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const entry: Parsed = { id: idOf(request), method: request.method ?? '', url: request.url ?? '', body: '' };
    record(entry, socket);
    socket.on('error', () => socket.destroy());
    const state = unwritten.get(socket);
    if (state === undefined || state.count === 0) answerUpgrade(request, socket, head, entry);
    else state.then = () => answerUpgrade(request, socket, head, entry);
  });
  const answerUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer, entry: Parsed): void => {
    if (entry.url.startsWith(SWITCH_PATH)) {
      socket.write(rawAnswer('101 Switching Protocols', entry.id, `connection: Upgrade\r\nupgrade: ${request.headers.upgrade ?? ''}\r\n`, ''));
      socket.resume();
      return;
    }
    socket.write(rawAnswer('200 OK', entry.id, '', answerBody(entry.id)));
    if (upgradeAnswered === 'close') {
      socket.end();
      return;
    }
    if (head.length > 0) socket.unshift(head);
    server.emit('connection', socket);
  };
  // Upgraded connections leave Node's bookkeeping, so closeAllConnections() would not close them.
  const sockets = new Set<Duplex>();
  server.on('connection', (socket: Duplex) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    log,
    // A pipelined response still queued when its connection dies never emits 'close': leave those out.
    unanswered: () => [...pending].filter((response) => !response.req.socket.destroyed).length,
    retireConnections: () => {
      for (const socket of sockets) retired.add(socket);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** What one client connection got back. */
export interface Received {
  /** The ids of the answers, in order (interim 1xx answers other than 101 left out). */
  ids: string[];
  /** The server closed the connection. */
  closed: boolean;
}

/**
 * Opens one connection per entry of `streams` to 127.0.0.1:`port`, writes
 * each stream's chunks with a turn of the event loop between them, and
 * reads the answers until `done` holds for every connection (or 3 s pass);
 * then closes them all.
 *
 * @param done - whether a connection has got all it will get, given what it received so far
 * @param transport - plain TCP, or TLS offering HTTP/1.1
 */
export async function sendStreams(
  port: number,
  streams: readonly string[][],
  done: (index: number, received: Received, quietMs: number) => boolean,
  transport: Transport = 'tcp',
): Promise<Received[]> {
  const clients = await Promise.all(streams.map(() => RawClient.connect(port, transport)));
  const lastChange = clients.map(() => performance.now());
  const lengths = clients.map(() => 0);
  await Promise.all(
    streams.map(async (chunks, index) => {
      for (const chunk of chunks) {
        if (clients[index]!.closed) return;
        clients[index]!.write(chunk);
        await new Promise((resolve) => setImmediate(resolve));
      }
    }),
  );
  const received = (index: number): Received => {
    const client = clients[index]!;
    const ids = parseResponses(client.received)
      .filter((response) => response.status >= 200 || response.status === 101)
      .map((response) => response.headers.get(ANSWER_HEADER) ?? `(untagged ${response.status})`);
    return { ids, closed: client.closed };
  };
  const finished = (index: number): boolean => {
    const client = clients[index]!;
    if (client.received.length !== lengths[index]) {
      lengths[index] = client.received.length;
      lastChange[index] = performance.now();
    }
    return client.closed || done(index, received(index), performance.now() - lastChange[index]!);
  };
  try {
    await until(() => clients.every((_, index) => finished(index)), 'the answers', 3000).catch((error: Error) => {
      const waiting = clients.flatMap((client, index) => (finished(index) ? [] : [`connection ${index} got ${JSON.stringify(client.received)}`]));
      throw new Error(`${error.message}: ${waiting.join('; ')}`);
    });
  } finally {
    for (const client of clients) client.destroy();
  }
  return clients.map((_, index) => received(index));
}
