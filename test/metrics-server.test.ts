import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { monotonicNow } from '../src/core/clock.js';
import { PortInUseError } from '../src/core/errors.js';
import { startMetricsServer, type MetricsServer } from '../src/metrics-server/server.js';
import { StatsReporter } from '../src/otel/reporter.js';
import { decodeStat } from '../src/metrics-server/stat-proto.js';
import { HELLOWORLD as NAMES } from './helpers/fixtures.js';
import { RawClient } from './helpers/raw.js';

const LABELS = '{destination_configuration="helloworld-go",destination_namespace="default",destination_pod="helloworld-go-00001-deployment-abc",destination_revision="helloworld-go-00001"}';

/** The four families exactly as client_golang (the Go reporter in shared/anchors) writes them for values 3, 1, 10, 4. */
const GO_EXPOSITION = `# HELP queue_average_concurrent_requests Number of requests currently being handled by this pod
# TYPE queue_average_concurrent_requests gauge
queue_average_concurrent_requests${LABELS} 3
# HELP queue_average_proxied_concurrent_requests Number of proxied requests currently being handled by this pod
# TYPE queue_average_proxied_concurrent_requests gauge
queue_average_proxied_concurrent_requests${LABELS} 1
# HELP queue_proxied_operations_per_second Number of proxied requests per second
# TYPE queue_proxied_operations_per_second gauge
queue_proxied_operations_per_second${LABELS} 4
# HELP queue_requests_per_second Number of requests per second
# TYPE queue_requests_per_second gauge
queue_requests_per_second${LABELS} 10
`;

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** One raw HTTP request on 127.0.0.1 (fetch cannot send every method). */
function call(port: number, path: string, init: { method?: string; headers?: Record<string, string | string[]> } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: init.method ?? 'GET', headers: init.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('metrics server exposition', () => {
  let server: MetricsServer;
  let reporter: StatsReporter;
  let nowMs = 0;
  before(async () => {
    server = await startMetricsServer({ port: 0, host: '127.0.0.1', withTargetInfo: false });
    reporter = new StatsReporter({ ...NAMES, meter: server.meterProvider.getMeter('queue'), now: () => nowMs });
    reporter.report({ averageConcurrency: 3, averageProxiedConcurrency: 1, requestCount: 10, proxiedRequestCount: 4 });
    nowMs = 42_000;
  });
  after(() => server.close());

  it('serves the five families; the queue_* ones byte-identical to client_golang', async () => {
    const answer = await call(server.port, '/metrics');
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
    assert.equal(
      answer.body.toString(),
      `# HELP process_uptime The number of seconds that the process has been up
# TYPE process_uptime gauge
process_uptime${LABELS} 42
${GO_EXPOSITION}`,
    );
    assert.equal(Number(answer.headers['content-length']), answer.body.length);
  });

  it('answers the protobuf Stat from the same values when Accept asks for it', async () => {
    const answer = await call(server.port, '/metrics', { headers: { accept: 'application/protobuf, text/plain' } });
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['content-type'], 'application/protobuf');
    assert.deepEqual(decodeStat(answer.body), {
      podName: 'helloworld-go-00001-deployment-abc',
      averageConcurrentRequests: 3,
      averageProxiedConcurrentRequests: 1,
      requestCount: 10,
      proxiedRequestCount: 4,
      processUptime: 42,
      timestamp: 0,
    });
  });

  it('answers text when protobuf is not in the first Accept header', async () => {
    const answer = await call(server.port, '/metrics', { headers: { accept: 'text/plain;version=0.0.4' } });
    assert.equal(answer.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
    const twoLines = await call(server.port, '/metrics', { headers: { accept: ['text/plain', 'application/protobuf'] } });
    assert.equal(twoLines.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
    const protobufFirst = await call(server.port, '/metrics', { headers: { Accept: ['application/protobuf', 'text/plain'] } });
    assert.equal(protobufFirst.headers['content-type'], 'application/protobuf');
  });

  it('ignores the query string', async () => {
    assert.equal((await call(server.port, '/metrics?x=1')).status, 200);
  });

  it('HEAD has the headers and no body', async () => {
    const answer = await call(server.port, '/metrics', { method: 'HEAD' });
    assert.equal(answer.status, 200);
    assert.equal(answer.body.length, 0);
    assert.ok(Number(answer.headers['content-length']) > 0);
  });

  it('other paths are 404', async () => {
    for (const path of ['/', '/metrics/', '/metricsx', '/debug/pprof']) {
      assert.equal((await call(server.port, path)).status, 404, path);
    }
  });

  it('other methods are 405 with Allow', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS']) {
      const answer = await call(server.port, '/metrics', { method });
      assert.equal(answer.status, 405, method);
      assert.equal(answer.headers['allow'], 'GET, HEAD');
    }
  });

  it('concurrent scrapes all get the full exposition', async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, () => call(server.port, '/metrics')));
    for (const answer of answers) assert.ok(answer.body.toString().endsWith(GO_EXPOSITION));
  });
});

