import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startRequestTelemetry, type RequestTelemetry } from '../src/queue-stats/request-telemetry.js';
import { boundPorts, startCli, type CliProcess } from './helpers/cli.js';
import { HELLOWORLD } from './helpers/fixtures.js';
import { get, serve } from './helpers/http.js';
import { prometheusMissing, PrometheusServer } from './helpers/prometheus.js';

const missing = prometheusMissing();
if (missing) console.log(`# skipping the Prometheus integration test: ${missing}`);

/** The parts of an OTLP/JSON export request the test reads. */
interface OtlpJson {
  resourceMetrics: Array<{
    resource: { attributes: Array<{ key: string; value: { stringValue?: string } }> };
    scopeMetrics: Array<{
      metrics: Array<{ name: string; unit?: string; histogram?: { dataPoints: Array<{ count: string | number; attributes: Array<{ key: string; value: { intValue?: string | number } }> }> } }>;
    }>;
  }>;
}

/** GETs `url` with `headers`; resolves with the status and body text. */
async function text(url: string, headers: Record<string, string> = {}): Promise<{ status: number; type: string | null; body: string }> {
  const response = await fetch(url, { headers });
  return { status: response.status, type: response.headers.get('content-type'), body: await response.text() };
}

describe('startRequestTelemetry', () => {
  let telemetry: RequestTelemetry;
  let waiting = 4;
  before(async () => {
    telemetry = await startRequestTelemetry({
      identity: HELLOWORLD,
      service: 'helloworld',
      env: {},
      port: 0,
      host: '127.0.0.1',
      breaker: () => ({ inFlight: 1, queueDepth: waiting, queuedRequests: 3, queuedMs: 120 }),
    });
  });
  after(() => telemetry.close());

  it("serves the histogram in Knative's buckets and the queue depth as Prometheus text, for any Accept", async () => {
    telemetry.metrics.requestEnded(200, 0.02);
    telemetry.metrics.requestEnded(200, 3);
    waiting = 5;
    for (const accept of ['text/plain', 'application/protobuf']) {
      const { status, type, body } = await text(telemetry.metricsServer!.url, { accept });
      assert.equal(status, 200);
      assert.equal(type, 'text/plain; version=0.0.4; charset=utf-8');
      assert.match(body, /^# HELP kn_serving_invocation_duration The duration of task execution\n# UNIT kn_serving_invocation_duration s\n# TYPE kn_serving_invocation_duration histogram\n/m);
      assert.match(body, /^kn_serving_invocation_duration_count\{http_response_status_code="200"\} 2$/m);
      assert.match(body, /^kn_serving_invocation_duration_bucket\{http_response_status_code="200",le="0.025"\} 1$/m);
      assert.match(body, /^kn_serving_invocation_duration_bucket\{http_response_status_code="200",le="2.5"\} 1$/m);
      assert.match(body, /^kn_serving_invocation_duration_bucket\{http_response_status_code="200",le="5"\} 2$/m);
      assert.match(body, /^kn_serving_invocation_duration_bucket\{http_response_status_code="200",le="\+Inf"\} 2$/m);
      assert.match(body, /^kn_serving_queue_depth 6$/m);
      assert.match(body, /^queue_wait_requests_total 3$/m);
      assert.match(body, /^queue_wait_time_total 0.12$/m);
      assert.doesNotMatch(body, /queue_requests_per_second/);
    }
  });

  it("carries Knative's Resource attributes in target_info", async () => {
    const { body } = await text(telemetry.metricsServer!.url);
    const info = /^target_info\{(.*)\} 1$/m.exec(body)?.[1] ?? '';
    for (const label of [
      'service_name="helloworld"',
      'service_instance_id="helloworld-go-00001-deployment-abc"',
      'service_version="0.1.0"',
      'k8s_container_name="queue-proxy"',
      'k8s_namespace_name="default"',
      'k8s_pod_name="helloworld-go-00001-deployment-abc"',
      'kn_service_name="helloworld"',
      'kn_configuration_name="helloworld-go"',
      'kn_revision_name="helloworld-go-00001"',
    ]) {
      assert.ok(info.includes(label), `${label} in ${info}`);
    }
  });

  it('pushes over OTLP when configured, with its own Resource', async () => {
    const bodies: string[] = [];
    const collector = await serve((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        bodies.push(body);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    try {
      const env = { OTEL_METRICS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json' };
      const pushed = await startRequestTelemetry({ identity: HELLOWORLD, service: 'helloworld', env, otlpEndpoint: `http://127.0.0.1:${collector.port}/v1/metrics` });
      assert.equal(pushed.metricsServer, undefined);
      pushed.metrics.requestEnded(504, 0.5);
      await pushed.close();
      const request = JSON.parse(bodies.at(-1)!) as OtlpJson;
      const [resourceMetrics] = request.resourceMetrics;
      const attributes = new Map(resourceMetrics!.resource.attributes.map(({ key, value }) => [key, value.stringValue]));
      assert.equal(attributes.get('kn.service.name'), 'helloworld');
      assert.equal(attributes.get('k8s.container.name'), 'queue-proxy');
      const metric = resourceMetrics!.scopeMetrics.flatMap((scope) => scope.metrics).find((m) => m.name === 'kn.serving.invocation.duration');
      assert.equal(metric?.unit, 's');
      const [point] = metric.histogram!.dataPoints;
      assert.equal(Number(point!.count), 1);
      assert.deepEqual(
        point!.attributes.map(({ key, value }) => [key, Number(value.intValue)]),
        [['http.response.status_code', 504]],
      );
    } finally {
      await collector.close();
    }
  });

  it('has no endpoint when OTEL_METRICS_EXPORTER leaves prometheus out', async () => {
    const off = await startRequestTelemetry({ identity: HELLOWORLD, env: { OTEL_METRICS_EXPORTER: 'none' }, port: 0, host: '127.0.0.1' });
    assert.equal(off.metricsServer, undefined);
    off.metrics.requestEnded(200, 0.1);
    await off.close();
  });
});

describe('a real Prometheus scraping the sidecar request metrics port', { skip: missing }, () => {
  let app: Awaited<ReturnType<typeof serve>>;
  let cli: CliProcess;
  let prometheus: PrometheusServer;
  let metricsPort: number;
  let requestMetricsPort: number;
  before(async () => {
    app = await serve((req, res) => {
      if (req.url === '/slow') setTimeout(() => res.end('slow'), 200);
      else res.writeHead(req.url === '/unavailable' ? 503 : 200).end('ok');
    });
    cli = await startCli([
      ...['--upstream', `http://127.0.0.1:${app.port}`, '--host', '127.0.0.1'],
      ...['--namespace', HELLOWORLD.namespace, '--config', HELLOWORLD.config, '--revision', HELLOWORLD.revision, '--pod', HELLOWORLD.pod, '--service', 'helloworld'],
      ...['--container-concurrency', '1'],
    ]);
    let proxyPort: number;
    ({ proxy: proxyPort, metrics: metricsPort, requestMetrics: requestMetricsPort } = boundPorts(cli));
    assert.match(cli.output(), new RegExp(`request metrics http://127.0.0.1:${requestMetricsPort}/metrics`), cli.output());
    for (let i = 0; i < 3; i++) assert.equal((await get(proxyPort, '/')).status, 200);
    for (let i = 0; i < 2; i++) assert.equal((await get(proxyPort, '/unavailable')).status, 503);
    // One slot: the second waits about 200 ms for the first.
    assert.deepEqual(
      (await Promise.all([get(proxyPort, '/slow'), get(proxyPort, '/slow')])).map((a) => a.status),
      [200, 200],
    );
    assert.equal((await get(proxyPort, '/', { 'user-agent': 'kube-probe/1.31' })).status, 200);
    assert.equal((await get(proxyPort, '/', { 'k-kubelet-probe': 'queue' })).status, 200);
    assert.equal((await get(proxyPort, '/', { 'k-network-probe': 'queue' })).status, 200);
    prometheus = await PrometheusServer.start([`127.0.0.1:${requestMetricsPort}`]);
    await prometheus.waitForTargetsUp(1);
    await prometheus.waitFor(async () => (await prometheus.query('kn_serving_invocation_duration_count')).length === 2, 'the first samples');
  });
  after(async () => {
    await prometheus?.stop();
    cli?.kill();
    await app?.close();
  });

  it('stores one histogram series per status code with the request counts; probes are not counted', async () => {
    const counts = await prometheus.query('kn_serving_invocation_duration_count');
    assert.deepEqual(counts.map(({ metric, value }) => [metric['http_response_status_code'], value[1]]).sort(), [
      ['200', '5'],
      ['503', '2'],
    ]);
    const [all] = await prometheus.query('sum(kn_serving_invocation_duration_bucket{le="+Inf"})');
    assert.equal(all!.value[1], '7');
    const buckets = await prometheus.query('kn_serving_invocation_duration_bucket{http_response_status_code="200"}');
    const bound = (le: string | undefined): number => (le === '+Inf' ? Infinity : Number(le));
    assert.deepEqual(
      buckets.map(({ metric }) => metric['le']).sort((a, b) => bound(a) - bound(b)),
      ['0.005', '0.01', '0.025', '0.05', '0.075', '0.1', '0.25', '0.5', '0.75', '1', '2.5', '5', '7.5', '10', '+Inf'],
    );
    const [p99] = await prometheus.query('histogram_quantile(0.99, sum by (le) (kn_serving_invocation_duration_bucket))');
    assert.ok(Number(p99!.value[1]) > 0 && Number(p99!.value[1]) <= 10, `p99 ${p99!.value[1]}`);
  });

  it('stores the queue depth and the time spent waiting for the slot', async () => {
    const [depth] = await prometheus.query('kn_serving_queue_depth');
    assert.equal(depth!.value[1], '0');
    const [waited] = await prometheus.query('queue_wait_requests_total');
    assert.equal(waited!.value[1], '1');
    const [seconds] = await prometheus.query('queue_wait_time_total');
    assert.ok(Number(seconds!.value[1]) >= 0.15 && Number(seconds!.value[1]) < 2, `waited ${seconds!.value[1]} s`);
  });

  it("stores the Resource as target_info with Knative's attributes", async () => {
    const [info] = await prometheus.query('target_info');
    const { metric } = info!;
    assert.equal(metric['k8s_container_name'], 'queue-proxy');
    assert.equal(metric['kn_service_name'], 'helloworld');
    assert.equal(metric['kn_revision_name'], HELLOWORLD.revision);
    assert.equal(metric['service_name'], 'helloworld');
  });

  it('leaves the autoscaler endpoint on :9090 without them', async () => {
    const { status, body } = await text(`http://127.0.0.1:${metricsPort}/metrics`);
    assert.equal(status, 200);
    assert.match(body, /^queue_requests_per_second\{/m);
    assert.doesNotMatch(body, /kn_serving/);
  });
});
