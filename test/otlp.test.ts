import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, afterEach, before, describe, it } from 'node:test';
import { diag, DiagLogLevel } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import protobuf from 'protobufjs/light.js';
import { LABEL, METRIC } from '../src/core/metric-names.js';
import type { OtlpProtocol, OtlpSettings } from '../src/otel/otel-env.js';
import { createOtlpReader } from '../src/otel/otlp.js';
import { StatsReporter } from '../src/otel/reporter.js';
import { buildResource } from '../src/otel/resource.js';
import { HELLOWORLD as IDENTITY, HELLOWORLD_RESOURCE } from './helpers/fixtures.js';
import { METRICS_EXPORT, serveGrpcExports, type ExportCall } from './helpers/otlp-grpc-server.js';
import { collectGauges, TestReader } from './helpers/test-reader.js';

/** One window's stats; with the default 1000 ms period the rates are 10 and 4 per second. */
const REPORT = { averageConcurrency: 3, averageProxiedConcurrency: 1, requestCount: 10, proxiedRequestCount: 4 };

const DESTINATION = {
  [LABEL.configuration]: 'helloworld-go',
  [LABEL.namespace]: 'default',
  [LABEL.pod]: 'helloworld-go-00001-deployment-abc',
  [LABEL.revision]: 'helloworld-go-00001',
};

/**
 * The parts of the OTLP metrics protos (opentelemetry-proto
 * collector/metrics/v1/metrics_service.proto, metrics/v1/metrics.proto,
 * common/v1/common.proto, resource/v1/resource.proto) these tests read, with
 * the field numbers given there. Field names are the proto names in
 * lowerCamelCase, which is also how OTLP/JSON spells them, so both encodings
 * decode to the same {@link ExportRequest} shape.
 */
const OTLP_PROTO = protobuf.Root.fromJSON({
  nested: {
    ExportMetricsServiceRequest: { fields: { resourceMetrics: { rule: 'repeated', type: 'ResourceMetrics', id: 1 } } },
    ResourceMetrics: {
      fields: { resource: { type: 'Resource', id: 1 }, scopeMetrics: { rule: 'repeated', type: 'ScopeMetrics', id: 2 } },
    },
    Resource: { fields: { attributes: { rule: 'repeated', type: 'KeyValue', id: 1 } } },
    ScopeMetrics: {
      fields: { scope: { type: 'InstrumentationScope', id: 1 }, metrics: { rule: 'repeated', type: 'Metric', id: 2 } },
    },
    InstrumentationScope: { fields: { name: { type: 'string', id: 1 } } },
    Metric: { fields: { name: { type: 'string', id: 1 }, description: { type: 'string', id: 2 }, gauge: { type: 'Gauge', id: 5 } } },
    Gauge: { fields: { dataPoints: { rule: 'repeated', type: 'NumberDataPoint', id: 1 } } },
    NumberDataPoint: {
      fields: { asDouble: { type: 'double', id: 4 }, attributes: { rule: 'repeated', type: 'KeyValue', id: 7 } },
    },
    KeyValue: { fields: { key: { type: 'string', id: 1 }, value: { type: 'AnyValue', id: 2 } } },
    AnyValue: { fields: { stringValue: { type: 'string', id: 1 } } },
  },
}).lookupType('ExportMetricsServiceRequest');

interface KeyValue {
  key: string;
  value: { stringValue?: string };
}

/** What an export request holds, as far as these tests read it. */
interface ExportRequest {
  resourceMetrics: {
    resource: { attributes: KeyValue[] };
    scopeMetrics: {
      scope: { name: string };
      metrics: { name: string; description?: string; gauge?: { dataPoints: { asDouble?: number; attributes: KeyValue[] }[] } }[];
    }[];
  }[];
}

/** An OTLP/protobuf metrics export request (over HTTP or gRPC) as these tests read it. */
function decodeProtobuf(body: Buffer): ExportRequest {
  return OTLP_PROTO.toObject(OTLP_PROTO.decode(body), { arrays: true }) as ExportRequest;
}

/** One POST the receiver got. */
interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  request: ExportRequest;
}

