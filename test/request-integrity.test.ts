import assert from 'node:assert/strict';
import { connect as connectH2, createServer as createH2Server, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { monotonicNow } from '../src/core/clock.js';
import { startProxy, type ProxyServer } from '../src/proxy/proxy.js';
import type { RequestStats } from '../src/core/stats.js';
import { serve, until } from './helpers/http.js';
import { trackedProxy } from './helpers/proxy.js';
import { ID_HEADER, recordingServer, sendStreams, SWITCH_PATH, type Parsed, type RecordingServer } from './helpers/integrity.js';
import { parseResponses, RawClient } from './helpers/raw.js';
import { transportSetup } from './helpers/tls.js';

/*
 * The sidecar's first promise: every request the app sees is one the
 * sidecar's Node parser read, counted and forwarded, with the same method,
 * target and body; every client gets only the answers to its own requests,
 * in order. The oracle is a reference: the same bytes sent to a plain Node
 * server, which parses them as the sidecar's server does and answers as the
 * sidecar owes its clients.
 */

/** Runs of the property; INTEGRITY_RUNS raises it for a deeper local search. */
const NUM_RUNS = Number(process.env['INTEGRITY_RUNS'] ?? 60);
/** INTEGRITY_SEED and INTEGRITY_PATH replay the failure fast-check reports with them. */
const REPLAY = process.env['INTEGRITY_SEED'] === undefined ? {} : { seed: Number(process.env['INTEGRITY_SEED']), path: process.env['INTEGRITY_PATH'] };

/** A complete request, put inside another request's body: it must never reach the app as a request of its own. */
const smuggled = (id: string): string => `GET /smuggled HTTP/1.1\r\nHost: x\r\n${ID_HEADER}: ${id}\r\n\r\n`;

const payload = (id: string): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constant(''),
    fc.string({ unit: fc.constantFrom(...'abcxyz0123\r\n:'), maxLength: 24 }),
    fc.constant(smuggled(`${id}-inner`)),
    fc.constant(`POST /smuggled HTTP/1.1\r\nHost: x\r\n${ID_HEADER}: ${id}-inner\r\nContent-Length: 2\r\n\r\nhi`),
  );

const contentLengthName = fc.constantFrom('Content-Length', 'content-length', 'CONTENT-LENGTH');
const transferEncodingName = fc.constantFrom('Transfer-Encoding', 'transfer-encoding');
const ows = fc.constantFrom('', ' ', '\t');

function chunked(data: string, last = '0\r\n\r\n'): string {
  const half = Math.floor(data.length / 2);
  return (
    [data.slice(0, half), data.slice(half)]
      .filter((part) => part.length > 0)
      .map((part) => `${part.length.toString(16)}\r\n${part}\r\n`)
      .join('') + last
  );
}

/** Framing header lines and the body bytes that follow the head, adversarial in every way a client can be. */
const framing = (data: string): fc.Arbitrary<{ lines: readonly string[]; body: string }> =>
  fc.oneof(
    fc.constant({ lines: [], body: data }),
    fc.tuple(contentLengthName, ows, ows).map(([name, a, b]) => ({ lines: [`${name}:${a}${data.length}${b}`], body: data })),
    fc.tuple(contentLengthName, fc.integer({ min: -3, max: 3 })).map(([name, delta]) => ({ lines: [`${name}: ${Math.max(0, data.length + delta)}`], body: data })),
    fc.tuple(contentLengthName, fc.boolean()).map(([name, same]) => ({ lines: [`${name}: ${data.length}`, `${name}: ${same ? data.length : data.length + 1}`], body: data })),
    fc.constant({ lines: [`Content-Length: ${data.length}, ${data.length}`], body: data }),
    fc.constant({ lines: ['Content-Length: 1', ` ${data.length}`], body: data }),
    fc.constant({ lines: [`Content-Length : ${data.length}`], body: data }),
    fc
      .tuple(transferEncodingName, fc.constantFrom('chunked', 'Chunked', ' chunked', 'chunked ', 'gzip, chunked', 'chunked, gzip', 'identity', 'chunked, chunked'))
      .map(([name, value]) => ({ lines: [`${name}:${value}`], body: chunked(data) })),
    fc.constant({ lines: ['Transfer-Encoding: chunked'], body: chunked(data, '0\r\nX-Trailer: t\r\n\r\n') }),
    fc.constant({ lines: ['Transfer-Encoding: chunked'], body: `${data.length.toString(16)};ext=1\r\n${data}\r\n0\r\n\r\n` }),
    fc.constant({ lines: ['Transfer-Encoding: gzip', ' chunked'], body: chunked(data) }),
    fc.boolean().map((teFirst) => {
      const lines = [`Content-Length: ${data.length}`, 'Transfer-Encoding: chunked'];
      return { lines: teFirst ? lines.reverse() : lines, body: chunked(data) };
    }),
  );

