import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePort, nodeEntry, startChildServer, type ChildServer } from '../lib/child.js';
import { compareUnderWrk, side } from '../lib/alternating.js';
import { listeningPids } from '../lib/proc.js';
import { SIDECAR_NODE_FLAG } from '../lib/proxies.js';
import { formatCount, type Benchmark, type Row } from '../lib/table.js';

/** Measured rounds per proxy, and seconds of wrk -t1 -c32 load per round (`TRACING_COST_ROUNDS`, `TRACING_COST_SECONDS` for a smoke run). */
const ROUNDS = Number(process.env['TRACING_COST_ROUNDS'] ?? 20);
const ROUND_SECONDS = Number(process.env['TRACING_COST_SECONDS'] ?? 2);

/** A local OTLP/HTTP sink in this (unmeasured) process: reads each export whole and answers 200, counting bodies and bytes. */
async function startSink(): Promise<{ url: string; exports: () => number; bytes: () => number; close: () => Promise<void> }> {
  let exports = 0;
  let bytes = 0;
  const server = createServer((request, response) => {
    request.on('data', (chunk: Buffer) => (bytes += chunk.length));
    request.on('end', () => {
      exports++;
      response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`,
    exports: () => exports,
    bytes: () => bytes,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * `tracing-cost`: what tracing costs a proxied request when every request is recorded: two proxies (stats off, the
 * same app) in one process, one tracing with the `always_on` sampler and exporting OTLP/HTTP protobuf batches to a
 * sink in the bench's own process, one not tracing, loaded in turn for short rounds in alternating order as
 * `breaker-cost` does. The measured process's CPU includes building, batching, encoding and sending the spans.
 */
export const tracingCost: Benchmark = {
  description: 'CPU per proxied request with tracing on (100% sampled, OTLP/HTTP protobuf to a local sink) against off, two proxies in one process loaded in alternating rounds',
  async run(): Promise<Row[]> {
    const servers: ChildServer[] = [];
    const sink = await startSink();
    try {
      const appPort = await freePort();
      servers.push(await startChildServer('app', nodeEntry('serve-app.js', [String(appPort), 'plain']), `http://127.0.0.1:${appPort}/`));
      const [tracedPort, untracedPort] = [await freePort(), await freePort()];
      const args = [String(untracedPort), `http://127.0.0.1:${appPort}`, String(tracedPort), sink.url];
      servers.push(await startChildServer('proxies traced and untraced', nodeEntry('serve-traced-proxies.js', args, [SIDECAR_NODE_FLAG]), `http://127.0.0.1:${untracedPort}/`));
      const pids = listeningPids(untracedPort);
      const traced = side('tracing on (always_on)', `http://127.0.0.1:${tracedPort}/`, pids);
      const untraced = side('tracing off', `http://127.0.0.1:${untracedPort}/`, pids);
      const { rows, ratio } = await compareUnderWrk(traced, untraced, ROUNDS, ROUND_SECONDS);
      return [...rows, { subject: 'spans exported to the sink', result: `${formatCount(sink.exports())} batches, ${formatCount(sink.bytes() / 1024)} KiB` }, ratio];
    } finally {
      await Promise.all(servers.map((server) => server.stop()));
      await sink.close();
    }
  },
};