describe('metrics server options', () => {
  it('target_info carries the resource attributes by default', async () => {
    const server = await startMetricsServer({ port: 0, host: '127.0.0.1', resourceAttributes: { 'service.name': 'helloworld-go', 'k8s.pod.name': 'pod-a' } });
    try {
      const text = (await call(server.port, '/metrics')).body.toString();
      assert.match(text, /^# HELP target_info Target metadata\n# TYPE target_info gauge\ntarget_info\{[^}]*service_name="helloworld-go"[^}]*\} 1\n/);
      assert.match(text, /k8s_pod_name="pod-a"/);
    } finally {
      await server.close();
    }
  });

  it('scope labels can be turned on', async () => {
    const server = await startMetricsServer({ port: 0, host: '127.0.0.1', withScopeLabels: true, withTargetInfo: false });
    try {
      new StatsReporter({ ...NAMES, meter: server.meterProvider.getMeter('queue', '1.2.3') });
      const text = (await call(server.port, '/metrics')).body.toString();
      assert.match(text, /queue_requests_per_second\{destination_configuration="helloworld-go",.*,otel_scope_name="queue",otel_scope_version="1.2.3"\} 0\n/);
    } finally {
      await server.close();
    }
  });

  it('a custom endpoint', async () => {
    const server = await startMetricsServer({ port: 0, host: '127.0.0.1', endpoint: '/stats' });
    try {
      assert.equal(server.url, `http://127.0.0.1:${server.port}/stats`);
      assert.equal((await call(server.port, '/stats')).status, 200);
      assert.equal((await call(server.port, '/metrics')).status, 404);
    } finally {
      await server.close();
    }
  });

  it('a port in use rejects with PortInUseError naming the port', async () => {
    const first = await startMetricsServer({ port: 0, host: '127.0.0.1' });
    try {
      await assert.rejects(startMetricsServer({ port: first.port, host: '127.0.0.1' }), (e: unknown) => {
        assert.ok(e instanceof PortInUseError);
        assert.equal(e.port, first.port);
        assert.equal(e.message, `metrics server: port ${first.port} on 127.0.0.1 is already in use`);
        return true;
      });
    } finally {
      await first.close();
    }
  });

  it('rejects a bad port, endpoint or requestTimeoutMs naming the field', async () => {
    await assert.rejects(startMetricsServer({ port: 70000 }), { name: 'ConfigError', message: 'port must be an integer from 0 to 65535, got 70000' });
    await assert.rejects(startMetricsServer({ port: 0, endpoint: 'metrics' }), { name: 'ConfigError', message: 'endpoint must be a path starting with "/", got metrics' });
    await assert.rejects(startMetricsServer({ port: 0, requestTimeoutMs: 0 }), { name: 'ConfigError', message: 'requestTimeoutMs must be a positive integer, got 0' });
  });

  it('answers 408 and disconnects a client that does not finish its request within requestTimeoutMs; scrapes go on', async () => {
    const timeoutMs = 300;
    const server = await startMetricsServer({ port: 0, host: '127.0.0.1', requestTimeoutMs: timeoutMs });
    try {
      const started = monotonicNow();
      const client = await RawClient.connect(server.port);
      // Half a request head, then nothing: a slowloris.
      client.write('GET /metrics HTTP/1.1\r\nHost: x\r\n');
      const received = await client.whenClosed();
      const elapsedMs = monotonicNow() - started;
      // Node checks every min(1000, requestTimeoutMs) ms: the cut comes within two periods.
      assert.ok(elapsedMs >= timeoutMs - 10 && elapsedMs < 2 * timeoutMs + 500, `closed after ${elapsedMs} ms`);
      assert.equal(received, 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n');
      assert.equal((await call(server.port, '/metrics')).status, 200);
    } finally {
      await server.close();
    }
  });

  it('close stops the server and is idempotent', async () => {
    const server = await startMetricsServer({ port: 0, host: '127.0.0.1' });
    await Promise.all([server.close(), server.close()]);
    await assert.rejects(call(server.port, '/metrics'), { code: 'ECONNREFUSED' });
  });

  it('a throwing observable callback does not take the endpoint down', async () => {
    const server = await startMetricsServer({ port: 0, host: '127.0.0.1', withTargetInfo: false });
    try {
      const reporter = new StatsReporter({ ...NAMES, meter: server.meterProvider.getMeter('queue') });
      reporter.report({ averageConcurrency: 3, averageProxiedConcurrency: 1, requestCount: 10, proxiedRequestCount: 4 });
      server.meterProvider
        .getMeter('other')
        .createObservableGauge('broken')
        .addCallback(() => {
          throw new Error('boom');
        });
      const answer = await call(server.port, '/metrics');
      assert.equal(answer.status, 200);
      assert.ok(answer.body.toString().endsWith(GO_EXPOSITION));
      assert.doesNotMatch(answer.body.toString(), /boom|Error/);
    } finally {
      await server.close();
    }
  });
});
