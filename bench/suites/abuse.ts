import { attacker, rapidReset, requestBlock, writeStreams } from '../../test/helpers/h2-attack.js';
import { END_HEADERS, frame, HEADERS } from '../../test/helpers/h2-frames.js';
import { freePort, nodeEntry, startChildServer, type ChildServer } from '../lib/child.js';
import { listeningPids, memoryBytes } from '../lib/proc.js';
import { cliKind } from '../lib/proxies.js';
import { megabytes, type Benchmark, type Row } from '../lib/table.js';

/** Connections per attack, HEADERS + RST_STREAM pairs per connection, streams opened per connection, seconds to settle after each attack (`ABUSE_*` for a smoke run). */
const CONNECTIONS = Number(process.env['ABUSE_CONNECTIONS'] ?? 8);
const RESETS = Number(process.env['ABUSE_RESETS'] ?? 20_000);
const STREAMS = Number(process.env['ABUSE_STREAMS'] ?? 1000);
const SETTLE_SECONDS = Number(process.env['ABUSE_SETTLE_SECONDS'] ?? 15);
/** Goal: RSS settled after the attacks at most 1.3 times what it was before them. */
const GOAL_AFTER_RATIO = 1.3;

const sleep = (seconds: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, seconds * 1000));

/**
 * `abuse`: the sidecar's memory before, during and after two HTTP/2 attacks from issue 23, against the CLI (stats
 * on) in front of an app that answers at once: rapid reset (HEADERS then RST_STREAM CANCEL, over and over, on
 * several connections) and many streams (requests whose body never comes, far past the per-connection and total
 * stream limits, held open, then dropped). RSS from /proc before, at its high-water mark, and some seconds after
 * each attack ends: what an attack leaves behind.
 */
export const abuse: Benchmark = {
  description: `CLI RSS before, at peak and ${SETTLE_SECONDS} s after rapid reset (${CONNECTIONS} x ${RESETS}) and many streams (${CONNECTIONS} x ${STREAMS})`,
  async run(): Promise<Row[]> {
    const servers: ChildServer[] = [];
    try {
      const appPort = await freePort();
      servers.push(await startChildServer('app', nodeEntry('serve-app.js', [String(appPort), 'both']), `http://127.0.0.1:${appPort}/`));
      const cliPort = await freePort();
      const cli = await cliKind(await freePort());
      servers.push(await startChildServer(cli.name, cli.launch(cliPort, appPort).command, `http://127.0.0.1:${cliPort}/`));
      const [pid] = listeningPids(cliPort);
      const rss = (): number => memoryBytes(pid!, 'VmRSS');
      // A little ordinary traffic first, so that the baseline holds what serving costs.
      for (let i = 0; i < 200; i++) await (await fetch(`http://127.0.0.1:${cliPort}/`)).text();
      await sleep(1);
      const before = rss();

      await rapidReset(cliPort, CONNECTIONS, RESETS);
      const peakReset = memoryBytes(pid!, 'VmHWM');
      await sleep(SETTLE_SECONDS);
      const afterReset = rss();

      const post = requestBlock('POST');
      const holders = await Promise.all(Array.from({ length: CONNECTIONS }, () => attacker(cliPort)));
      await Promise.all(holders.map((socket) => writeStreams(socket, STREAMS, (id) => [frame(HEADERS, END_HEADERS, id, post)])));
      await sleep(2);
      const duringStreams = rss();
      const peakStreams = memoryBytes(pid!, 'VmHWM');
      for (const socket of holders) socket.destroy();
      await sleep(SETTLE_SECONDS);
      const afterStreams = rss();

      const ratio = afterStreams / before;
      return [
        { subject: 'RSS before the attacks (after 200 ordinary requests)', result: megabytes(before) },
        { subject: `rapid reset: ${CONNECTIONS} connections x ${RESETS} HEADERS + RST_STREAM`, result: `peak ${megabytes(peakReset)}, ${SETTLE_SECONDS} s after ${megabytes(afterReset)}` },
        {
          subject: `many streams: ${CONNECTIONS} connections x ${STREAMS} streams without a body, held 2 s`,
          result: `held ${megabytes(duringStreams)}, peak ${megabytes(peakStreams)}, ${SETTLE_SECONDS} s after ${megabytes(afterStreams)}`,
        },
        { subject: 'RSS after both attacks ÷ before', result: ratio.toFixed(2), ratio, goal: `<= ${GOAL_AFTER_RATIO.toFixed(2)}`, met: ratio <= GOAL_AFTER_RATIO },
      ];
    } finally {
      await Promise.all(servers.map((server) => server.stop()));
    }
  },
};
