import assert from 'node:assert/strict';
import { connect, constants, createServer as createH2Server, type ClientHttp2Session, type Http2Server } from 'node:http2';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Metadata } from '@grpc/grpc-js';
import type { OtlpProtocol } from '../src/otel/otel-env.js';
import type { ProxyOptions } from '../src/proxy/proxy-options.js';
import { QUEUE_WAIT_SPAN } from '../src/trace/request-spans.js';
import { startTracing, TRACER_NAME, type Tracing } from '../src/trace/start-tracing.js';
import { VERSION } from '../src/core/version.js';
import { grpcClient, startGrpcApp, unary } from './helpers/grpc.js';
import { get, until } from './helpers/http.js';
import { KIND, TraceReceiver, type ReceivedSpan } from './helpers/otlp-trace-receiver.js';
import { proxyPair, trackedProxy } from './helpers/proxy.js';
import { openUpgrade, serveUpgrades } from './helpers/upgrade.js';

// The batch span processor reads its delay from the environment: export within 20 ms instead of 5 s.
process.env['OTEL_BSP_SCHEDULE_DELAY'] = '20';

const IDENTITY = { namespace: 'ns', config: 'cfg', revision: 'cfg-00001', pod: 'cfg-00001-pod' };
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';

/** The hex span id in a `traceparent` value. */
function parentOf(traceparent: string | undefined): string | undefined {
  return traceparent?.split('-')[2];
}

let receiver: TraceReceiver;

before(async () => {
  receiver = new TraceReceiver();
  await receiver.start();
});

after(() => receiver.close());

/** Tracing to the test's receiver with `protocol`, every trace recorded unless the caller's says otherwise. */
function tracing(protocol: OtlpProtocol = 'http/protobuf'): Promise<Tracing> {
  return startTracing({
    settings: { endpoint: receiver.url, protocol, headers: {}, exporterTimeoutMs: 5000, sampler: { name: 'parentbased_always_on', ratio: 1 } },
    identity: IDENTITY,
    service: 'svc',
    env: {},
  });
}

/** Runs `test` with an app recording the headers it received, behind a traced proxy; spans are those that arrived since. */
async function withTracedProxy(
  test: (ctx: { port: number; seen: IncomingHttpHeaders[]; spans: (count: number) => Promise<ReceivedSpan[]>; release: () => void; breaker: () => number }) => Promise<void>,
  options: { protocol?: OtlpProtocol; proxy?: Partial<ProxyOptions>; holdFirst?: boolean } = {},
): Promise<void> {
  const traces = await tracing(options.protocol);
  const seen: IncomingHttpHeaders[] = [];
  let release = (): void => {};
  const first = new Promise<void>((resolve) => (release = resolve));
  const pair = await proxyPair(
    (request, response) => {
      seen.push(request.headers);
      const answer = (): void => {
        response.writeHead(request.url === '/fail' ? 503 : 201);
        response.end('ok');
      };
      if (options.holdFirst === true && seen.length === 1) void first.then(answer);
      else answer();
    },
    { tracer: traces.tracer, ...options.proxy },
  );
  const from = receiver.spans.length;
  try {
    await test({
      port: pair.proxy.port,
      seen,
      spans: async (count) => (await receiver.waitFor(from + count)).slice(from),
      release,
      breaker: () => pair.proxy.breaker?.queueDepth ?? 0,
    });
  } finally {
    await pair.close();
    await traces.shutdown();
  }
}

