import type { RequestListener } from 'node:http';

const BODY = 'Hello World!\n';

/** The bench's hello-world app: a 13-byte text answer with Content-Length. */
export const hello: RequestListener = (_request, response) => {
  response.writeHead(200, { 'content-type': 'text/plain', 'content-length': BODY.length });
  response.end(BODY);
};
