/**
 * An app that knows nothing of this package, for the `--import` register mode's tests: Express, Fastify or a bare
 * `node:http` server on 127.0.0.1:<port>, answering `GET /hold?ms=N` after N milliseconds and anything else at once.
 * `grpc` is a @grpc/grpc-js server of the test service (helpers/grpc.ts) instead, each call held as its note says
 * (see {@link holdingNotes}). Prints `listening` when ready. `once` serves one request of its own, then closes its
 * server and should exit.
 * Usage: node build/test/helpers/register-app.js express|fastify|bare|grpc|once <port>
 */
import { createServer, get, type IncomingMessage, type ServerResponse } from 'node:http';
import express from 'express';
import fastify from 'fastify';
import { startGrpcApp } from './grpc.js';
import { holdingNotes } from './holding-notes.js';

const [kind, portText] = process.argv.slice(2);
const port = Number(portText);

/** Milliseconds to hold the response: the `ms` query parameter of a /hold request, else 0. */
function holdMs(url: string | undefined): number {
  const parsed = new URL(url ?? '/', 'http://app');
  return parsed.pathname === '/hold' ? Number(parsed.searchParams.get('ms')) : 0;
}

function answer(request: IncomingMessage, response: ServerResponse): void {
  setTimeout(() => response.end('hello\n'), holdMs(request.url));
}

if (kind === 'express') {
  const app = express();
  app.use((request, response) => answer(request, response));
  app.listen(port, '127.0.0.1', () => console.log('listening'));
} else if (kind === 'fastify') {
  const app = fastify();
  app.get('/*', (request, reply) => new Promise((resolve) => setTimeout(() => resolve('hello\n'), holdMs(request.url))).then((body) => reply.send(body)));
  await app.listen({ port, host: '127.0.0.1' });
  console.log('listening');
} else if (kind === 'grpc') {
  await startGrpcApp(holdingNotes, port);
  console.log('listening');
} else if (kind === 'bare') {
  createServer(answer).listen(port, '127.0.0.1', () => console.log('listening'));
} else {
  const server = createServer(answer).listen(port, '127.0.0.1', () => {
    get({ host: '127.0.0.1', port, agent: false }, (response) => {
      response.resume().on('end', () => server.close(() => console.log('closed')));
    });
  });
}
