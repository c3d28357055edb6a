import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { connect } from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { RequestLog } from '../src/log/request-log.js';
import { runCli, startCli, type CliProcess } from './helpers/cli.js';
import { grpcClient, startGrpcApp, unary, type Note } from './helpers/grpc.js';
import { freePort, get, serve, until } from './helpers/http.js';
import { openUpgrade, readUntil, REFUSAL, serveUpgrades } from './helpers/upgrade.js';

const NAMES = ['--namespace', 'ns', '--config', 'cfg', '--revision', 'cfg-00001', '--pod', 'cfg-00001-pod', '--service', 'svc'];
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

/** The request log lines printed so far: the lines that are JSON objects with an `httpRequest`, or start with `custom`. */
function logLines(cli: CliProcess): string[] {
  return cli
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{"httpRequest"') || line.startsWith('custom '));
}

/** A template that shows what the tests of HTTP/2, probes and sizes look at. */
const SHORT = 'custom {{.Request.Method}} {{.Request.RequestURI}} {{.Request.Proto}} {{.Request.ContentLength}} {{.Response.Code}} {{.Response.Size}}';

/** Starts the CLI in front of `upstream` with the request log on (`SHORT` unless `env` says otherwise) and `env`. */
function startLogged(upstream: string, env: Record<string, string> = {}, args: string[] = []): Promise<CliProcess> {
  return startCli(['--upstream', upstream, '--host', '127.0.0.1', ...NAMES, ...args], { SERVING_ENABLE_REQUEST_LOG: 'true', SERVING_REQUEST_LOG_TEMPLATE: SHORT, ...env });
}

describe('request log (SERVING_ENABLE_REQUEST_LOG) through the real CLI', () => {
  let app: Awaited<ReturnType<typeof serve>>;
  let cli: CliProcess;
  let proxyPort: number;

  before(async () => {
    app = await serve((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(201, { 'content-length': '5' }).end('hello'));
    });
    proxyPort = await freePort();
    const metricsPort = await freePort();
    const args = ['--upstream', `http://127.0.0.1:${app.port}`, '--port', String(proxyPort), '--metrics-port', String(metricsPort), '--host', '127.0.0.1', ...NAMES];
    cli = await startCli(args, { SERVING_ENABLE_REQUEST_LOG: 'true', SERVING_POD_IP: '10.1.2.3' });
  });
  after(async () => {
    cli.kill();
    await app.close();
  });

  it('writes Knative’s default httpRequest line, after the response, for a curl request, responseSize the body’s bytes', async () => {
    const { stdout } = await promisify(execFile)('curl', [
      '-sS',
      '--data-binary',
      'abc',
      '-H',
      'User-Agent: test-agent "q" <x>',
      '-H',
      'Referer: http://ref/?a=1&b=2',
      '-H',
      `traceparent: 00-${TRACE}-00f067aa0ba902b7-01`,
      `http://127.0.0.1:${proxyPort}/path?x=%3Cy%3E&z='1'`,
    ]);
    assert.equal(stdout, 'hello');
    await until(() => logLines(cli).length === 1, 'one request log line');
    const line = logLines(cli)[0]!;
    const latency = /"latency": "([^"]+)s"/.exec(line)?.[1];
    assert.match(latency ?? '', /^\d+\.\d+(e-0\d)?$/);
    const port = /"remoteIp": "127\.0\.0\.1:(\d+)"/.exec(line)?.[1];
    assert.ok(port !== undefined, line);
    assert.equal(
      line,
      `{"httpRequest": {"requestMethod": "POST", "requestUrl": "/path?x\\u003D%3Cy%3E\\u0026z\\u003D\\'1\\'", "requestSize": "3", "status": 201, "responseSize": "5", "userAgent": "test-agent \\"q\\" \\u003Cx\\u003E", "remoteIp": "127.0.0.1:${port}", "serverIp": "10.1.2.3", "referer": "http://ref/?a\\u003D1\\u0026b\\u003D2", "latency": "${latency}s", "protocol": "HTTP/1.1"}, "traceId": "${TRACE}"}`,
    );
  });

  it('leaves network probes out', async () => {
    const before = logLines(cli).length;
    assert.equal((await get(proxyPort, '/', { 'K-Network-Probe': 'queue' })).status, 200);
    assert.equal((await get(proxyPort, '/after-probe')).status, 201);
    await until(() => logLines(cli).length === before + 1, 'the line of the request after the probe');
    assert.match(logLines(cli).at(-1)!, /"requestUrl": "\/after-probe"/);
  });
});

