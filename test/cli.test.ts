import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { boundPorts, runCli, startCli, type CliProcess } from './helpers/cli.js';
import { freePort, get, serve, until } from './helpers/http.js';
import { scrapeUntil, scrapeValues } from './helpers/scrape.js';
import { grpcClient, list, startGrpcApp, unary, type Note } from './helpers/grpc.js';

const NAMES = ['--namespace', 'ns', '--config', 'cfg', '--revision', 'cfg-00001', '--pod', 'cfg-00001-pod'];
const PERIOD_MS = 200;
/** One request in a window of PERIOD_MS, as a per-second rate. */
const ONE_PER_WINDOW = 1000 / PERIOD_MS;
const NETWORK_PROBE = { 'K-Network-Probe': 'queue' };

/** The flags of a sidecar in front of the app on `appPort`, all on 127.0.0.1, reporting every PERIOD_MS. */
const sidecarArgs = (appPort: number): string[] => ['--upstream', `http://127.0.0.1:${appPort}`, '--host', '127.0.0.1', '--reporting-period', `${PERIOD_MS}ms`];

describe('queue-stats CLI in front of a real app', () => {
  let cli: CliProcess;
  let metricsUrl: string;
  let proxyPort: number;
  const held: Array<() => void> = [];
  let upstreamClosed = 0;
  let app: Awaited<ReturnType<typeof serve>>;

  before(async () => {
    app = await serve((req, res) => {
      req.on('close', () => upstreamClosed++);
      if (req.url === '/hold') {
        held.push(() => res.end('released'));
        return;
      }
      if (req.url === '/slow') {
        setTimeout(() => res.end('late'), 4000).unref();
        return;
      }
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => res.writeHead(201, { 'x-app': 'yes' }).end(`${req.method} ${req.url} ${String(req.headers['x-client'] ?? '')} ${body}`));
    });
    cli = await startCli([...sidecarArgs(app.port), '--timeout', '1500ms', '--drain-quiet-period', '200ms', ...NAMES]);
    const ports = boundPorts(cli);
    proxyPort = ports.proxy;
    metricsUrl = `http://127.0.0.1:${ports.metrics}/metrics`;
    assert.match(cli.output(), new RegExp(`proxy http://127.0.0.1:${proxyPort} -> http://127.0.0.1:${app.port}, metrics ${metricsUrl}`));
  });
  after(async () => {
    cli.kill();
    held.forEach((release) => release());
    await app.close();
  });

  /** Waits for a reported window with no arrivals after every request sent so far (the first scrapes are zeros before any report). */
  async function idleWindow(): Promise<void> {
    await new Promise((r) => setTimeout(r, 2 * PERIOD_MS));
    await scrapeUntil(metricsUrl, (v) => v.get('queue_requests_per_second') === 0, 'an idle window');
  }

  it('passes method, path, query, body, status and headers through', async () => {
    const reply = await new Promise<{ status: number; app: string | undefined; body: string }>((resolve, reject) => {
      const client = request({ host: '127.0.0.1', port: proxyPort, method: 'POST', path: '/echo?q=1', headers: { 'x-client': 'c1' } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, app: res.headers['x-app'] as string | undefined, body }));
      });
      client.on('error', reject);
      client.end('payload');
    });
    assert.deepEqual(reply, { status: 201, app: 'yes', body: 'POST /echo?q=1 c1 payload' });
  });

  it('serves the gauges with the configured names', async () => {
    const text = await (await fetch(metricsUrl)).text();
    assert.match(text, /^queue_average_concurrent_requests\{destination_configuration="cfg",destination_namespace="ns",destination_pod="cfg-00001-pod",destination_revision="cfg-00001"\} /m);
    assert.match(text, /^target_info\{/m);
  });

  it('counts a proxied request in both the totals and the proxied series', async () => {
    await idleWindow();
    const pending = get(proxyPort, '/hold', { 'K-Proxy-Request': 'activator' });
    await until(() => held.length === 1, 'the request to reach the app');
    await scrapeUntil(metricsUrl, (v) => v.get('queue_requests_per_second') === ONE_PER_WINDOW && v.get('queue_proxied_operations_per_second') === ONE_PER_WINDOW, 'one proxied arrival in a window');
    await scrapeUntil(metricsUrl, (v) => v.get('queue_average_concurrent_requests') === 1 && v.get('queue_average_proxied_concurrent_requests') === 1, 'a whole window with it in flight');
    held.shift()!();
    assert.equal((await pending).body, 'released');
    await scrapeUntil(metricsUrl, (v) => v.get('queue_average_concurrent_requests') === 0 && v.get('queue_requests_per_second') === 0, 'an idle window');
  });

  it('answers network probes itself and forwards kubelet probes, counting neither', async () => {
    await idleWindow();
    const probe = await get(proxyPort, '/', { 'K-Network-Probe': 'queue' });
    assert.deepEqual(probe, { status: 200, body: 'queue' });
    const kubelet = await get(proxyPort, '/healthz', { 'User-Agent': 'kube-probe/1.29' });
    assert.deepEqual(kubelet, { status: 201, body: 'GET /healthz  ' });
    // Three whole windows of scrapes after the probes: no arrival counted.
    const deadline = Date.now() + 3 * PERIOD_MS;
    while (Date.now() < deadline) {
      assert.equal((await scrapeValues(metricsUrl)).get('queue_requests_per_second'), 0);
      await new Promise((r) => setTimeout(r, 20));
    }
  });

  it('answers 504 when the app is slower than --timeout, and counts it in and out', async () => {
    const started = Date.now();
    const reply = await get(proxyPort, '/slow');
    assert.equal(reply.status, 504);
    assert.ok(Date.now() - started < 3900, 'answered before the app did');
    await scrapeUntil(metricsUrl, (v) => v.get('queue_average_concurrent_requests') === 0, 'concurrency back to 0');
  });

  it('an aborted client brings concurrency back to 0 and aborts the upstream request', async () => {
    const closedBefore = upstreamClosed;
    const client = request({ host: '127.0.0.1', port: proxyPort, path: '/hold' });
    client.on('error', () => {});
    client.end();
    await until(() => held.length === 1, 'the request to reach the app');
    await scrapeUntil(metricsUrl, (v) => v.get('queue_average_concurrent_requests') === 1, 'a window with it in flight');
    client.destroy();
    await until(() => upstreamClosed > closedBefore, 'the upstream request to be aborted');
    held.shift();
    await scrapeUntil(metricsUrl, (v) => v.get('queue_average_concurrent_requests') === 0, 'concurrency back to 0');
  });

  it('SIGTERM lets an in-flight request finish, then exits 0', async () => {
    const pending = get(proxyPort, '/hold', { connection: 'close' });
    await until(() => held.length === 1, 'the request to reach the app');
    cli.child.kill('SIGTERM');
    await until(() => cli.output().includes('SIGTERM, draining'), 'the drain message');
    // Probes (which do not restart the 200 ms quiet period) answer 503 until the proxy stops listening.
    let refused = false;
    while (!refused) {
      refused = await get(proxyPort, '/', { ...NETWORK_PROBE, connection: 'close' }).then(
        (reply) => (assert.equal(reply.status, 503), false),
        (error: NodeJS.ErrnoException) => error.code === 'ECONNREFUSED',
      );
    }
    held.shift()!();
    assert.deepEqual(await pending, { status: 200, body: 'released' });
    assert.equal(await cli.exited, 0);
  });
});

