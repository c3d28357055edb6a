import assert from 'node:assert/strict';
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { METRIC } from '../src/core/metric-names.js';
import { decodeStat, PROTOBUF_MEDIA_TYPE } from '../src/metrics-server/stat-proto.js';
import { boundPorts, startCli, type CliProcess } from './helpers/cli.js';
import { serve, until } from './helpers/http.js';

/** The CLI's arguments for a proxy on `port` and metrics on `metricsPort`, all on 127.0.0.1. */
function cliArgs(upstream: string): string[] {
  return [...['--upstream', upstream, '--host', '127.0.0.1'], ...['--namespace', 'a', '--config', 'b', '--revision', 'c', '--pod', 'd'], '--drain-quiet-period', '200ms'];
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** From sending the request to the last body byte, in milliseconds. */
  elapsedMs: number;
}

/** A GET on 127.0.0.1 that resolves with the whole answer and how long it took. */
function timedGet(port: number, path: string, agent: Agent | false, headers: Record<string, string> = {}): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path, agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), elapsedMs: performance.now() - started }));
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

describe('the metrics endpoint of the CLI while its proxy is saturated', () => {
  let app: Awaited<ReturnType<typeof serve>>;
  let cli: CliProcess;
  let proxyPort: number;
  let metricsPort: number;
  before(async () => {
    app = await serve((_req, res) => res.end('Hello World!\n'));
    cli = await startCli(cliArgs(`http://127.0.0.1:${app.port}`));
    ({ proxy: proxyPort, metrics: metricsPort } = boundPorts(cli));
  });
  after(async () => {
    cli.child.kill('SIGTERM');
    assert.equal(await cli.exited, 0, cli.output());
    await app.close();
  });

  // How fast it answers under this load is measured by the `scrape` benchmark (BENCHMARKS.md), not here.
  it('answers a scrape every 50 ms with 200 and the live concurrency while 64 keep-alive clients saturate the proxy', async () => {
    const LOAD_MS = 4000;
    const SCRAPE_EVERY_MS = 50;
    const CLIENTS = 64;
    const loadAgent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
    const scrapeAgent = new Agent({ keepAlive: true, maxSockets: 1 });
    const deadline = performance.now() + LOAD_MS;
    const statuses: Array<number | string> = [];
    const client = async (): Promise<void> => {
      while (performance.now() < deadline) {
        statuses.push(await timedGet(proxyPort, '/', loadAgent).then((answer) => answer.status, String));
      }
    };
    let peakConcurrency = 0;
    let scrapes = 0;
    const concurrencyLine = new RegExp(`^${METRIC.averageConcurrentRequests}\\{[^}]*\\} (\\S+)$`, 'm');
    const load = Promise.all(Array.from({ length: CLIENTS }, client));
    try {
      // Let the first window fill before scraping.
      await sleep(1000);
      while (performance.now() < deadline) {
        const answer = await timedGet(metricsPort, '/metrics', scrapeAgent);
        assert.equal(answer.status, 200);
        scrapes++;
        peakConcurrency = Math.max(peakConcurrency, Number(concurrencyLine.exec(answer.body.toString())?.[1]));
        await sleep(Math.max(0, SCRAPE_EVERY_MS - answer.elapsedMs));
      }
      await load;
    } finally {
      loadAgent.destroy();
      scrapeAgent.destroy();
    }
    const summary = `${scrapes} scrapes, ${statuses.length} proxied requests, peak average concurrency ${peakConcurrency.toFixed(1)}`;
    assert.deepEqual(
      statuses.filter((status) => status !== 200),
      [],
    );
    // Saturated: dozens of requests in flight on average through whole windows.
    assert.ok(peakConcurrency > 16, summary);
    assert.ok(scrapes > 20, summary);
  });

  it('serves 50 scrapes at once, each a complete 200 answer', async () => {
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => timedGet(metricsPort, '/metrics', false, i % 2 === 0 ? {} : { accept: PROTOBUF_MEDIA_TYPE })));
    for (const [i, answer] of answers.entries()) {
      assert.equal(answer.status, 200);
      assert.equal(Number(answer.headers['content-length']), answer.body.length);
      if (i % 2 === 0) {
        for (const family of Object.values(METRIC)) assert.match(answer.body.toString(), new RegExp(`^${family}\\{`, 'm'), family);
      } else {
        assert.equal(decodeStat(answer.body).podName, 'd');
      }
    }
  });
});

describe('SIGTERM to the CLI under load', () => {
  it('lets every request in flight finish with 200, then exits 0 and refuses new connections', async () => {
    const ANSWER_AFTER_MS = 300;
    const WORKERS = 32;
    let active = 0;
    let served = 0;
    const app = await serve((_req, res) => {
      active++;
      setTimeout(() => {
        served++;
        res.end('done');
      }, ANSWER_AFTER_MS);
      res.on('close', () => active--);
    });
    const cli = await startCli(cliArgs(`http://127.0.0.1:${app.port}`));
    const proxyPort = boundPorts(cli).proxy;
    const agent = new Agent({ keepAlive: true, maxSockets: WORKERS });
    try {
      assert.equal(cli.child.exitCode, null, cli.output());
      let stopping = false;
      let outstanding = 0;
      const results: Array<number | string> = [];
      const worker = async (): Promise<void> => {
        while (!stopping) {
          outstanding++;
          try {
            const answer = await timedGet(proxyPort, '/', agent);
            results.push(answer.status === 200 && answer.body.toString() === 'done' ? 200 : `${answer.status} ${answer.body.toString()}`);
          } catch (error) {
            results.push(String(error));
          } finally {
            outstanding--;
          }
        }
      };
      const workers = Array.from({ length: WORKERS }, worker);
      await sleep(1000);
      // Wait for a moment when every worker's request is inside the app (none still on the wire, where it could
      // meet a closing connection), then stop starting new ones. Stopping first and waiting afterwards raced with
      // the 300 ms waves of answers: by the time the rest arrived, a wave could have finished.
      await until(() => active === WORKERS && outstanding === WORKERS, `all ${WORKERS} requests to be inside the app at once`);
      stopping = true;
      const inFlight = outstanding;
      const before = results.length;
      cli.child.kill('SIGTERM');
      await Promise.all(workers);
      assert.ok(inFlight >= 16, `${inFlight} requests in flight at SIGTERM`);
      assert.equal(results.length, before + inFlight);
      assert.deepEqual(
        results.filter((r) => r !== 200),
        [],
      );
      assert.ok(served > WORKERS * 2, `${served} requests served`);
      assert.equal(await cli.exited, 0, cli.output());
      assert.match(cli.output(), /SIGTERM, draining in-flight requests/);
      await assert.rejects(timedGet(proxyPort, '/', false), { code: 'ECONNREFUSED' });
    } finally {
      agent.destroy();
      cli.kill();
      await app.close();
    }
  });
});