describe('request log template from the flag and its checks', () => {
  it('renders a custom template with revision fields and a header', async () => {
    const app = await serve((_req, res) => res.end('ok'));
    const proxyPort = await freePort();
    const metricsPort = await freePort();
    const template =
      'custom {{.Request.Method}} {{.Request.Host}} {{.Request.Header.Get "X-Id"}} {{.Revision.Name}} {{.Revision.Namespace}} {{.Revision.Service}} {{.Revision.Configuration}} {{.Revision.PodName}} {{.Response.Code}} {{.Request.ContentLength}} {{.TraceID}}|';
    const args = ['--upstream', `http://127.0.0.1:${app.port}`, '--port', String(proxyPort), '--metrics-port', String(metricsPort), '--host', '127.0.0.1', ...NAMES];
    const cli = await startCli([...args, '--request-log', 'true', '--request-log-template', template], { SERVING_POD_IP: '10.1.2.3' });
    try {
      assert.equal((await get(proxyPort, '/c', { 'X-Id': 'abc', 'X-B3-TraceId': 'b3trace' })).status, 200);
      await until(() => logLines(cli).length === 1, 'one custom line');
      assert.equal(logLines(cli)[0], `custom GET 127.0.0.1:${proxyPort} abc cfg-00001 ns svc cfg cfg-00001-pod 200 0 b3trace|`);
    } finally {
      cli.kill();
      await app.close();
    }
  });

  it('refuses an unsupported construct at start-up: one line naming the variable and the construct, exit 2', async () => {
    const { code, output } = await runCli(['--upstream', 'http://127.0.0.1:1', ...NAMES], {
      SERVING_ENABLE_REQUEST_LOG: 'true',
      SERVING_REQUEST_LOG_TEMPLATE: '{{.Request.Method}} {{printf "%q" .Request.URL}}',
    });
    assert.equal(code, 2);
    assert.equal(output, 'queue-stats: SERVING_REQUEST_LOG_TEMPLATE (--request-log-template): unsupported template action: {{printf "%q" .Request.URL}}\n');
  });

  it('refuses a value that is not a Go boolean', async () => {
    const bad = await runCli(['--upstream', 'http://127.0.0.1:1', ...NAMES], { SERVING_ENABLE_PROBE_REQUEST_LOG: 'yes' });
    assert.equal(bad.code, 2);
    assert.equal(bad.output, 'queue-stats: SERVING_ENABLE_PROBE_REQUEST_LOG (--probe-request-log) must be true or false, got "yes"\n');
  });
});

