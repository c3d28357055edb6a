import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { jsonLines, runCli, startCli } from './helpers/cli.js';
import { freePort, get, serve } from './helpers/http.js';

/** The CLI as the package ships it (`npm run build` bundles it; tests run from build/test/). */
const BUNDLED_CLI = fileURLToPath(new URL('../../dist/bundle/cli/bin.js', import.meta.url));

const NAMES = ['--namespace', 'ns', '--config', 'cfg', '--revision', 'cfg-00001', '--pod', 'cfg-00001-pod'];

/** Starts the CLI in front of a small app with `env`, runs `test` with its output, then stops both. */
async function withSidecar(env: Record<string, string>, test: (output: () => string) => void): Promise<void> {
  const app = await serve((_req, res) => res.end('ok'));
  const cli = await startCli(['--upstream', `http://127.0.0.1:${app.port}`, '--host', '127.0.0.1', ...NAMES], env);
  try {
    test(() => cli.output());
  } finally {
    cli.kill();
    await app.close();
  }
}

describe("the sidecar's own log lines", () => {
  it('are one JSON object a line on a pipe: Knative’s keys (severity, timestamp, logger, message) and the revision and pod', async () => {
    await withSidecar({}, (output) => {
      const [started] = jsonLines(output());
      assert.ok(started !== undefined, output());
      assert.deepEqual(Object.keys(started).sort(), ['knative.dev/key', 'knative.dev/pod', 'logger', 'message', 'severity', 'timestamp']);
      assert.equal(started['severity'], 'info');
      assert.equal(started['logger'], 'queueproxy');
      assert.equal(started['knative.dev/key'], 'ns/cfg-00001');
      assert.equal(started['knative.dev/pod'], 'cfg-00001-pod');
      assert.match(String(started['message']), /^queue-stats \S+: proxy http:\/\/127\.0\.0\.1:\d+ -> /);
      assert.ok(Math.abs(Date.parse(String(started['timestamp'])) - Date.now()) < 60_000, String(started['timestamp']));
      assert.equal(
        output()
          .split('\n')
          .filter((line) => line !== '' && !line.startsWith('{')).length,
        0,
        output(),
      );
    });
  });

  it("honours a zap config's level and encoder keys (SERVING_LOGGING_CONFIG); an empty key leaves its part out", async () => {
    const config = JSON.stringify({ level: 'debug', encoderConfig: { messageKey: 'msg', levelKey: 'lvl', timeKey: '', nameKey: 'component' } });
    await withSidecar({ SERVING_LOGGING_CONFIG: config }, (output) => {
      // Level debug: OpenTelemetry's debug lines come first.
      const started = jsonLines(output()).find((line) => String(line['msg']).startsWith('queue-stats '));
      assert.ok(started !== undefined, output());
      assert.deepEqual(Object.keys(started).sort(), ['component', 'knative.dev/key', 'knative.dev/pod', 'lvl', 'msg']);
      assert.equal(started['component'], 'queueproxy');
      assert.equal(started['lvl'], 'info');
    });
  });

  it('SERVING_LOGGING_LEVEL error leaves info lines out (and overrides the config’s level)', async () => {
    const app = await serve((_req, res) => res.end('ok'));
    const port = await freePort();
    const env = { SERVING_LOGGING_LEVEL: 'error', SERVING_LOGGING_CONFIG: '{"level":"debug"}' };
    const cli = await startCli(['--upstream', `http://127.0.0.1:${app.port}`, '--host', '127.0.0.1', '--port', String(port), ...NAMES], env);
    try {
      // No start-up line to wait for: the proxy answering says it started (bounded: 10 s).
      let status = 0;
      for (let tries = 0; status !== 200 && tries < 200; tries++) {
        status = (await get(port, '/').catch(() => ({ status: 0 }))).status;
        if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.equal(status, 200, cli.output());
      cli.child.kill('SIGINT');
      assert.equal(await cli.exited, 0);
      assert.equal(cli.output(), '');
    } finally {
      cli.kill();
      await app.close();
    }
  });

  it('are readable text on a terminal (the bundled CLI, which loads pino-pretty as a chunk of its own)', async () => {
    const command = [process.execPath, BUNDLED_CLI, '--port', '0', '--metrics-port', '0', '--request-metrics-port', '0', '--admin-port', '0', '--host', '127.0.0.1'].map((arg) => `'${arg}'`).join(' ');
    // util-linux `script` runs the CLI on a pseudo-terminal; the test ends it once its start-up line is out.
    const run = promisify(execFile)('script', ['-qec', `timeout -s INT 3 ${command}; exit 0`, '/dev/null'], { timeout: 20_000 });
    const { stdout } = await run;
    assert.match(stdout, /INFO.*\(queueproxy\): .*queue-stats \S+: proxy http:\/\/127\.0\.0\.1:\d+/);
    assert.match(stdout, /INFO.*\(queueproxy\): .*queue-stats: SIGINT, draining/);
    assert.equal(jsonLines(stdout).length, 0, stdout);
  });
});

describe('bad logging settings are refused in one line naming the variable, exit 2', () => {
  const cases: [Record<string, string>, string][] = [
    [{ SERVING_LOGGING_LEVEL: 'verbose' }, 'queue-stats: SERVING_LOGGING_LEVEL (--log-level): unknown level "verbose" (one of debug, info, warn, error, dpanic, panic, fatal)\n'],
    [{ SERVING_LOGGING_CONFIG: '{"level":' }, /^queue-stats: SERVING_LOGGING_CONFIG \(--logging-config\): not JSON \(.+\)\n$/.source],
    [{ SERVING_LOGGING_CONFIG: '{"level":"loud"}' }, 'queue-stats: SERVING_LOGGING_CONFIG (--logging-config) level: unknown level "loud" (one of debug, info, warn, error, dpanic, panic, fatal)\n'],
    [{ SERVING_LOGGING_CONFIG: '{"encoderConfig":{"levelKey":3}}' }, 'queue-stats: SERVING_LOGGING_CONFIG (--logging-config): encoderConfig.levelKey must be a string\n'],
  ];
  for (const [env, expected] of cases) {
    it(JSON.stringify(env), async () => {
      const { code, output } = await runCli(['--upstream', 'http://127.0.0.1:1', ...NAMES], env);
      assert.equal(code, 2);
      if (expected.startsWith('^')) assert.match(output, new RegExp(expected));
      else assert.equal(output, expected);
    });
  }
});
