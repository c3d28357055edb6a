import type { Server } from 'node:net';
import { PortInUseError } from '../core/errors.js';

/**
 * Starts `server` listening and resolves with the port it got. A port that
 * is taken rejects with {@link PortInUseError} instead of only being logged.
 *
 * @param what - the server's name for error messages, e.g. `metrics server`
 */
export function listen(server: Server, what: string, port: number, host?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      reject(error.code === 'EADDRINUSE' ? new PortInUseError(what, port, host) : error);
    };
    server.once('error', onError);
    server.listen({ port, host }, () => {
      server.off('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
}

/** Formats an http (or https) URL for a host and port, bracketing IPv6 literals and naming the loopback for wildcard hosts. */
export function urlFor(host: string | undefined, port: number, path = '', scheme: 'http' | 'https' = 'http'): string {
  const name = host === undefined || host === '' || host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `${scheme}://${name.includes(':') ? `[${name}]` : name}:${port}${path}`;
}