describe('request log: response sizes, HTTP/2 and gRPC, probes', () => {
  it('.Response.Size counts a chunked body and the sidecar’s own answers (a 502 when the app is gone)', async () => {
    const app = await serve((_req, res) => {
      res.write('abc');
      setTimeout(() => res.end('defgh'), 5);
    });
    const cli = await startLogged(`http://127.0.0.1:${app.port}`);
    const gone = await startLogged('http://127.0.0.1:1');
    try {
      assert.equal((await get(cli.ports!.proxy, '/chunked')).body, 'abcdefgh');
      await until(() => logLines(cli).length === 1, 'the chunked line');
      assert.equal(logLines(cli)[0], 'custom GET /chunked HTTP/1.1 0 200 8');
      const failed = await get(gone.ports!.proxy, '/gone');
      assert.equal(failed.status, 502);
      await until(() => logLines(gone).length === 1, 'the 502 line');
      assert.equal(logLines(gone)[0], `custom GET /gone HTTP/1.1 0 502 ${Buffer.byteLength(failed.body)}`);
    } finally {
      cli.kill();
      gone.kill();
      await app.close();
    }
  });

  it('logs upgrades as Knative does: a tunnel once it closes, as 200 with no bytes; a refusal with its status and body bytes', async () => {
    const app = await serveUpgrades();
    const cli = await startLogged(`http://127.0.0.1:${app.port}`);
    try {
      const tunnel = await openUpgrade(cli.ports!.proxy, '/chat');
      const echoed = readUntil(tunnel.client, 'ping');
      tunnel.client.write('ping');
      await echoed;
      assert.deepEqual(logLines(cli), []);
      tunnel.client.destroy();
      await until(() => logLines(cli).length === 1, 'the tunnel line');
      await openUpgrade(cli.ports!.proxy, '/refuse');
      await until(() => logLines(cli).length === 2, 'the refusal line');
      assert.deepEqual(logLines(cli), ['custom GET /chat HTTP/1.1 0 200 0', `custom GET /refuse HTTP/1.1 0 400 ${REFUSAL.length}`]);
    } finally {
      cli.kill();
      await app.close();
    }
  });

  it('logs HTTP/2 requests from Node’s http2 client (forwarded over HTTP/1.1 with --upstream-protocol http1)', async () => {
    const app = await serve((req, res) => {
      req.resume();
      req.on('end', () => res.end('hello h2'));
    });
    const cli = await startLogged(`http://127.0.0.1:${app.port}`, {}, ['--upstream-protocol', 'http1']);
    const session = connect(`http://127.0.0.1:${cli.ports!.proxy}`);
    try {
      const send = (method: string, path: string, body?: string): Promise<string> =>
        new Promise((resolve, reject) => {
          const stream = session.request({ ':method': method, ':path': path }, { endStream: body === undefined });
          let text = '';
          stream.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
          stream.on('end', () => resolve(text)).on('error', reject);
          if (body !== undefined) stream.end(body);
        });
      assert.equal(await send('GET', '/h2?a=1'), 'hello h2');
      assert.equal(await send('POST', '/h2-body', 'xyz'), 'hello h2');
      await until(() => logLines(cli).length === 2, 'two HTTP/2 lines');
      assert.deepEqual(logLines(cli).sort(), ['custom GET /h2?a=1 HTTP/2.0 0 200 8', 'custom POST /h2-body HTTP/2.0 -1 200 8']);
    } finally {
      session.close();
      cli.kill();
      await app.close();
    }
  });

  it('logs gRPC calls (h2c streams to a @grpc/grpc-js app)', async () => {
    const app = await startGrpcApp({ Unary: (call: { request: Note }, done: (error: null, note: Note) => void) => done(null, { text: call.request.text }) });
    const cli = await startLogged(`http://127.0.0.1:${app.port}`);
    const client = grpcClient(cli.ports!.proxy);
    try {
      assert.deepEqual(await unary(client, { text: 'hi' }), { text: 'hi' });
      await until(() => logLines(cli).length === 1, 'the gRPC line');
      // The response body: one gRPC message, a 5-byte prefix and the 13 bytes of {"text":"hi"}.
      assert.equal(logLines(cli)[0], 'custom POST /test.Notes/Unary HTTP/2.0 -1 200 18');
    } finally {
      client.close();
      cli.kill();
      app.close();
    }
  });

  it('logs probes only with SERVING_ENABLE_PROBE_REQUEST_LOG: a network probe the sidecar answers and a kubelet probe the app does', async () => {
    const app = await serve((_req, res) => res.end('ok'));
    const cli = await startLogged(`http://127.0.0.1:${app.port}`, { SERVING_ENABLE_PROBE_REQUEST_LOG: 'true' });
    try {
      const probe = await get(cli.ports!.proxy, '/network', { 'K-Network-Probe': 'queue' });
      assert.equal(probe.status, 200);
      assert.equal((await get(cli.ports!.proxy, '/kubelet', { 'User-Agent': 'kube-probe/1.30' })).body, 'ok');
      await until(() => logLines(cli).length === 2, 'two probe lines');
      assert.deepEqual(logLines(cli).sort(), [`custom GET /kubelet HTTP/1.1 0 200 2`, `custom GET /network HTTP/1.1 0 200 ${Buffer.byteLength(probe.body)}`]);
    } finally {
      cli.kill();
      await app.close();
    }
  });
});