/** Connection lists that name framing and routing headers, with and without an Upgrade header to match. */
const connection = fc.constantFrom<string[]>(
  [],
  ['Connection: keep-alive'],
  ['Connection: close'],
  ['Connection: content-length'],
  ['Connection: keep-alive, content-length'],
  ['Connection: Content-Length, Transfer-Encoding'],
  ['Connection: transfer-encoding'],
  ['Connection: host'],
  ['Connection: upgrade'],
  ['Connection: Upgrade', 'Upgrade: websocket'],
  ['Connection: keep-alive, Upgrade', 'Upgrade: h2c'],
  ['Connection: upgrade, content-length', 'Upgrade: anything'],
);

/** One request in wire form, with its id in a header. */
const request = (id: string): fc.Arbitrary<string> =>
  fc
    .tuple(
      fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'OPTIONS'),
      fc.constantFrom('/a', '/b?q=1', `${SWITCH_PATH}/x`),
      connection,
      fc.constantFrom<string[]>([], ['Expect: 100-continue']),
      payload(id).chain(framing),
    )
    .map(([method, target, connectionLines, expect, { lines, body }]) => {
      const head = [`${method} ${target} HTTP/1.1`, 'Host: app.example', `${ID_HEADER}: ${id}`, ...connectionLines, ...expect, ...lines];
      return `${head.join('\r\n')}\r\n\r\n${body}`;
    });

/** One client connection: its requests back to back, cut into one to three writes at arbitrary places. */
const stream = (connectionIndex: number): fc.Arbitrary<string[]> =>
  fc
    .array(fc.nat(), { minLength: 1, maxLength: 3 })
    .chain((seeds) => fc.tuple(...seeds.map((_, i) => request(`c${connectionIndex}r${i}`))))
    .chain((requests) => {
      const bytes = requests.join('');
      return fc.uniqueArray(fc.integer({ min: 1, max: Math.max(1, bytes.length - 1) }), { maxLength: 2 }).map((cuts) => {
        const points = [0, ...cuts.sort((a, b) => a - b), bytes.length];
        return points
          .slice(1)
          .map((end, i) => bytes.slice(points[i], end))
          .filter((chunk) => chunk.length > 0);
      });
    });

const streams = fc.integer({ min: 1, max: 3 }).chain((count) => fc.tuple(...Array.from({ length: count }, (_, i) => stream(i))));

/** An answer the app wrote, which names the request it answers (the sidecar's and Node's own answers do not). */
const tagged = (id: string): boolean => !id.startsWith('(');
const untagged = (id: string): boolean => !tagged(id);
/** Orders ids `c<connection>r<request>` of one connection by request number. */
const byRequestNumber = (a: string, b: string): number => Number(a.slice(a.indexOf('r') + 1)) - Number(b.slice(b.indexOf('r') + 1));

/** Whether the request `id` of a connection sent as `chunks` has `Connection: close` among its header lines. */
function askedToClose(chunks: readonly string[], id: string | undefined): boolean {
  if (id === undefined) return false;
  const bytes = chunks.join('');
  const start = bytes.indexOf(`${ID_HEADER}: ${id}\r\n`);
  return start !== -1 && bytes.slice(start, bytes.indexOf('\r\n\r\n', start) + 2).includes('\r\nConnection: close\r\n');
}

/** A log as a sorted list of `id method url`, to compare as multisets (the sidecar may reorder pipelined requests upstream). */
function heads(log: readonly Parsed[]): string[] {
  return log.map((entry) => `${entry.id} ${entry.method} ${entry.url}`).sort();
}