/** A minimal OTLP/HTTP metrics receiver on 127.0.0.1 that records and decodes every POST. */
class Receiver {
  readonly received: Received[] = [];
  private readonly server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const json = req.headers['content-type'] === 'application/json';
      const request = json ? (JSON.parse(body.toString('utf8')) as ExportRequest) : decodeProtobuf(body);
      this.received.push({ path: req.url ?? '', headers: req.headers, request });
      // An empty ExportMetricsServiceResponse: full success.
      res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' }).end(json ? '{}' : '');
    });
  });
  port = 0;

  async start(): Promise<void> {
    this.port = await listenOnLoopback(this.server);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/v1/metrics`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** Polls `check` every 20 ms until it returns a value, failing after `timeoutMs`. */
async function waitFor<T>(what: string, check: () => T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function attributesOf(list: KeyValue[]): Record<string, string | undefined> {
  return Object.fromEntries(list.map((kv) => [kv.key, kv.value.stringValue]));
}

/** Gauge values by metric name, each with its data point attributes; fails on a metric that is not a gauge. */
function gaugesOf(request: ExportRequest): Map<string, { value?: number; attributes: Record<string, string | undefined> }[]> {
  const gauges = new Map<string, { value?: number; attributes: Record<string, string | undefined> }[]>();
  for (const resourceMetrics of request.resourceMetrics) {
    for (const scopeMetrics of resourceMetrics.scopeMetrics) {
      for (const metric of scopeMetrics.metrics) {
        assert.ok(metric.gauge, `${metric.name} is not exported as a gauge`);
        gauges.set(
          metric.name,
          metric.gauge.dataPoints.map((p) => ({ value: p.asDouble, attributes: attributesOf(p.attributes) })),
        );
      }
    }
  }
  return gauges;
}

/** Asserts the four queue gauges carry exactly `values` and the destination attributes. */
function assertQueueGauges(request: ExportRequest, values: Record<string, number>): void {
  const gauges = gaugesOf(request);
  assert.deepEqual([...gauges.keys()].sort(), Object.values(METRIC).sort());
  for (const [name, value] of Object.entries(values)) {
    assert.deepEqual(gauges.get(name), [{ value, attributes: DESTINATION }], name);
  }
  const uptime = gauges.get(METRIC.processUptime)?.[0];
  assert.deepEqual(uptime?.attributes, DESTINATION);
  assert.ok(typeof uptime?.value === 'number' && uptime.value >= 0, `process_uptime ${String(uptime?.value)}`);
}

function settings(endpoint: string, protocol: OtlpProtocol, overrides: Partial<OtlpSettings> = {}): OtlpSettings {
  return { endpoint, protocol, headers: {}, intervalMs: 200, readerTimeoutMs: 200, exporterTimeoutMs: 1000, ...overrides };
}

/** A MeterProvider with the OTLP reader (and `others`) and a StatsReporter on it. */
async function startProvider(otlp: OtlpSettings, ...others: TestReader[]): Promise<{ provider: MeterProvider; reporter: StatsReporter }> {
  const provider = new MeterProvider({ resource: buildResource(IDENTITY, {}), readers: [await createOtlpReader(otlp), ...others] });
  const reporter = new StatsReporter({ ...IDENTITY, meter: provider.getMeter('queue-stats-exporter-test') });
  return { provider, reporter };
}

/** Resolves once `server` listens on a free port of 127.0.0.1, with that port. */
async function listenOnLoopback(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

const CONTENT_TYPE: Record<Exclude<OtlpProtocol, 'grpc'>, string> = {
  'http/protobuf': 'application/x-protobuf',
  'http/json': 'application/json',
};

for (const protocol of ['http/protobuf', 'http/json'] as const) {
  describe(`OTLP export over ${protocol}`, () => {
    const receiver = new Receiver();
    let provider: MeterProvider | undefined;
    before(() => receiver.start());
    afterEach(async () => {
      await provider?.shutdown();
      provider = undefined;
      receiver.received.length = 0;
    });
    after(() => receiver.close());

    it('pushes the five gauges with destination_* attributes, the resource and the configured headers', async () => {
      const started = await startProvider(settings(receiver.url, protocol, { headers: { 'x-tenant': 'team-a' } }));
      provider = started.provider;
      started.reporter.report(REPORT);

      const first = await waitFor('a periodic export', () => receiver.received[0]);
      assert.equal(first.path, '/v1/metrics');
      assert.equal(first.headers['content-type'], CONTENT_TYPE[protocol]);
      assert.equal(first.headers['x-tenant'], 'team-a');
      assertQueueGauges(first.request, {
        [METRIC.averageConcurrentRequests]: 3,
        [METRIC.averageProxiedConcurrentRequests]: 1,
        [METRIC.requestsPerSecond]: 10,
        [METRIC.proxiedOperationsPerSecond]: 4,
      });
      const [resourceMetrics] = first.request.resourceMetrics;
      assert.equal(first.request.resourceMetrics.length, 1);
      assert.deepEqual(Object.fromEntries(Object.entries(attributesOf(resourceMetrics!.resource.attributes)).filter(([key]) => !key.startsWith('telemetry.sdk.'))), HELLOWORLD_RESOURCE);
      assert.equal(attributesOf(resourceMetrics!.resource.attributes)['telemetry.sdk.language'], 'nodejs');
      assert.deepEqual(
        resourceMetrics!.scopeMetrics.map((s) => s.scope.name),
        ['queue-stats-exporter-test'],
      );

      // The interval keeps exporting: a second request arrives about 200 ms later.
      await waitFor('a second periodic export', () => receiver.received[1]);
    });

    it('exports the latest values once more on shutdown, before the interval elapses', async () => {
      const started = await startProvider(settings(receiver.url, protocol, { intervalMs: 60_000, readerTimeoutMs: 5000 }));
      started.reporter.report({ averageConcurrency: 6, averageProxiedConcurrency: 2, requestCount: 20, proxiedRequestCount: 8 });
      assert.equal(receiver.received.length, 0);

      await started.provider.shutdown();

      assert.equal(receiver.received.length, 1);
      assertQueueGauges(receiver.received[0]!.request, {
        [METRIC.averageConcurrentRequests]: 6,
        [METRIC.averageProxiedConcurrentRequests]: 2,
        [METRIC.requestsPerSecond]: 20,
        [METRIC.proxiedOperationsPerSecond]: 8,
      });
    });
  });
}

describe('OTLP export over grpc', () => {
  it('pushes the gauges to a gRPC collector, with the configured headers as call metadata', async () => {
    const calls: ExportCall[] = [];
    const collector = await serveGrpcExports(METRICS_EXPORT, (call) => calls.push(call));
    const { provider, reporter } = await startProvider(settings(collector.url, 'grpc', { headers: { 'x-tenant': 'team-a' } }));
    try {
      reporter.report(REPORT);
      const first = await waitFor('an export call', () => calls[0]);
      assert.equal(first.metadata['x-tenant'], 'team-a');
      assertQueueGauges(decodeProtobuf(first.body), {
        [METRIC.averageConcurrentRequests]: 3,
        [METRIC.averageProxiedConcurrentRequests]: 1,
        [METRIC.requestsPerSecond]: 10,
        [METRIC.proxiedOperationsPerSecond]: 4,
      });
    } finally {
      await provider.shutdown();
      collector.close();
    }
  });
});

describe('OTLP export failures', () => {
  const logged: string[] = [];
  before(() => {
    diag.setLogger(
      {
        error: (...args: unknown[]) => logged.push(args.map(String).join(' ')),
        warn: () => {},
        info: () => {},
        debug: () => {},
        verbose: () => {},
      },
      DiagLogLevel.ERROR,
    );
  });
  after(() => diag.disable());

  const FAST = { intervalMs: 100, readerTimeoutMs: 100, exporterTimeoutMs: 300 };

  it('an unreachable collector is logged through diag, never thrown, and shutdown stays bounded', async () => {
    // A port that was just free: nothing listens there any more.
    const probe = createServer();
    const port = await listenOnLoopback(probe);
    await new Promise((resolve) => probe.close(resolve));

    const { provider, reporter } = await startProvider(settings(`http://127.0.0.1:${port}/v1/metrics`, 'http/protobuf', FAST));
    reporter.report(REPORT);

    const failure = await waitFor('a logged export failure', () => logged.find((line) => line.includes('ECONNREFUSED')));
    assert.match(failure, /metrics export failed/);

    const startedAt = performance.now();
    await provider.shutdown();
    const shutdownMs = performance.now() - startedAt;
    assert.ok(shutdownMs < 2000, `shutdown took ${Math.round(shutdownMs)} ms`);
  });

  it('a collector that never answers does not hold up collections by other readers', async () => {
    let pending = 0;
    const silent = createServer(() => {
      pending++;
    });
    const port = await listenOnLoopback(silent);
    const testReader = new TestReader();
    const { provider, reporter } = await startProvider(settings(`http://127.0.0.1:${port}/v1/metrics`, 'http/protobuf', FAST), testReader);
    try {
      reporter.report(REPORT);
      await waitFor('an export the collector holds', () => (pending > 0 ? pending : undefined));

      const startedAt = performance.now();
      const { points } = await collectGauges(testReader);
      const collectMs = performance.now() - startedAt;
      assert.equal(points.get(METRIC.requestsPerSecond)?.[0]?.value, 10);
      assert.ok(collectMs < 250, `collection took ${Math.round(collectMs)} ms`);

      const shutdownStartedAt = performance.now();
      await provider.shutdown();
      const shutdownMs = performance.now() - shutdownStartedAt;
      assert.ok(shutdownMs < 2000, `shutdown took ${Math.round(shutdownMs)} ms`);
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
