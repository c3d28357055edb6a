import type { IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { upstreamRequestHeaders } from './hop-headers.js';
import { rawText } from './plain-text.js';

/** Where upgraded connections go. */
export interface TunnelTarget {
  /** Host name or IP literal, without IPv6 brackets. */
  readonly host: string;
  /** TCP port. */
  readonly port: number;
}

/**
 * The request head sent to the upstream for an upgrade: the client's method,
 * target and headers, filtered and extended as for any proxied request,
 * with `Connection: upgrade` and the client's `Upgrade` restored.
 */
function upgradeRequestHead(request: IncomingMessage): string {
  const headers = upstreamRequestHeaders(request.rawHeaders, request.socket.remoteAddress);
  let head = `${request.method ?? 'GET'} ${request.url ?? '/'} HTTP/1.1\r\n`;
  for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
  return `${head}connection: upgrade\r\nupgrade: ${request.headers.upgrade ?? ''}\r\n\r\n`;
}

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
export function tunnelUpgrade(request: IncomingMessage, client: Duplex, head: Buffer, target: TunnelTarget): void {
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
    upstream.write(upgradeRequestHead(request));
    if (head.length > 0) upstream.write(head);
    upstream.pipe(client);
    client.pipe(upstream);
  });
}