describe('a traced HTTP/1.1 request', () => {
  it("continues the caller's W3C trace in a SERVER span with the HTTP attributes, and the app's parent is that span", () =>
    withTracedProxy(async ({ port, seen, spans }) => {
      const answer = await get(port, '/a/b?x=1', { traceparent: `00-${TRACE_ID}-${CALLER_SPAN}-01`, tracestate: 'vendor=v1', 'user-agent': 'tracing-test/1' });
      assert.equal(answer.status, 201);
      const [span] = await spans(1);
      assert.equal(span!.traceId, TRACE_ID);
      assert.equal(span!.parentSpanId, CALLER_SPAN);
      assert.equal(span!.traceState, 'vendor=v1');
      assert.equal(span!.name, 'GET');
      assert.equal(span!.kind, KIND.SERVER);
      assert.equal(span!.scope, TRACER_NAME);
      assert.equal(span!.statusCode, 0);
      assert.deepEqual(span!.attributes, {
        'http.request.method': 'GET',
        'url.path': '/a/b',
        'url.query': 'x=1',
        'url.scheme': 'http',
        'server.address': '127.0.0.1',
        'server.port': port,
        'network.protocol.version': '1.1',
        'user_agent.original': 'tracing-test/1',
        'client.address': '127.0.0.1',
        'network.peer.address': '127.0.0.1',
        'network.peer.port': span!.attributes['network.peer.port']!,
        'http.response.status_code': 201,
      });
      assert.equal(typeof span!.attributes['network.peer.port'], 'number');
      assert.equal(span!.resource['k8s.container.name'], 'queue-proxy');
      assert.equal(span!.resource['service.name'], 'svc');
      assert.equal(span!.resource['service.version'], VERSION);
      assert.equal(span!.resource['kn.revision.name'], 'cfg-00001');
      assert.equal(seen[0]!['traceparent'], `00-${TRACE_ID}-${span!.spanId}-01`);
      assert.equal(seen[0]!['tracestate'], 'vendor=v1');
      assert.ok(span!.endNs > span!.startNs);
    }));

  it('starts a new trace without a caller, exported as OTLP/JSON, and marks a 5xx answer as an error', () =>
    withTracedProxy(
      async ({ port, seen, spans }) => {
        assert.equal((await get(port, '/fail')).status, 503);
        const [span] = await spans(1);
        assert.match(receiver.contentTypes.at(-1)!, /^application\/json/);
        assert.equal(span!.parentSpanId, '');
        assert.match(span!.traceId, /^[0-9a-f]{32}$/);
        assert.equal(span!.attributes['http.response.status_code'], 503);
        assert.equal(span!.statusCode, 2);
        assert.equal(seen[0]!['traceparent'], `00-${span!.traceId}-${span!.spanId}-01`);
      },
      { protocol: 'http/json' },
    ));

  it("continues a B3 single-header trace and tells the app in W3C and B3's single header", () =>
    withTracedProxy(async ({ port, seen, spans }) => {
      await get(port, '/', { b3: `${TRACE_ID}-${CALLER_SPAN}-1` });
      const [span] = await spans(1);
      assert.equal(span!.traceId, TRACE_ID);
      assert.equal(span!.parentSpanId, CALLER_SPAN);
      assert.equal(seen[0]!['traceparent'], `00-${TRACE_ID}-${span!.spanId}-01`);
      assert.equal(seen[0]!['b3'], `${TRACE_ID}-${span!.spanId}-1`);
    }));

  it('continues a B3 multi-header trace and tells the app in W3C and the X-B3 headers', () =>
    withTracedProxy(async ({ port, seen, spans }) => {
      await get(port, '/', { 'x-b3-traceid': TRACE_ID, 'x-b3-spanid': CALLER_SPAN, 'x-b3-sampled': '1' });
      const [span] = await spans(1);
      assert.equal(span!.traceId, TRACE_ID);
      assert.equal(span!.parentSpanId, CALLER_SPAN);
      assert.equal(parentOf(seen[0]!['traceparent'] as string), span!.spanId);
      assert.equal(seen[0]!['x-b3-traceid'], TRACE_ID);
      assert.equal(seen[0]!['x-b3-spanid'], span!.spanId);
      assert.equal(seen[0]!['b3'], undefined);
    }));

  it("records an unsampled caller's request nowhere but still gives the app the trace", () =>
    withTracedProxy(async ({ port, seen }) => {
      const from = receiver.spans.length;
      await get(port, '/', { traceparent: `00-${TRACE_ID}-${CALLER_SPAN}-00` });
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(receiver.spans.length, from);
      assert.match(seen[0]!['traceparent'] as string, new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-00$`));
    }));

  it('leaves out network probes and kubelet probes, whose headers pass as they came', () =>
    withTracedProxy(async ({ port, seen, spans }) => {
      assert.equal((await get(port, '/', { 'k-network-probe': 'queue' })).status, 200);
      const probeParent = `00-${TRACE_ID}-${CALLER_SPAN}-01`;
      assert.equal((await get(port, '/healthz', { 'user-agent': 'kube-probe/1.30', traceparent: probeParent })).status, 201);
      assert.equal(seen[0]!['traceparent'], probeParent);
      await get(port, '/after');
      const traced = await spans(1);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(receiver.spans.length - receiver.spans.indexOf(traced[0]!), 1);
      assert.equal(traced[0]!.attributes['url.path'], '/after');
    }));
});

describe('a traced request behind the breaker', () => {
  it('has a kn.queueproxy.wait child span for the time it queued, and only then', () =>
    withTracedProxy(
      async ({ port, seen, spans, release, breaker }) => {
        const first = get(port, '/first');
        await until(() => seen.length === 1, 'the first request at the app');
        const second = get(port, '/second');
        await until(() => breaker() === 1, 'the second request queued');
        await new Promise((r) => setTimeout(r, 60));
        release();
        await Promise.all([first, second]);
        const all = await spans(3);
        const server = (path: string): ReceivedSpan => all.find((span) => span.kind === KIND.SERVER && span.attributes['url.path'] === path)!;
        const waits = all.filter((span) => span.name === QUEUE_WAIT_SPAN);
        assert.equal(waits.length, 1);
        const wait = waits[0]!;
        assert.equal(wait.kind, KIND.INTERNAL);
        assert.equal(wait.parentSpanId, server('/second').spanId);
        assert.equal(wait.traceId, server('/second').traceId);
        assert.ok(wait.endNs - wait.startNs >= 55_000_000n, `waited ${wait.endNs - wait.startNs} ns`);
        assert.ok(wait.startNs >= server('/second').startNs && wait.endNs <= server('/second').endNs);
        assert.equal(parentOf(seen[1]!['traceparent'] as string), server('/second').spanId);
      },
      { proxy: { containerConcurrency: 1 }, holdFirst: true },
    ));
});

/** An h2c app on 127.0.0.1 that records each stream's headers and answers 200. */
async function h2App(seen: IncomingHttpHeaders[]): Promise<{ server: Http2Server; port: number }> {
  const server = createH2Server();
  server.on('stream', (stream, headers) => {
    seen.push(headers);
    stream.respond({ ':status': 200 });
    stream.end('h2');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

function h2Get(session: ClientHttp2Session, path: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':path': path, ...headers });
    stream.on('response', (head) => stream.resume().on('end', () => resolve(Number(head[constants.HTTP2_HEADER_STATUS]))));
    stream.on('error', reject);
    stream.end();
  });
}

describe('tracing over OTLP/gRPC', () => {
  it('exports the spans to a gRPC collector, with the OTLP headers as call metadata', async () => {
    const url = await receiver.startGrpc();
    const traces = await startTracing({
      settings: { endpoint: url, protocol: 'grpc', headers: { 'x-tenant': 'team-a' }, exporterTimeoutMs: 5000, sampler: { name: 'always_on', ratio: 1 } },
      identity: IDENTITY,
      service: 'svc',
      env: {},
    });
    const pair = await proxyPair((_request, response) => response.end('ok'), { tracer: traces.tracer });
    const from = receiver.spans.length;
    try {
      assert.equal((await get(pair.proxy.port, '/over-grpc')).status, 200);
      const [span] = (await receiver.waitFor(from + 1)).slice(from);
      assert.equal(span!.kind, KIND.SERVER);
      assert.equal(span!.attributes['url.path'], '/over-grpc');
      assert.equal(span!.resource['service.name'], 'svc');
      assert.equal(receiver.contentTypes.at(-1), 'application/grpc');
      assert.equal(receiver.grpcMetadata.at(-1)!['x-tenant'], 'team-a');
    } finally {
      await pair.close();
      await traces.shutdown();
    }
  });
});

describe('a traced upgrade', () => {
  it("is a SERVER span for the tunnel's whole life, with the status 200 Knative records for it, and the app's upgrade request carries it", async () => {
    const traces = await tracing();
    const app = await serveUpgrades();
    const { proxy } = await trackedProxy(app.port, { tracer: traces.tracer });
    const from = receiver.spans.length;
    try {
      const tunnel = await openUpgrade(proxy.port, '/chat');
      assert.match(tunnel.handshake, /^HTTP\/1\.1 101 /);
      await new Promise((resolve) => setTimeout(resolve, 100));
      tunnel.client.destroy();
      const [span] = (await receiver.waitFor(from + 1)).slice(from);
      assert.equal(span!.kind, KIND.SERVER);
      assert.equal(span!.name, 'GET');
      assert.equal(span!.attributes['url.path'], '/chat');
      assert.equal(span!.attributes['http.response.status_code'], 200);
      assert.equal(app.seen[0]!.headers['traceparent'], `00-${span!.traceId}-${span!.spanId}-01`);
      assert.ok(span!.endNs - span!.startNs >= 90_000_000n, `the span lasted ${span!.endNs - span!.startNs} ns`);
    } finally {
      await proxy.close(0);
      await app.close();
      await traces.shutdown();
    }
  });
});

describe('traced HTTP/2 and gRPC requests', () => {
  for (const [what, upstreamProtocol, client] of [
    ['an h2c stream to an h2c app', 'auto', 'h2'],
    ['an HTTP/1.1 request to an h2c app', 'h2c', 'h1'],
  ] as const) {
    it(`${what}: a SERVER span, and the app's parent is it`, async () => {
      const traces = await tracing();
      const seen: IncomingHttpHeaders[] = [];
      const app = await h2App(seen);
      const { proxy } = await trackedProxy(app.port, { tracer: traces.tracer, upstreamProtocol });
      const from = receiver.spans.length;
      try {
        const traceparent = `00-${TRACE_ID}-${CALLER_SPAN}-01`;
        if (client === 'h2') {
          const session = connect(`http://127.0.0.1:${proxy.port}`);
          try {
            assert.equal(await h2Get(session, '/h2?q=1', { traceparent, 'user-agent': 'h2-test' }), 200);
          } finally {
            session.close();
          }
        } else {
          assert.equal((await get(proxy.port, '/h2?q=1', { traceparent, 'user-agent': 'h2-test' })).status, 200);
        }
        const [span] = (await receiver.waitFor(from + 1)).slice(from);
        assert.equal(span!.traceId, TRACE_ID);
        assert.equal(span!.parentSpanId, CALLER_SPAN);
        assert.equal(span!.attributes['network.protocol.version'], client === 'h2' ? '2' : '1.1');
        assert.equal(span!.attributes['url.path'], '/h2');
        assert.equal(span!.attributes['server.address'], '127.0.0.1');
        assert.equal(span!.attributes['user_agent.original'], 'h2-test');
        assert.equal(span!.attributes['http.response.status_code'], 200);
        assert.equal(seen[0]!['traceparent'], `00-${TRACE_ID}-${span!.spanId}-01`);
      } finally {
        await proxy.close(0);
        app.server.close();
        await traces.shutdown();
      }
    });
  }

  it("an h2c stream to an HTTP/1.1 app (upstream protocol http1): a SERVER span, and the app's parent is it", () =>
    withTracedProxy(
      async ({ port, seen, spans }) => {
        const session = connect(`http://127.0.0.1:${port}`);
        try {
          assert.equal(await h2Get(session, '/compat', { traceparent: `00-${TRACE_ID}-${CALLER_SPAN}-01` }), 201);
        } finally {
          session.close();
        }
        const [span] = await spans(1);
        assert.equal(span!.parentSpanId, CALLER_SPAN);
        assert.equal(span!.attributes['network.protocol.version'], '2');
        assert.equal(span!.attributes['server.address'], '127.0.0.1');
        assert.equal(span!.attributes['http.response.status_code'], 201);
        assert.equal(seen[0]!['traceparent'], `00-${TRACE_ID}-${span!.spanId}-01`);
      },
      { proxy: { upstreamProtocol: 'http1' } },
    ));

  it('a gRPC call: a POST SERVER span named by its method path, and the app sees its trace context', async () => {
    const traces = await tracing();
    const received: string[] = [];
    const app = await startGrpcApp({
      Unary: (call: { metadata: Metadata; request: { text: string } }, callback: (error: null, value: { text: string }) => void) => {
        received.push(String(call.metadata.get('traceparent')[0]));
        callback(null, { text: call.request.text });
      },
    });
    const { proxy } = await trackedProxy(app.port, { tracer: traces.tracer });
    const client = grpcClient(proxy.port);
    const from = receiver.spans.length;
    try {
      const metadata = new Metadata();
      metadata.set('traceparent', `00-${TRACE_ID}-${CALLER_SPAN}-01`);
      assert.deepEqual(await unary(client, { text: 'hi' }, { metadata }), { text: 'hi' });
      const [span] = (await receiver.waitFor(from + 1)).slice(from);
      assert.equal(span!.name, 'POST');
      assert.equal(span!.parentSpanId, CALLER_SPAN);
      assert.equal(span!.attributes['url.path'], '/test.Notes/Unary');
      assert.equal(span!.attributes['network.protocol.version'], '2');
      assert.equal(span!.attributes['http.response.status_code'], 200);
      assert.deepEqual(received, [`00-${TRACE_ID}-${span!.spanId}-01`]);
    } finally {
      client.close();
      await proxy.close(0);
      app.close();
      await traces.shutdown();
    }
  });
});