describe('queue-stats CLI in front of a gRPC app (h2c)', () => {
  it('serves gRPC calls on its port and counts a long stream as one request in flight for a whole window', async () => {
    let release: () => void = () => {};
    const app = await startGrpcApp({
      Unary(call: { request: Note }, callback: (error: null, value: Note) => void) {
        callback(null, { text: `echo ${call.request.text}` });
      },
      List(call: { request: Note; write: (note: Note) => void; end: () => void }) {
        call.write({ text: 'first' });
        release = () => call.end();
      },
    });
    const cli = await startCli([...sidecarArgs(app.port), ...NAMES]);
    const { proxy: proxyPort, metrics: metricsPort } = boundPorts(cli);
    const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    const client = grpcClient(proxyPort);
    try {
      assert.deepEqual(await unary(client, { text: 'cli' }), { text: 'echo cli' });
      const call = list(client, { text: 'long' });
      await new Promise((resolve) => call.once('data', resolve));
      await scrapeUntil(metricsUrl, (v) => v.get('queue_average_concurrent_requests') === 1 && v.get('queue_requests_per_second') === 0, 'a whole window with the stream in flight');
      const ended = new Promise((resolve) => call.on('status', resolve));
      release();
      await ended;
      await scrapeUntil(metricsUrl, (v) => v.get('queue_average_concurrent_requests') === 0, 'an idle window');
    } finally {
      client.close();
      cli.kill();
      app.close();
    }
  });
});

