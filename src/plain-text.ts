import { STATUS_CODES, type ServerResponse } from 'node:http';

const CONTENT_TYPE = 'text/plain; charset=utf-8';

/**
 * Answers with a short plain-text body, unless the client is already gone.
 * Used for the proxy's own answers (probes, 502, 504), never for upstream
 * content.
 */
export function sendText(response: ServerResponse, status: number, body: string): void {
  if (response.destroyed) return;
  response.writeHead(status, { 'content-type': CONTENT_TYPE, 'content-length': Buffer.byteLength(body) });
  response.end(body);
}

/**
 * The same answer as {@link sendText}, as the raw HTTP/1.1 bytes to write on
 * a socket that left Node's HTTP machinery (an `upgrade` request). It asks
 * the client to close the connection.
 */
export function rawText(status: number, body: string): string {
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
    `content-type: ${CONTENT_TYPE}\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`
  );
}
