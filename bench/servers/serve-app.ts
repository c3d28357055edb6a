/**
 * Benchmark server: a hello-world node:http app on 127.0.0.1:<port> answering at once (`plain`) or after a 5 ms
 * timer (`sleep5`: an app that waits on I/O, so concurrency grows with load while its CPU per request stays that of
 * the plain app); `both` answers at once over HTTP/1.1 and over h2c (prior knowledge) on the same port, as an app
 * behind the sidecar that speaks both does (the sidecar's own connection router tells them apart).
 * Usage: node build/bench/servers/serve-app.js <port> plain|sleep5|both
 */
import { createServer, type RequestListener } from 'node:http';
import { createServer as createH2cServer, type ServerHttp2Stream } from 'node:http2';
import { ConnectionRouter } from '../../src/proxy/connections/connection-router.js';
import { listen } from '../../src/http/listen.js';
import { exitWithParent, portArgument } from '../lib/serve-process.js';

const BODY = 'Hello World!\n';
const hello: RequestListener = (_request, response) => {
  response.writeHead(200, { 'content-type': 'text/plain', 'content-length': BODY.length });
  response.end(BODY);
};
const sleeping: RequestListener = (request, response) => {
  setTimeout(hello, 5, request, response);
};

const helloStream = (stream: ServerHttp2Stream): void => {
  stream.respond({ ':status': 200, 'content-type': 'text/plain', 'content-length': BODY.length });
  stream.end(BODY);
};

const mode = process.argv[3];
if (mode !== 'plain' && mode !== 'sleep5' && mode !== 'both') {
  console.error(`mode must be plain, sleep5 or both, got ${mode}`);
  process.exit(2);
}
const server = createServer(mode === 'sleep5' ? sleeping : hello);
if (mode === 'both') new ConnectionRouter(server, createH2cServer().on('stream', helloStream), 10_000);
await listen(server, 'hello app', portArgument(), '127.0.0.1');
exitWithParent();