// Over TLS too: the TLS port hands its connections to the same server, and must add nothing to what reaches the app.
for (const transport of ['tcp', 'tls-http1'] as const) {
  describe(`request integrity through the sidecar${transport === 'tcp' ? '' : ', over TLS (HTTP/1.1 by ALPN)'}`, () => {
    const setup = transportSetup(transport);
    let app: RecordingServer;
    let reference: RecordingServer;
    let stats: RequestStats;
    let proxy: ProxyServer;
    before(async () => {
      app = await recordingServer('parse');
      reference = await recordingServer('close');
      ({ stats, proxy } = await trackedProxy(app.port, setup.options));
    });
    after(async () => {
      await proxy.close(0);
      await app.close();
      await reference.close();
      setup.remove();
    });

    it('the app parses only requests the sidecar parsed, with their bodies; each client gets only its own answers, in order; the gauges count every parsed request', async () => {
      await fc.assert(
        fc.asyncProperty(streams, async (connections) => {
          if (transport !== 'tcp') {
            // Over TLS a request whose client left before the sidecar had sent it on could reach the app a moment
            // later, in the next run, under an id that run uses too: each run gets a proxy of its own, and what the
            // last one's connections still bring the app is left out of its log.
            await proxy.close(0);
            app.retireConnections();
            ({ stats, proxy } = await trackedProxy(app.port, setup.options));
          }
          reference.log.length = 0;
          app.log.length = 0;
          stats.report(monotonicNow());
          const expected = await sendStreams(reference.port, connections, (_, __, quietMs) => quietMs >= 50 && reference.unanswered() === 0);
          // A switched connection stays open, and counted, until the client closes it.
          const got = await sendStreams(setup.port(proxy), connections, (index, received, quietMs) => received.ids.length >= expected[index]!.ids.length && quietMs >= 30, transport);
          await until(() => stats.inFlight === 0 && stats.proxiedInFlight === 0, 'in-flight requests to return to 0');
          got.forEach((received, index) => {
            const reference = expected[index]!.ids;
            // Where Node's parser failed on a later request (an untagged 400), it closes the connection at once, and
            // the answers still on their way from the app are lost: through the sidecar that can be more of them.
            if (transport !== 'tcp') {
              // On a TLS socket that 400 itself may be lost (Node writes it and destroys the socket at once, before
              // TLS has sent it; its own https server does the same), so which answers arrive depends on timing:
              // each must still be to one of the client's own requests, in the order they were sent.
              const own = received.ids.filter(tagged);
              assert.deepEqual(own, [...own].sort(byRequestNumber), `client ${index}: its own answers, in order`);
              for (const id of own) assert.ok(id.startsWith(`c${index}r`), `client ${index}: ${id} is one of its own`);
            } else if (reference.some(untagged) || (received.ids.some(untagged) && askedToClose(connections[index]!, reference.filter(tagged).at(-1))))
              // The reference's parser failed (an untagged 400), or the sidecar's did on bytes sent after a request that
              // asked to close the connection, bytes the reference, quicker to answer and close, never read.
              assert.deepEqual(received.ids.filter(tagged), reference.filter(tagged).slice(0, received.ids.filter(tagged).length), `client ${index}: its own answers, in order`);
            else assert.deepEqual(received.ids, reference, `client ${index}: the answers to its own requests, in order`);
          });
          // Every answer a client got came from the app, so the app parsed each answered request; beyond those, a
          // request whose client connection ended before its answer (Node's parser failing on what followed it, say)
          // may or may not have reached the app, but nothing reaches it that the sidecar did not parse.
          const answered = got.flatMap((received) => received.ids).filter(tagged);
          const appHeads = heads(app.log);
          assert.deepEqual(appHeads, [...new Set(appHeads)], 'the app parsed no request twice');
          const referenceHeads = heads(reference.log);
          assert.deepEqual(
            appHeads.filter((head) => !referenceHeads.includes(head)),
            [],
            'the app parsed only requests that the sidecar parsed',
          );
          for (const id of answered)
            assert.ok(
              app.log.some((entry) => entry.id === id),
              `the app parsed ${id}, which was answered`,
            );
          for (const entry of app.log) {
            const parsed = reference.log.find((candidate) => candidate.id === entry.id)!;
            if (answered.includes(entry.id)) assert.equal(entry.body, parsed.body, `the body of ${entry.id}`);
          }
          const counted = stats.report(monotonicNow()).requestCount;
          // Over TLS a client that expects no answer may leave before the sidecar has read its records (the handshake
          // takes part of the quiet time it waits): the gauges then count less, never more, than the reference parsed.
          if (transport === 'tcp') assert.equal(counted, reference.log.length, 'the gauges count what the sidecar parsed');
          else assert.ok(counted <= reference.log.length, `the gauges count only what the sidecar parsed: ${counted} for ${reference.log.length}`);
        }),
        // A failure can make every later run wait out its bounds: cap the search, shrinking included.
        { numRuns: NUM_RUNS, interruptAfterTimeLimit: 60_000, ...REPLAY },
      );
    });
  });
}