describe('request log settings from OBSERVABILITY_CONFIG (current Knative)', () => {
  const observability = JSON.stringify({ tracing: { protocol: 'none' }, enableRequestLog: true, requestLogTemplate: 'custom obs {{.Request.RequestURI}}', enableProbeRequestLog: true });

  it('turns the log on with its template and probe setting; SERVING_REQUEST_LOG_TEMPLATE, when set, wins', async () => {
    const app = await serve((_req, res) => res.end('ok'));
    const fromJson = await startCli(['--upstream', `http://127.0.0.1:${app.port}`, '--host', '127.0.0.1', ...NAMES], { OBSERVABILITY_CONFIG: observability });
    const overridden = await startCli(['--upstream', `http://127.0.0.1:${app.port}`, '--host', '127.0.0.1', ...NAMES], {
      OBSERVABILITY_CONFIG: observability,
      SERVING_REQUEST_LOG_TEMPLATE: 'custom env {{.Request.RequestURI}}',
      SERVING_ENABLE_PROBE_REQUEST_LOG: 'false',
    });
    try {
      for (const cli of [fromJson, overridden]) {
        assert.equal((await get(cli.ports!.proxy, '/probed', { 'K-Network-Probe': 'queue' })).status, 200);
        assert.equal((await get(cli.ports!.proxy, '/x')).status, 200);
      }
      await until(() => logLines(fromJson).length === 2 && logLines(overridden).length === 1, 'the lines of both');
      assert.deepEqual(logLines(fromJson), ['custom obs /probed', 'custom obs /x']);
      assert.deepEqual(logLines(overridden), ['custom env /x']);
    } finally {
      fromJson.kill();
      overridden.kill();
      await app.close();
    }
  });

  it('refuses a field of the wrong type, malformed JSON and an unsupported template, naming the variable (exit 2)', async () => {
    const cases: [string, string][] = [
      ['{"enableRequestLog":"yes"}', 'queue-stats: OBSERVABILITY_CONFIG: enableRequestLog must be a boolean\n'],
      ['{"requestLogTemplate":"{{printf \\"%q\\" .Request.URL}}"}', 'queue-stats: OBSERVABILITY_CONFIG requestLogTemplate: unsupported template action: {{printf "%q" .Request.URL}}\n'],
    ];
    for (const [value, expected] of cases) {
      const { code, output } = await runCli(['--upstream', 'http://127.0.0.1:1', ...NAMES], { OBSERVABILITY_CONFIG: value });
      assert.deepEqual({ code, output }, { code: 2, output: expected });
    }
    const malformed = await runCli(['--upstream', 'http://127.0.0.1:1', ...NAMES], { OBSERVABILITY_CONFIG: '{"enableRequestLog":' });
    assert.equal(malformed.code, 2);
    assert.equal(malformed.output, 'queue-stats: OBSERVABILITY_CONFIG: is not JSON\n');
  });
});