describe('queue-stats CLI failures', () => {
  it('502 when the app is unreachable', async () => {
    const deadPort = await freePort();
    const cli = await startCli(['--upstream', `http://127.0.0.1:${deadPort}`, '--host', '127.0.0.1', ...NAMES]);
    const proxyPort = boundPorts(cli).proxy;
    try {
      const reply = await get(proxyPort, '/');
      assert.equal(reply.status, 502);
      assert.ok(reply.body.length < 100 && !reply.body.includes(' at '), reply.body);
      const probe = await get(proxyPort, '/', { 'K-Network-Probe': 'queue' });
      assert.equal(probe.status, 503);
    } finally {
      cli.kill();
    }
  });

  it('an invalid flag prints one line naming it and exits 2', async () => {
    for (const [args, message] of [
      [['--port', 'abc'], 'queue-stats: --port must be a port from 0 to 65535, got "abc"\n'],
      [['--upstream', 'nope'], 'queue-stats: --upstream must be an http:// URL, got "nope"\n'],
      [['--bogus'], "queue-stats: Unknown option '--bogus'\n"],
    ] as const) {
      assert.deepEqual(await runCli([...args]), { code: 2, output: message });
    }
  });

  it('a value the proxy cannot honour is refused before start-up: one line naming the flag or variable, exit 2', async () => {
    for (const [args, env, message] of [
      [['--upstream', 'http://u:p@127.0.0.1:8080/app?x=1'], {}, 'queue-stats: --upstream must not contain credentials (user:password@): the proxy does not send them\n'],
      [['--upstream', 'http://127.0.0.1:8080/app'], {}, 'queue-stats: --upstream must have no path, query or fragment (each request keeps its own), got "http://127.0.0.1:8080/app"\n'],
      [['--timeout', '1.0005'], {}, 'queue-stats: --timeout must be a positive integer, got "1.0005" (1000.5 ms)\n'],
      [[], { REVISION_TIMEOUT_SECONDS: '0.0001' }, 'queue-stats: REVISION_TIMEOUT_SECONDS (--timeout) must be a positive integer, got "0.0001" (0.1 ms)\n'],
      [['--timeout', '3000000'], {}, `queue-stats: --timeout must be at most 2147483647 ms (the longest delay Node's timers take), got "3000000" (3000000000 ms)\n`],
      [
        [],
        { REVISION_TIMEOUT_SECONDS: '3000000' },
        `queue-stats: REVISION_TIMEOUT_SECONDS (--timeout) must be at most 2147483647 ms (the longest delay Node's timers take), got "3000000" (3000000000 ms)\n`,
      ],
      [['--drain-timeout', '30d'], {}, 'queue-stats: --drain-timeout must be a positive duration such as 1s or 500ms, got "30d"\n'],
      [['--drain-timeout', '2592000'], {}, `queue-stats: --drain-timeout must be at most 2147483647 ms (the longest delay Node's timers take), got "2592000" (2592000000 ms)\n`],
    ] as const) {
      assert.deepEqual(await runCli([...args], { ...env }), { code: 2, output: message });
    }
  });

  it('an invalid environment value prints one line naming it and exits 2', async () => {
    assert.deepEqual(await runCli([], { USER_PORT: '99999' }), { code: 2, output: 'queue-stats: USER_PORT (--upstream) must be a port from 1 to 65535, got "99999"\n' });
    const otel = await runCli([], { OTEL_METRICS_EXPORTER: 'bogus' });
    assert.equal(otel.code, 2);
    assert.match(otel.output, /^queue-stats: OTEL_METRICS_EXPORTER [^\n]*\n$/);
  });

  it('an unknown TLS cipher suite or curve prints one line naming the variable or flag and exits 2', async () => {
    assert.deepEqual(await runCli([], { QUEUE_PROXY_TLS_CIPHER_SUITES: 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, ECDHE-ECDSA-AES128-GCM-SHA256' }), {
      code: 2,
      output:
        'queue-stats: QUEUE_PROXY_TLS_CIPHER_SUITES (--tls-cipher-suites): unknown cipher suite "ECDHE-ECDSA-AES128-GCM-SHA256" (Go\'s crypto/tls names, such as TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)\n',
    });
    assert.deepEqual(await runCli(['--tls-curve-preferences', 'X25519,secp256r1'], {}), {
      code: 2,
      output: 'queue-stats: --tls-curve-preferences: unknown curve "secp256r1" (one of CurveP256, CurveP384, CurveP521, X25519, X25519MLKEM768, P-256, P-384, P-521)\n',
    });
  });

  it('a port in use logs one error line naming it and exits 1', async () => {
    const taken = await serve((_req, res) => res.end());
    /** The one line of a run that failed, as its severity and message. */
    const failure = async (args: string[]): Promise<{ code: number | null; lines: unknown[] }> => {
      const { code, output } = await runCli(args);
      const lines = output
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .map((line) => [line['severity'], line['message']]);
      return { code, lines };
    };
    try {
      assert.deepEqual(await failure(['--host', '127.0.0.1', '--metrics-port', String(taken.port)]), {
        code: 1,
        lines: [['error', `metrics server: port ${taken.port} on 127.0.0.1 is already in use`]],
      });
      assert.deepEqual(await failure(['--host', '127.0.0.1', '--port', String(taken.port)]), {
        code: 1,
        lines: [['error', `proxy: port ${taken.port} on 127.0.0.1 is already in use`]],
      });
      assert.deepEqual(await failure(['--host', '127.0.0.1', '--admin-port', String(taken.port)]), {
        code: 1,
        lines: [['error', `admin server: port ${taken.port} on 127.0.0.1 is already in use`]],
      });
    } finally {
      await taken.close();
    }
  });

  it('--help lists the options and exits 0; --version prints the version', async () => {
    const help = await runCli(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.output, /^Usage: queue-stats \[options\]/);
    assert.deepEqual(await runCli(['--version']), { code: 0, output: '0.1.0\n' });
  });
});

describe('queue-stats CLI demo default', () => {
  it('with no upstream it serves the embedded demo app and reports it', async () => {
    const cli = await startCli(['--host', '127.0.0.1', '--reporting-period', `${PERIOD_MS}ms`, '--drain-quiet-period', '100ms']);
    const { proxy: proxyPort, metrics: metricsPort } = boundPorts(cli);
    try {
      assert.match(cli.output(), /serving the embedded demo app/);
      assert.match(cli.output(), new RegExp(`curl 'http://127.0.0.1:${proxyPort}/\\?sleep=500'`));
      const reply = await get(proxyPort, '/?sleep=300');
      assert.equal(reply.status, 200);
      const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
      await scrapeUntil(metricsUrl, (v) => (v.get('queue_average_concurrent_requests') ?? 0) > 0 && (v.get('queue_requests_per_second') ?? 0) >= 0, 'the demo request to show');
      const text = await (await fetch(metricsUrl)).text();
      assert.match(text, /destination_configuration="demo",destination_namespace="default",destination_pod="[^"]+",destination_revision="demo-00001"/);
    } finally {
      cli.child.kill('SIGTERM');
      assert.equal(await cli.exited, 0);
    }
  });
});

describe('queue-stats CLI: the concurrency limit and the timeouts from the environment and flags', () => {
  it('CONTAINER_CONCURRENCY=1 with --queue-depth 1: of three at once, one gets 503; REVISION_RESPONSE_START_TIMEOUT_SECONDS gives 504', async () => {
    const cli = await startCli(['--host', '127.0.0.1', '--queue-depth', '1'], {
      CONTAINER_CONCURRENCY: '1',
      REVISION_RESPONSE_START_TIMEOUT_SECONDS: '1',
    });
    const proxyPort = boundPorts(cli).proxy;
    try {
      const statuses = await Promise.all([1, 2, 3].map(() => get(proxyPort, '/?sleep=300').then((reply) => reply.status)));
      assert.deepEqual(statuses.sort(), [200, 200, 503]);
      const started = Date.now();
      assert.equal((await get(proxyPort, '/?sleep=3000')).status, 504);
      assert.ok(Date.now() - started < 2500, 'answered at the response-start timeout, before the app');
    } finally {
      cli.kill();
      await cli.exited;
    }
  });
});

describe('queue-stats CLI drain on SIGTERM, as Knative sequences it', () => {
  it('blocks a preStop caller on /wait-for-drain until the quiet period passes without requests; probes fail meanwhile, traffic flows', async () => {
    const QUIET_MS = 800;
    let forwarded = 0;
    const app = await serve((req, res) => {
      if (req.url === '/healthz') res.end('healthy');
      else res.end(`app ${++forwarded}`);
    });
    const cli = await startCli(['--upstream', `http://127.0.0.1:${app.port}`, '--host', '127.0.0.1', ...NAMES], {
      QUEUE_STATS_DRAIN_QUIET_PERIOD: `${QUIET_MS}ms`,
      SERVING_READINESS_PROBE: '{"httpGet":{"path":"/healthz"},"successThreshold":1}',
    });
    const { proxy: proxyPort, admin: adminPort } = boundPorts(cli);
    try {
      assert.deepEqual(await get(proxyPort, '/', NETWORK_PROBE), { status: 200, body: 'queue' });
      let preStopAnsweredAt = 0;
      const preStop = get(adminPort, '/wait-for-drain').then((reply) => ((preStopAnsweredAt = performance.now()), reply));
      cli.child.kill('SIGTERM');
      await until(() => cli.output().includes('SIGTERM, draining'), 'the drain message');
      assert.deepEqual(await get(proxyPort, '/', NETWORK_PROBE), { status: 503, body: 'shutting down\n' });
      assert.deepEqual(await get(proxyPort, '/healthz', { 'User-Agent': 'kube-probe/1.30' }), { status: 503, body: 'shutting down\n' });
      await new Promise((r) => setTimeout(r, QUIET_MS / 2));
      const lastRequestAt = performance.now();
      assert.deepEqual(await get(proxyPort, '/'), { status: 200, body: 'app 1' });
      assert.deepEqual(await preStop, { status: 200, body: '' });
      const quiet = preStopAnsweredAt - lastRequestAt;
      assert.ok(quiet >= QUIET_MS - 10 && quiet < QUIET_MS + 1500, `preStop answered ${quiet.toFixed(0)} ms after the last request`);
      assert.equal(await cli.exited, 0, cli.output());
      await assert.rejects(get(adminPort, '/wait-for-drain'), { code: 'ECONNREFUSED' });
      assert.equal(forwarded, 1);
    } finally {
      cli.kill();
      await app.close();
    }
  });
});