describe('regressions', () => {
  let app: RecordingServer;
  let stats: RequestStats;
  let proxy: ProxyServer;
  before(async () => {
    app = await recordingServer('parse');
    // One upstream connection, so that bytes left on it would meet the next client's request.
    ({ stats, proxy } = await trackedProxy(app.port, { connections: 1 }));
  });
  after(async () => {
    await proxy.close(0);
    await app.close();
  });

  for (const connectionValue of ['keep-alive, content-length', 'content-length']) {
    it(`a body that is a whole request, its Content-Length named in Connection (${connectionValue}), reaches the app as a body; the next client gets its own answer`, async () => {
      app.log.length = 0;
      stats.report(monotonicNow());
      const inner = smuggled('smuggled');
      const a = await RawClient.connect(proxy.port);
      a.write(`POST /a HTTP/1.1\r\nHost: x\r\n${ID_HEADER}: a\r\nConnection: ${connectionValue}\r\nContent-Length: ${inner.length}\r\n\r\n${inner}`);
      await until(() => parseResponses(a.received).length === 1, 'the answer to A');
      const b = await RawClient.connect(proxy.port);
      b.write(`GET /victim HTTP/1.1\r\nHost: x\r\n${ID_HEADER}: b\r\n\r\n`);
      await until(() => parseResponses(b.received).length === 1, 'the answer to B');
      assert.equal(parseResponses(a.received)[0]!.body, 'answer to a');
      assert.equal(parseResponses(b.received)[0]!.body, 'answer to b');
      assert.deepEqual(
        app.log.map((entry) => [entry.id, entry.method, entry.url, entry.body]),
        [
          ['a', 'POST', '/a', inner],
          ['b', 'GET', '/victim', ''],
        ],
      );
      a.destroy();
      b.destroy();
      await until(() => stats.inFlight === 0, 'in-flight requests to return to 0');
      assert.equal(stats.report(monotonicNow()).requestCount, 2);
    });
  }

  for (const upgrade of ['websocket', 'h2c', 'anything']) {
    it(`an Upgrade: ${upgrade} request the app answers 200 is an ordinary exchange; the connection closes, and what the client sends after it never reaches the app`, async () => {
      app.log.length = 0;
      stats.report(monotonicNow());
      const client = await RawClient.connect(proxy.port);
      client.write(`GET /up HTTP/1.1\r\nHost: x\r\n${ID_HEADER}: up\r\nConnection: Upgrade\r\nUpgrade: ${upgrade}\r\n\r\n`);
      await until(() => parseResponses(client.received).length === 1, 'the answer');
      client.write(`GET /later HTTP/1.1\r\nHost: x\r\n${ID_HEADER}: later\r\n\r\n`);
      await client.whenClosed(2000);
      const [answer, ...more] = parseResponses(client.received);
      assert.equal(answer!.status, 200);
      assert.equal(answer!.body, 'answer to up');
      assert.equal(answer!.headers.get('connection'), 'close');
      assert.deepEqual(more, []);
      assert.deepEqual(
        app.log.map((entry) => entry.id),
        ['up'],
      );
      await until(() => stats.inFlight === 0, 'in-flight requests to return to 0');
      assert.equal(stats.report(monotonicNow()).requestCount, 1);
    });
  }
});

