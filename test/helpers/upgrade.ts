import type { IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import { serve } from './http.js';

/** Reads from `socket` until `text` has arrived; resolves with everything read. */
export function readUntil(socket: Socket, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = '';
    const onData = (chunk: Buffer): void => {
      received += chunk.toString('latin1');
      if (received.includes(text)) {
        socket.off('data', onData);
        resolve(received);
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.once('close', () => reject(new Error(`closed before ${JSON.stringify(text)}; got ${JSON.stringify(received)}`)));
  });
}

/** A WebSocket-style upgrade request for `path` on 127.0.0.1:`port`. */
export function upgradeRequest(port: number, path = '/chat?room=1'): string {
  return `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nX-Custom: A\r\n\r\n`;
}

/** The body with which {@link serveUpgrades} refuses an upgrade to `/refuse`. */
export const REFUSAL = 'not here\n';

/**
 * An app on 127.0.0.1 whose upgrade handler refuses `/refuse` with a 400 and {@link REFUSAL}, and answers any
 * other path with 101 and echoes the tunnel's bytes; its ordinary requests get 200. `seen` keeps each upgrade
 * request.
 */
export async function serveUpgrades(): Promise<Awaited<ReturnType<typeof serve>> & { seen: IncomingMessage[] }> {
  const app = await serve((_req, res) => res.end());
  const seen: IncomingMessage[] = [];
  app.server.on('upgrade', (req: IncomingMessage, socket: Socket) => {
    seen.push(req);
    socket.on('error', () => {});
    if (req.url === '/refuse') {
      socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Length: ${REFUSAL.length}\r\nConnection: close\r\n\r\n${REFUSAL}`);
      return;
    }
    socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
    socket.pipe(socket);
  });
  return { ...app, seen };
}

/** Sends an upgrade request for `path` to 127.0.0.1:`port` and resolves once the answer's head has arrived, with the socket and what came. */
export async function openUpgrade(port: number, path?: string): Promise<{ client: Socket; handshake: string }> {
  const client = connect(port, '127.0.0.1');
  client.on('error', () => {});
  const handshake = readUntil(client, '\r\n\r\n');
  client.write(upgradeRequest(port, path));
  return { client, handshake: await handshake };
}
