import type { IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { rawHeaderValue, upstreamRequestHead } from './hop-headers.js';
import { rawText } from './plain-text.js';
import type { UpstreamTarget } from './upstream-pool.js';

/**
 * Tunnels an HTTP/1.1 upgrade request (Node's server `upgrade` event) to the
 * upstream over a new TCP connection: writes the request head and any bytes
 * already read, then pipes raw bytes both ways, so the upstream's own 101
 * (or refusal) reaches the client unchanged. When the upstream cannot be
 * reached the client gets a 502; when either side closes, both are closed.
 * Never throws, and errors on either socket only close the tunnel.
 *
 * @param head - bytes the client sent after its request head
 */
export function tunnelUpgrade(request: IncomingMessage, client: Duplex, head: Buffer, target: UpstreamTarget): void {
  const upstream: Socket = connect({ host: target.host, port: target.port });
  let connected = false;
  upstream.setNoDelay(true);
  client.on('error', () => upstream.destroy());
  client.on('close', () => upstream.destroy());
  upstream.on('error', () => {
    if (connected || client.destroyed) client.destroy();
    else client.end(rawText(502, 'upstream unavailable\n'), () => client.destroy());
  });
  upstream.on('close', () => {
    if (connected) client.destroy();
  });
  upstream.on('connect', () => {
    connected = true;
    // The hop-by-hop Connection and Upgrade headers are restored for this hop: they ask the upstream to switch.
    const upgrade = rawHeaderValue(request.rawHeaders, 'upgrade') ?? '';
    upstream.write(upstreamRequestHead(request, target.authority, `connection: upgrade\r\nupgrade: ${upgrade}\r\n`), 'latin1');
    if (head.length > 0) upstream.write(head);
    upstream.pipe(client);
    client.pipe(upstream);
  });
}
