import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { boundPorts, runCli, startCli } from './helpers/cli.js';
import { get } from './helpers/http.js';
import { KIND, TraceReceiver } from './helpers/otlp-trace-receiver.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';

describe('the CLI with tracing configured', () => {
  const ways: [string, (receiver: TraceReceiver) => Promise<Record<string, string>>][] = [
    ['http/protobuf', (receiver) => Promise.resolve({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf' })],
    ['http/json', (receiver) => Promise.resolve({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json' })],
    [
      "grpc, from Knative's OBSERVABILITY_CONFIG",
      async (receiver) => ({ OBSERVABILITY_CONFIG: JSON.stringify({ tracing: { protocol: 'grpc', endpoint: await receiver.startGrpc(), samplingRate: 1 } }) }),
    ],
  ];
  for (const [way, envFor] of ways) {
    it(`exports the spans still held at SIGTERM before it exits (${way})`, async () => {
      const receiver = new TraceReceiver();
      await receiver.start();
      // A batch delay far past the test: the span can only leave with the shutdown's flush.
      const cli = await startCli(['--host', '127.0.0.1', '--drain-quiet-period', '1ms'], {
        ...(await envFor(receiver)),
        OTEL_BSP_SCHEDULE_DELAY: '600000',
        OTEL_SERVICE_NAME: 'traced-demo',
      });
      try {
        const { proxy } = boundPorts(cli);
        assert.equal((await get(proxy, '/?sleep=1', { traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01` })).status, 200);
        assert.equal(receiver.spans.length, 0);
        cli.child.kill('SIGTERM');
        assert.equal(await cli.exited, 0, cli.output());
        assert.equal(receiver.spans.length, 1);
        const [span] = receiver.spans;
        assert.equal(span!.kind, KIND.SERVER);
        assert.equal(span!.traceId, TRACE_ID);
        assert.equal(span!.resource['service.name'], 'traced-demo');
        assert.equal(span!.resource['k8s.container.name'], 'queue-proxy');
      } finally {
        cli.kill();
        await receiver.close();
      }
    });
  }

  const bad: [string, Record<string, string>, string][] = [
    ['an unknown exporter', { OTEL_TRACES_EXPORTER: 'jaeger' }, "OTEL_TRACES_EXPORTER must be otlp or none, got 'jaeger'"],
    [
      'a sampler ratio that is not one',
      { OTEL_TRACES_EXPORTER: 'otlp', OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '50%' },
      "OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1, got '50%'",
    ],
    [
      'an endpoint that is not an http URL',
      { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'ftp://collector/v1/traces' },
      "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT must be an http or https URL, got 'ftp://collector/v1/traces'",
    ],
  ];
  for (const [what, env, message] of bad) {
    it(`refuses ${what} at start-up: one line naming the variable, exit 2`, async () => {
      assert.deepEqual(await runCli([], env), { code: 2, output: `queue-stats: ${message}\n` });
    });
  }
});

/**
 * What a CLI loads at start-up, as the ESM loader resolves it (helpers/log-resolved.ts, registered by a preload before
 * the CLI starts): the tsc-built CLI in dist/ (module by module) or the bundled bin (chunk by chunk). Everything the
 * CLI loads at start-up is resolved before it prints its start-up line; it is then killed.
 */
function loadedByCli(bin: string, env: Record<string, string>): Promise<string[]> {
  const hook = new URL('./helpers/log-resolved.js', import.meta.url).href;
  const preload = `data:text/javascript,import { register } from 'node:module'; register(${JSON.stringify(hook)});`;
  const args = ['--import', preload, bin, '--host', '127.0.0.1', '--port', '0', '--metrics-port', '0', '--request-metrics-port', '0', '--admin-port', '0'];
  const child = spawn(process.execPath, args, { env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let started = false;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    if (!started && / proxy http:\/\//.test(stdout)) {
      started = true;
      child.kill('SIGKILL');
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((resolve, reject) => {
    child.once('close', () => {
      clearTimeout(timer);
      if (started) resolve(stdout.split('\n'));
      else reject(new Error(`the CLI did not start: ${stderr}`));
    });
  });
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TRACE_PACKAGES = /\/node_modules\/@opentelemetry\/(sdk-trace|sdk-trace-base|exporter-trace-otlp-http|exporter-trace-otlp-proto|propagator-b3)\//;
const ON = { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:9/v1/traces' };

describe('what the CLI loads for tracing', () => {
  it('in dist/: none of the trace packages and nothing of trace/ with tracing off; them once it is on (so the check can fail)', async () => {
    const bin = `${ROOT}dist/cli/bin.js`;
    const off = await loadedByCli(bin, {});
    assert.ok(off.includes(`file://${ROOT}dist/cli/cli.js`), off.join('\n'));
    assert.deepEqual(
      off.filter((url) => TRACE_PACKAGES.test(url) || url.startsWith(`file://${ROOT}dist/trace/`)),
      [],
    );
    const on = await loadedByCli(bin, ON);
    assert.ok(on.includes(`file://${ROOT}dist/trace/start-tracing.js`), on.join('\n'));
    assert.ok(
      on.some((url) => /\/node_modules\/@opentelemetry\/sdk-trace-base\//.test(url)),
      on.join('\n'),
    );
    assert.ok(
      on.some((url) => /\/node_modules\/@opentelemetry\/exporter-trace-otlp-proto\//.test(url)),
      on.join('\n'),
    );
  });

  it('bundled: the tracing chunk loads only with tracing on', async () => {
    const bin = `${ROOT}dist/bundle/cli/bin.js`;
    const chunk = (urls: string[]): string[] => urls.filter((url) => /\/dist\/bundle\/cli\/start-tracing-[^/]+\.js$/.test(url));
    assert.deepEqual(chunk(await loadedByCli(bin, {})), []);
    assert.equal(chunk(await loadedByCli(bin, ON)).length, 1);
  });
});