describe('interim answers to pipelined requests', () => {
  let app: Awaited<ReturnType<typeof serve>>;
  let proxy: ProxyServer;
  before(async () => {
    // The first answer is slow, so that the later ones wait behind it in the sidecar's queue of pipelined responses.
    app = await serve((request, response) => {
      if (request.url === '/hints') response.writeEarlyHints({ link: '</style.css>; rel=preload' });
      setTimeout(() => response.end(`answer to ${request.url}`), request.url === '/slow' ? 100 : 0);
    });
    proxy = await startProxy({ upstream: `http://127.0.0.1:${app.port}`, port: 0, host: '127.0.0.1' });
  });
  after(async () => {
    await proxy.close(0);
    await app.close();
  });

  it("a queued response's 100 Continue and 103 Early Hints come before its head, never inside its body", async () => {
    const client = await RawClient.connect(proxy.port);
    client.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n' + 'DELETE /continue HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n' + 'GET /hints HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => parseResponses(client.received).length === 5, 'five answers');
    client.destroy();
    assert.deepEqual(
      parseResponses(client.received).map(({ status, headers, body }) => [status, headers.get('link') ?? '', body]),
      [
        [200, '', 'answer to /slow'],
        [100, '', ''],
        [200, '', 'answer to /continue'],
        [103, '</style.css>; rel=preload', ''],
        [200, '', 'answer to /hints'],
      ],
    );
  });
});

for (const transport of ['tcp', 'tls-h2'] as const) {
  describe(`request integrity over ${transport === 'tcp' ? 'h2c' : 'HTTP/2 over TLS'}: many clients, many concurrent streams each`, () => {
    it('every stream the app sees is one the sidecar parsed and counted, once, with its body; every client gets only its own answers', async () => {
      /** What the app parsed: id, method, path and body of each stream. */
      const appLog: string[] = [];
      const app = createH2Server();
      app.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
        stream.on('error', () => {});
        const id = String(headers[ID_HEADER]);
        let body = '';
        stream.setEncoding('latin1');
        stream.on('data', (chunk: string) => (body += chunk));
        stream.on('end', () => {
          appLog.push(`${id} ${String(headers[':method'])} ${String(headers[':path'])} ${body}`);
          if (stream.destroyed) return;
          stream.respond({ ':status': 200, 'x-answer-to': id });
          // An answer in several DATA frames, interleaved with other streams' by the event loop.
          stream.write(`${id}:`);
          setImmediate(() => stream.end(body));
        });
      });
      await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
      const setup = transportSetup(transport);
      const { stats, proxy } = await trackedProxy((app.address() as AddressInfo).port, setup.options);
      const sessions = Array.from({ length: 4 }, () => connectH2(proxy.tls?.url ?? proxy.url, { rejectUnauthorized: false }));
      try {
        stats.report(monotonicNow());
        const sent: string[] = [];
        const calls: Array<Promise<void>> = [];
        sessions.forEach((session, client) => {
          for (let i = 0; i < 40; i++) {
            const id = `s${client}r${i}`;
            // A body that is itself a request line, of varied lengths, or none.
            const body = i % 3 === 0 ? '' : `GET /smuggled HTTP/1.1\r\n${ID_HEADER}: x-${id}\r\n\r\n${'z'.repeat(i * 37)}`;
            const method = body === '' ? 'GET' : 'POST';
            sent.push(`${id} ${method} /item/${id} ${body}`);
            calls.push(
              new Promise<void>((resolve, reject) => {
                const stream = session.request({ ':method': method, ':path': `/item/${id}`, [ID_HEADER]: id }, { endStream: body === '' });
                let answerTo: unknown;
                let text = '';
                stream.setEncoding('latin1');
                stream.on('response', (headers: IncomingHttpHeaders) => (answerTo = headers['x-answer-to']));
                stream.on('data', (chunk: string) => (text += chunk));
                stream.on('end', () => {
                  try {
                    assert.equal(answerTo, id, `client ${client}: the answer to its own stream`);
                    assert.equal(text, `${id}:${body}`, `client ${client}: the body of the answer to ${id}`);
                    resolve();
                  } catch (error) {
                    reject(error);
                  }
                });
                stream.on('error', reject);
                if (body !== '') {
                  // In two writes, so that the request body spans DATA frames.
                  stream.write(body.slice(0, body.length >> 1));
                  setImmediate(() => stream.end(body.slice(body.length >> 1)));
                }
              }),
            );
          }
        });
        await Promise.all(calls);
        assert.deepEqual([...appLog].sort(), [...sent].sort(), 'the app parsed exactly the streams sent, each once, with its body');
        await until(() => stats.inFlight === 0, 'in-flight streams to return to 0');
        assert.equal(stats.report(monotonicNow()).requestCount, sent.length, 'the gauges count every stream');
      } finally {
        for (const session of sessions) session.close();
        await proxy.close(0);
        app.close();
        setup.remove();
      }
    });
  });
}
