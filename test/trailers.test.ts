import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startProxy, type ProxyServer } from '../src/proxy/proxy.js';
import { serve } from './helpers/http.js';
import { parseResponses, RawClient } from './helpers/raw.js';

/*
 * Trailers through the sidecar: undici relays response trailers, which the
 * proxy hands to Node's server for the client; undici cannot send request
 * trailers, so the body of a chunked request goes upstream without them.
 */
describe('trailers', () => {
  let app: Awaited<ReturnType<typeof serve>>;
  let proxy: ProxyServer;
  /** The body and request trailers the app saw, per request. */
  const seen: Array<{ body: string; trailers: NodeJS.Dict<string> }> = [];
  before(async () => {
    app = await serve((req, res) => {
      let body = '';
      req.setEncoding('latin1');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        seen.push({ body, trailers: { ...req.trailers } });
        res.writeHead(200, { trailer: 'x-checksum', 'content-type': 'text/plain' });
        res.write('part one, ');
        res.addTrailers({ 'x-checksum': 'c0ffee' });
        res.end('part two');
      });
    });
    proxy = await startProxy({ upstream: `http://127.0.0.1:${app.port}`, port: 0, host: '127.0.0.1' });
  });
  after(async () => {
    await proxy.close(0);
    await app.close();
  });

  it("the app's response trailers reach an HTTP/1.1 client after the body", async () => {
    const { body, trailers, trailerHeader } = await new Promise<{ body: string; trailers: NodeJS.Dict<string>; trailerHeader: string | undefined }>((resolve, reject) => {
      request({ host: '127.0.0.1', port: proxy.port, path: '/', agent: false }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ body: text, trailers: res.trailers, trailerHeader: res.headers.trailer }));
      })
        .on('error', reject)
        .end();
    });
    assert.equal(body, 'part one, part two');
    assert.equal(trailerHeader, 'x-checksum');
    assert.deepEqual(trailers, { 'x-checksum': 'c0ffee' });
  });

  it("a client's request trailers are dropped: the app gets the whole body and none of them", async () => {
    seen.length = 0;
    const client = await RawClient.connect(proxy.port);
    client.write('POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTrailer: x-sig\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\nx-sig: abc\r\n\r\n');
    await client.whenClosed();
    const [answer] = parseResponses(client.received);
    assert.equal(answer?.status, 200);
    assert.deepEqual(seen, [{ body: 'hello', trailers: {} }]);
  });
});
