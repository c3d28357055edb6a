import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ProxyServer } from '../src/proxy/proxy.js';
import { serve } from './helpers/http.js';
import { trackedProxy } from './helpers/proxy.js';
import { exchange, parseResponses, requestHead } from './helpers/raw.js';

/** Knative's queue-proxy header contract, checked on what a real app behind the real proxy receives. */
describe("Knative's request header contract through the proxy", () => {
  let app: Awaited<ReturnType<typeof serve>>;
  let proxy: ProxyServer;
  before(async () => {
    app = await serve((req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(req.rawHeaders)));
    ({ proxy } = await trackedProxy(app.port));
  });
  after(async () => {
    await proxy.close(0);
    await app.close();
  });

  /** Sends one request with exactly these header lines; returns the app's header lines as [lower-case name, value] pairs. */
  async function seen(headers: Array<[string, string]>): Promise<Array<[string, string]>> {
    const answer = await exchange(proxy.port, requestHead('GET', '/', [...headers, ['Connection', 'close']]));
    const raw = JSON.parse(parseResponses(answer)[0]!.body) as string[];
    const pairs: Array<[string, string]> = [];
    for (let i = 0; i < raw.length; i += 2) pairs.push([raw[i]!.toLowerCase(), raw[i + 1]!]);
    return pairs;
  }
  const values = (pairs: Array<[string, string]>, name: string): string[] => pairs.filter(([n]) => n === name).map(([, v]) => v);

  describe('K-Original-Host', () => {
    it('becomes Host, and goes', async () => {
      const pairs = await seen([
        ['Host', 'activator-service.knative-serving'],
        ['K-Original-Host', 'hello.default.example.com'],
      ]);
      assert.deepEqual(values(pairs, 'host'), ['hello.default.example.com']);
      assert.deepEqual(values(pairs, 'k-original-host'), []);
    });
    it('the first line wins and every line goes', async () => {
      const pairs = await seen([
        ['Host', 'h'],
        ['K-Original-Host', 'first.example'],
        ['k-original-host', 'second.example'],
      ]);
      assert.deepEqual(values(pairs, 'host'), ['first.example']);
      assert.deepEqual(values(pairs, 'k-original-host'), []);
    });
    it('an empty one changes nothing and passes', async () => {
      const pairs = await seen([
        ['Host', 'h.example'],
        ['K-Original-Host', ''],
      ]);
      assert.deepEqual(values(pairs, 'host'), ['h.example']);
      assert.deepEqual(values(pairs, 'k-original-host'), ['']);
    });
    it('absent: Host passes as sent', async () => {
      assert.deepEqual(values(await seen([['Host', 'h.example']]), 'host'), ['h.example']);
    });
  });

  describe('Knative-Serving-Revision and Knative-Serving-Namespace', () => {
    it('never reach the app, in any case and however often', async () => {
      const pairs = await seen([
        ['Host', 'h'],
        ['Knative-Serving-Revision', 'hello-00001'],
        ['knative-serving-namespace', 'default'],
        ['KNATIVE-SERVING-REVISION', 'again'],
        ['Knative-Serving-Tag', 'kept'],
      ]);
      assert.deepEqual(values(pairs, 'knative-serving-revision'), []);
      assert.deepEqual(values(pairs, 'knative-serving-namespace'), []);
      assert.deepEqual(values(pairs, 'knative-serving-tag'), ['kept']);
    });
  });

  describe('Forwarded', () => {
    it('is built from the client X-Forwarded-* headers, before this hop is appended to X-Forwarded-For', async () => {
      const pairs = await seen([
        ['Host', 'h'],
        ['X-Forwarded-For', '203.0.113.7, 2001:db8::2'],
        ['X-Forwarded-Host', 'hello.example.com'],
        ['X-Forwarded-Proto', 'https'],
      ]);
      assert.deepEqual(values(pairs, 'forwarded'), ['for=203.0.113.7;host=hello.example.com;proto=https, for="[2001:db8::2]"']);
      assert.deepEqual(values(pairs, 'x-forwarded-for'), ['203.0.113.7, 2001:db8::2, 127.0.0.1']);
      assert.deepEqual(values(pairs, 'x-forwarded-host'), ['hello.example.com']);
    });
    it('uses the first line of each X-Forwarded-* header', async () => {
      const pairs = await seen([
        ['Host', 'h'],
        ['X-Forwarded-For', '10.0.0.1'],
        ['X-Forwarded-For', '10.0.0.2'],
        ['X-Forwarded-Proto', 'https'],
        ['X-Forwarded-Proto', 'http'],
      ]);
      assert.deepEqual(values(pairs, 'forwarded'), ['for=10.0.0.1;proto=https']);
      assert.deepEqual(values(pairs, 'x-forwarded-for'), ['10.0.0.1, 10.0.0.2, 127.0.0.1']);
    });
    it('is left as the client sent it when it has a value', async () => {
      const pairs = await seen([
        ['Host', 'h'],
        ['Forwarded', 'for=192.0.2.60;proto=http'],
        ['X-Forwarded-For', '10.0.0.1'],
      ]);
      assert.deepEqual(values(pairs, 'forwarded'), ['for=192.0.2.60;proto=http']);
    });
    it('replaces a blank one', async () => {
      const pairs = await seen([
        ['Host', 'h'],
        ['Forwarded', ''],
        ['X-Forwarded-For', '10.0.0.1'],
      ]);
      assert.deepEqual(values(pairs, 'forwarded'), ['for=10.0.0.1']);
    });
    it('is not added without X-Forwarded-* headers', async () => {
      assert.deepEqual(values(await seen([['Host', 'h']]), 'forwarded'), []);
    });
  });
});
