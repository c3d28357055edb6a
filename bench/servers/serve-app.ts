/**
 * Benchmark server: a hello-world node:http app on 127.0.0.1:<port> answering at once (`plain`) or after a 5 ms
 * timer (`sleep5`: an app that waits on I/O, so concurrency grows with load while its CPU per request stays that of
 * the plain app).
 * Usage: node dist/bench/servers/serve-app.js <port> plain|sleep5
 */
import { createServer, type RequestListener } from 'node:http';
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

const mode = process.argv[3];
if (mode !== 'plain' && mode !== 'sleep5') {
  console.error(`mode must be plain or sleep5, got ${mode}`);
  process.exit(2);
}
await listen(createServer(mode === 'plain' ? hello : sleeping), 'hello app', portArgument(), '127.0.0.1');
exitWithParent();
