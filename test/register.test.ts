import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { once } from 'node:events';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Client } from '@grpc/grpc-js';
import { chat, collect, grpcClient, list, status, unary } from './helpers/grpc.js';
import { freePort, get, serve, until } from './helpers/http.js';
import { KIND, TraceReceiver, type ReceivedSpan } from './helpers/otlp-trace-receiver.js';
import { scrapeValues } from './helpers/scrape.js';

/**
 * The `--import` register mode as a user runs it: `node --import queue-stats-exporter/register app.js`, the package
 * resolved by its own name through package.json's `exports`, so from the compiled package in dist/ (`npm run build`),
 * started in the repository (where the name resolves to the package itself). The apps know nothing of this package.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const APP = fileURLToPath(new URL('./helpers/register-app.js', import.meta.url));
const GLOBAL_METER_PRELOAD = new URL('./helpers/global-meter-preload.js', import.meta.url).href;
const REGISTER = 'queue-stats-exporter/register';

/** Requests held open at once, and for how long: longer than two 1 s windows, so one window sees all of them throughout. */
const HELD = 3;
const HOLD_MS = 2500;

interface App {
  child: ChildProcess;
  port: number;
  stdout: string[];
  stderr: () => string;
}

/** Spawns the test app `kind` with `preloads` imported first. */
async function spawnApp(kind: string, env: Record<string, string>, preloads = [REGISTER]): Promise<App> {
  const port = await freePort();
  const child = spawn(process.execPath, [...preloads.flatMap((preload) => ['--import', preload]), APP, kind, String(port)], {
    cwd: ROOT,
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  let stderr = '';
  let partial = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop()!;
    stdout.push(...lines);
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return { child, port, stdout, stderr: () => stderr };
}

/** Starts the test app `kind` with `preloads` imported first, and resolves once it listens. */
async function startApp(kind: string, env: Record<string, string>, preloads = [REGISTER]): Promise<App> {
  const app = await spawnApp(kind, env, preloads);
  await until(() => app.stdout.includes('listening') || app.child.exitCode !== null, `${kind} app listening`, 10_000);
  assert.equal(app.child.exitCode, null, app.stderr());
  return app;
}

async function stop(app: App): Promise<void> {
  if (app.child.exitCode !== null) return;
  app.child.kill('SIGKILL');
  await once(app.child, 'exit');
}

/** The two gauges the test asserts, as one window shows them. */
interface Window {
  requestsPerSecond: number;
  concurrency: number;
}

/**
 * Starts `hold` (traffic of `held` requests held open at once for about {@link HOLD_MS} ms) and reads the gauges every
 * 50 ms from before it starts until a window after it ended; resolves with the windows seen, consecutive equal
 * readings merged (a window's values stay until the next report, and two different windows of this traffic never
 * read the same).
 */
async function heldWindows(hold: () => Promise<void>, read: () => Promise<Window | undefined>): Promise<Window[]> {
  const readings: Window[] = [];
  let done = false;
  const poll = (async () => {
    while (!done) {
      const reading = await read();
      if (reading !== undefined) readings.push(reading);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  await new Promise((r) => setTimeout(r, 300));
  await hold();
  await until(() => readings.length > 0 && readings.at(-1)!.concurrency === 0 && readings.at(-1)!.requestsPerSecond === 0, 'an idle window', 3000);
  done = true;
  await poll;
  return readings.filter((w, i) => i === 0 || w.requestsPerSecond !== readings[i - 1]!.requestsPerSecond || w.concurrency !== readings[i - 1]!.concurrency);
}

/** {@link heldWindows} of {@link HELD} `GET /hold` requests of {@link HOLD_MS} ms at once. */
function heldRequestWindows(appPort: number, read: () => Promise<Window | undefined>): Promise<Window[]> {
  return heldWindows(async () => {
    const held = await Promise.all(Array.from({ length: HELD }, () => get(appPort, `/hold?ms=${HOLD_MS}`)));
    assert.deepEqual(
      held.map(({ status }) => status),
      Array(HELD).fill(200),
    );
  }, read);
}

/** Asserts the windows of {@link heldWindows}: exactly `held` arrivals in all, and a whole window with all of them in flight. */
function assertHeldWindows(windows: Window[], held = HELD): void {
  const arrivals = windows.reduce((sum, w) => sum + w.requestsPerSecond, 0);
  assert.equal(arrivals, held, JSON.stringify(windows));
  assert.ok(
    windows.some((w) => w.concurrency === held && w.requestsPerSecond === 0),
    JSON.stringify(windows),
  );
  assert.deepEqual(windows.at(-1), { requestsPerSecond: 0, concurrency: 0 });
}

/** Reads with `read` every 50 ms until `check` holds, for at most 3 s; resolves with the last reading. */
async function readUntil(read: () => Promise<Window>, check: (w: Window) => boolean): Promise<Window> {
  const deadline = Date.now() + 3000;
  let reading = await read();
  while (!check(reading) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    reading = await read();
  }
  return reading;
}

/** Starts the gRPC test app under the register mode, runs `test` with a client of it, then checks its stderr stayed empty. */
async function withGrpcApp(test: (client: Client, metricsPort: number) => Promise<void>): Promise<void> {
  const metricsPort = await freePort();
  const app = await startApp('grpc', { QUEUE_STATS_METRICS_PORT: String(metricsPort) });
  const client = grpcClient(app.port);
  try {
    await test(client, metricsPort);
    assert.equal(app.stderr(), '');
  } finally {
    client.close();
    await stop(app);
  }
}

function scrapeWindow(metricsPort: number): () => Promise<Window> {
  return async () => {
    const values = await scrapeValues(`http://127.0.0.1:${metricsPort}/metrics`);
    return { requestsPerSecond: values.get('queue_requests_per_second')!, concurrency: values.get('queue_average_concurrent_requests')! };
  };
}

describe('node --import queue-stats-exporter/register', () => {
  for (const kind of ['express', 'fastify', 'bare']) {
    it(`tracks a ${kind} app's requests on the metrics port, never the scrapes`, async () => {
      const metricsPort = await freePort();
      const app = await startApp(kind, { QUEUE_STATS_METRICS_PORT: String(metricsPort), SERVING_NAMESPACE: 'ns', SERVING_CONFIGURATION: 'cfg', SERVING_REVISION: 'rev-1', SERVING_POD: 'pod-a' });
      try {
        const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
        assert.match(text, /^queue_requests_per_second\{destination_configuration="cfg",destination_namespace="ns",destination_pod="pod-a",destination_revision="rev-1"\} 0$/m);
        assertHeldWindows(await heldRequestWindows(app.port, scrapeWindow(metricsPort)));
        assert.equal(app.stderr(), '');
      } finally {
        await stop(app);
      }
    });
  }

  it('ends a request whose client went away: concurrency returns to 0', async () => {
    const metricsPort = await freePort();
    const app = await startApp('bare', { QUEUE_STATS_METRICS_PORT: String(metricsPort) });
    try {
      const read = scrapeWindow(metricsPort);
      const clients = Array.from({ length: 2 }, () => request({ host: '127.0.0.1', port: app.port, path: '/hold?ms=60000' }).on('error', () => {}));
      for (const client of clients) client.end();
      // A whole window with both in flight, then none once the clients are gone.
      assert.deepEqual(await readUntil(read, (w) => w.concurrency === 2), { requestsPerSecond: 0, concurrency: 2 });
      for (const client of clients) client.destroy();
      assert.deepEqual(await readUntil(read, (w) => w.concurrency === 0 && w.requestsPerSecond === 0), { requestsPerSecond: 0, concurrency: 0 });
    } finally {
      await stop(app);
    }
  });

  it("tracks a @grpc/grpc-js server's calls, unary, server-, client- and bidi-streaming, each once for its whole life", () =>
    withGrpcApp(async (client, metricsPort) => {
      const hold = String(HOLD_MS);
      const calls = (): Promise<void>[] => [
        unary(client, { text: hold }).then(() => undefined),
        new Promise((resolve, reject) =>
          list(client, { text: hold })
            .on('data', () => {})
            .on('error', reject)
            .on('end', resolve),
        ),
        new Promise((resolve, reject) => {
          const call = collect(client, (error) => (error === null ? resolve() : reject(error)));
          call.write({ text: 'a' });
          setTimeout(() => call.end(), HOLD_MS);
        }),
        new Promise((resolve, reject) => {
          const call = chat(client)
            .on('data', () => {})
            .on('error', reject)
            .on('end', resolve);
          call.write({ text: 'a' });
          setTimeout(() => call.end(), HOLD_MS);
        }),
      ];
      assertHeldWindows(
        await heldWindows(async () => {
          await Promise.all(calls());
        }, scrapeWindow(metricsPort)),
        4,
      );
    }));

  it('ends gRPC calls cancelled by the client or past their deadline: concurrency returns to 0', () =>
    withGrpcApp(async (client, metricsPort) => {
      const read = scrapeWindow(metricsPort);
      const forever = { text: '60000' };
      const pastDeadline = unary(client, forever, { deadlineMs: HOLD_MS }).then(
        () => assert.fail('the call should have passed its deadline'),
        (error: { code: number }) => error.code,
      );
      const streaming = list(client, forever)
        .on('data', () => {})
        .on('error', () => {});
      const bidi = chat(client)
        .on('data', () => {})
        .on('error', () => {});
      bidi.write({ text: 'a' });
      assert.deepEqual(await readUntil(read, (w) => w.concurrency === 3), { requestsPerSecond: 0, concurrency: 3 });
      streaming.cancel();
      bidi.cancel();
      assert.equal(await pastDeadline, status.DEADLINE_EXCEEDED);
      assert.deepEqual(await readUntil(read, (w) => w.concurrency === 0 && w.requestsPerSecond === 0), { requestsPerSecond: 0, concurrency: 0 });
    }));

  it('names the demo identity and the hostname when no SERVING_* variable is set', async () => {
    const metricsPort = await freePort();
    const app = await startApp('bare', { QUEUE_STATS_METRICS_PORT: String(metricsPort) });
    try {
      const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      const { hostname } = await import('node:os');
      assert.ok(text.includes(`queue_requests_per_second{destination_configuration="demo",destination_namespace="default",destination_pod="${hostname()}",destination_revision="demo-00001"} 0`), text);
    } finally {
      await stop(app);
    }
  });

  it("records on the app's global MeterProvider with QUEUE_STATS_METER_PROVIDER=global, and serves no metrics port", async () => {
    const metricsPort = await freePort();
    const app = await startApp('bare', { QUEUE_STATS_METER_PROVIDER: 'global', QUEUE_STATS_METRICS_PORT: String(metricsPort) }, [GLOBAL_METER_PRELOAD, REGISTER]);
    try {
      const refused = await new Promise<boolean>((resolve) =>
        connect(metricsPort, '127.0.0.1')
          .on('connect', () => resolve(false))
          .on('error', () => resolve(true)),
      );
      assert.equal(refused, true);
      const read = (): Promise<Window | undefined> => {
        const line = app.stdout.filter((l) => l.startsWith('gauges ')).at(-1);
        if (line === undefined) return Promise.resolve(undefined);
        const gauges = JSON.parse(line.slice('gauges '.length)) as Record<string, number>;
        return Promise.resolve({ requestsPerSecond: gauges['queue_requests_per_second']!, concurrency: gauges['queue_average_concurrent_requests']! });
      };
      assertHeldWindows(await heldRequestWindows(app.port, read));
      assert.equal(app.stderr(), '');
    } finally {
      await stop(app);
    }
  });

  it('lets the app exit when its own server closes', async () => {
    const app = await spawnApp('once', { QUEUE_STATS_METRICS_PORT: String(await freePort()) });
    try {
      await until(() => app.child.exitCode !== null, 'the app to exit', 10_000);
      assert.equal(app.child.exitCode, 0);
      assert.deepEqual(app.stdout, ['closed']);
      assert.equal(app.stderr(), '');
    } finally {
      await stop(app);
    }
  });
});

describe('the register mode with a bad environment', () => {
  const cases: [string, Record<string, string>, string][] = [
    ['a metrics port that is not a port', { QUEUE_STATS_METRICS_PORT: 'abc' }, 'QUEUE_STATS_METRICS_PORT must be a port from 1 to 65535, got "abc"'],
    ['an unknown meter provider', { QUEUE_STATS_METER_PROVIDER: 'mine' }, 'QUEUE_STATS_METER_PROVIDER must be own or global, got "mine"'],
    [
      'the global meter provider without one set',
      { QUEUE_STATS_METER_PROVIDER: 'global' },
      'QUEUE_STATS_METER_PROVIDER=global but no global MeterProvider is set yet: import the SDK before this module',
    ],
    ['an empty SERVING_* name', { SERVING_REVISION: '' }, 'SERVING_REVISION must not be empty'],
    ['an OTEL_* variable', { OTEL_METRICS_EXPORTER: 'bogus' }, "OTEL_METRICS_EXPORTER must list otlp and/or prometheus, or be none; 'bogus' is not supported"],
  ];
  for (const [what, env, message] of cases) {
    it(`${what}: one line on stderr, and the app runs untracked`, async () => {
      const app = await startApp('bare', { QUEUE_STATS_METRICS_PORT: String(await freePort()), ...env });
      try {
        assert.deepEqual(await get(app.port), { status: 200, body: 'hello\n' });
        assert.equal(app.stderr(), `queue-stats-exporter/register: ${message}; requests are not tracked\n`);
      } finally {
        await stop(app);
      }
    });
  }

  it('a metrics port in use: one line naming the variable, and the app runs untracked', async () => {
    const taken = await serve((_request, response) => response.end());
    try {
      const app = await startApp('bare', { QUEUE_STATS_METRICS_PORT: String(taken.port) });
      try {
        assert.deepEqual(await get(app.port), { status: 200, body: 'hello\n' });
        assert.match(app.stderr(), new RegExp(`^queue-stats-exporter/register: .*${taken.port}.* \\(QUEUE_STATS_METRICS_PORT\\); requests are not tracked\\n$`));
      } finally {
        await stop(app);
      }
    } finally {
      await taken.close();
    }
  });
});

describe('the register mode beside the OpenTelemetry Node SDK and its HTTP instrumentation', () => {
  const SDK_PRELOAD = new URL('./helpers/otel-sdk-preload.js', import.meta.url).href;

  it("leaves the server spans to the app's SDK, one per request, and still counts every request", async () => {
    const receiver = new TraceReceiver();
    await receiver.start();
    const metricsPort = await freePort();
    const app = await startApp('bare', { QUEUE_STATS_METRICS_PORT: String(metricsPort), TEST_TRACES_URL: receiver.url, OTEL_TRACES_EXPORTER: 'otlp' }, [SDK_PRELOAD, REGISTER]);
    try {
      assertHeldWindows(await heldRequestWindows(app.port, scrapeWindow(metricsPort)));
      const spans = await receiver.waitFor(HELD);
      // Give a second span per request, if there were one, the time to arrive.
      await new Promise((r) => setTimeout(r, 300));
      // The SDK also traces the scrapes of the register mode's metrics port (a node:http server of the process).
      const path = (span: ReceivedSpan): string => String(span.attributes['url.path'] ?? span.attributes['http.target']);
      const servers = receiver.spans.filter((span) => span.kind === KIND.SERVER && path(span).startsWith('/hold'));
      assert.equal(servers.length, HELD, JSON.stringify(spans.map((span) => ({ name: span.name, kind: span.kind, scope: span.scope, path: path(span) }))));
      assert.ok(
        receiver.spans.every((span) => span.scope === '@opentelemetry/instrumentation-http'),
        JSON.stringify(receiver.spans.map(({ scope }) => scope)),
      );
      assert.equal(new Set(servers.map((span) => span.traceId)).size, HELD);
      assert.equal(app.stderr(), '');
    } finally {
      await stop(app);
      await receiver.close();
    }
  });
});
