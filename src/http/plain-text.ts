import type { ServerResponse } from 'node:http';
import { countBodyBytes } from './body-bytes.js';

const CONTENT_TYPE = 'text/plain; charset=utf-8';

/**
 * Answers with a short plain-text body, unless the client is already gone.
 * Used for the proxy's own answers (probes, 502, 504), never for upstream
 * content.
 */
export function sendText(response: ServerResponse, status: number, body: string): void {
  if (response.destroyed) return;
  const length = Buffer.byteLength(body);
  response.writeHead(status, { 'content-type': CONTENT_TYPE, 'content-length': length });
  countBodyBytes(response, length);
  response.end(body);
}
