import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { runCli, startCli, type CliProcess } from './helpers/cli.js';
import { freePort, get, serve, until } from './helpers/http.js';

const NAMES = ['--namespace', 'ns', '--config', 'cfg', '--revision', 'cfg-00001', '--pod', 'cfg-00001-pod', '--service', 'svc'];
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

/** The request log lines printed so far: the lines that are JSON objects with an `httpRequest`, or start with `custom`. */
function logLines(cli: CliProcess): string[] {
  return cli
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{"httpRequest"') || line.startsWith('custom '));
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

  it('writes Knative’s default httpRequest line, after the response, for a curl request (responseSize 0: not counted yet)', async () => {
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
      `{"httpRequest": {"requestMethod": "POST", "requestUrl": "/path?x\\u003D%3Cy%3E\\u0026z\\u003D\\'1\\'", "requestSize": "3", "status": 201, "responseSize": "0", "userAgent": "test-agent \\"q\\" \\u003Cx\\u003E", "remoteIp": "127.0.0.1:${port}", "serverIp": "10.1.2.3", "referer": "http://ref/?a\\u003D1\\u0026b\\u003D2", "latency": "${latency}s", "protocol": "HTTP/1.1"}, "traceId": "${TRACE}"}`,
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

  it('refuses a value that is not a Go boolean, and probe request logging (not supported yet)', async () => {
    const bad = await runCli(['--upstream', 'http://127.0.0.1:1', ...NAMES], { SERVING_ENABLE_REQUEST_LOG: 'yes' });
    assert.equal(bad.code, 2);
    assert.equal(bad.output, 'queue-stats: SERVING_ENABLE_REQUEST_LOG (--request-log) must be true or false, got "yes"\n');
    const probes = await runCli(['--upstream', 'http://127.0.0.1:1', ...NAMES], { SERVING_ENABLE_PROBE_REQUEST_LOG: 'true' });
    assert.equal(probes.code, 2);
    assert.equal(probes.output, 'queue-stats: SERVING_ENABLE_PROBE_REQUEST_LOG (--probe-request-log): logging probe requests is not supported yet\n');
  });
});