describe('RequestLog batches its writes', () => {
  const revision = { name: 'r', namespace: 'n', service: 's', configuration: 'c', podName: 'p', podIP: '' };
  const request = { method: 'GET', url: '/b', httpVersion: '1.1', rawHeaders: [], remoteAddress: '127.0.0.1', remotePort: 1 };

  it('writes nothing while the response closes, then the lines of many requests in one write; flush writes at once', async () => {
    const writes: string[] = [];
    const log = new RequestLog('{{.Request.RequestURI}} {{.Response.Code}} {{.Response.Size}}', revision, (lines) => writes.push(lines));
    for (const status of [200, 404, 503]) log.requestEnded(status, 0.001, request, 7);
    assert.deepEqual(writes, []);
    await until(() => writes.length > 0, 'the batch');
    assert.deepEqual(writes, ['/b 200 7\n/b 404 7\n/b 503 7\n']);
    log.requestEnded(200, 0.001, request, 0);
    log.flush();
    log.flush();
    assert.deepEqual(writes.slice(1), ['/b 200 0\n']);
  });
});

describe('RequestLog reads each field of the request as Go’s server sets it', () => {
  const revision = { name: 'r', namespace: 'n', service: 's', configuration: 'c', podName: 'p', podIP: '' };
  const template =
    '{{.Request.Method}}|{{.Request.RequestURI}}|{{.Request.ContentLength}}|{{.Request.Proto}}|{{.Request.RemoteAddr}}|{{.Request.Host}}|{{.Request.UserAgent}}|{{.Request.Referer}}|{{.Request.Header.Get "X-Id"}}|{{.TraceID}}';
  const traceparent = `00-${TRACE}-00f067aa0ba902b7-01`;

  for (const [name, request, line] of [
    [
      'HTTP/1.1 with a length, an IPv4-mapped client, headers in any case, the first of a repeated one, W3C before B3',
      {
        method: 'POST',
        url: '/p?a=1',
        httpVersion: '1.1',
        rawHeaders: ['Host', 'h.example', 'Content-Length', '3', 'User-Agent', 'ua', 'REFERER', 'r', 'x-id', '1', 'X-Id', '2', 'traceparent', traceparent, 'X-B3-TraceId', 'b3'],
        remoteAddress: '::ffff:10.0.0.7',
        remotePort: 5,
      },
      `POST|/p?a=1|3|HTTP/1.1|10.0.0.7:5|h.example|ua|r|1|${TRACE}`,
    ],
    [
      'HTTP/1.1 chunked, an upper-case IPv4-mapped client, a B3 trace id',
      { method: 'GET', url: '/', httpVersion: '1.1', rawHeaders: ['Transfer-Encoding', 'chunked', 'x-b3-traceid', 'b3'], remoteAddress: '::FFFF:1.2.3.4', remotePort: 6 },
      'GET|/|-1|HTTP/1.1|1.2.3.4:6|||||b3',
    ],
    [
      'HTTP/2 with a body to come, :authority before host, an IPv6 client',
      { method: 'PUT', url: '/h2', httpVersion: '2.0', rawHeaders: [':authority', 'a.example', 'host', 'ignored'], remoteAddress: '::1', remotePort: 7, endStream: false },
      'PUT|/h2|-1|HTTP/2.0|[::1]:7|a.example||||',
    ],
    [
      'HTTP/2 without a body, a host header only, an IPv6 client starting ::ffff: that is no IPv4 address',
      { method: 'GET', url: '/h2', httpVersion: '2.0', rawHeaders: ['host', 'h'], remoteAddress: '::ffff:abcd', remotePort: 8, endStream: true },
      'GET|/h2|0|HTTP/2.0|[::ffff:abcd]:8|h||||',
    ],
    ['nothing known', { httpVersion: '1.1', rawHeaders: [], remoteAddress: undefined, remotePort: undefined }, '||0|HTTP/1.1||||||'],
  ] as const) {
    it(name, () => {
      const writes: string[] = [];
      const log = new RequestLog(template, revision, (lines) => writes.push(lines));
      log.requestEnded(200, 0.001, request, 0);
      log.flush();
      assert.deepEqual(writes, [`${line}\n`]);
    });
  }
});
