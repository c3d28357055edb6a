import type { Server } from 'node:net';
import { ConfigError, PortInUseError } from './errors.js';

/**
 * Checks that `value` is a TCP port number (an integer from 0 to 65535;
 * 0 asks the system for a free port).
 *
 * @param field - the option name to blame in the error
 * @throws ConfigError naming `field`
 */
export function requirePort(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 65535) {
    throw new ConfigError(field, `${field} must be an integer from 0 to 65535, got ${String(value)}`);
  }
  return value;
}

/**
 * Checks that `value` is a positive safe integer, such as a count or a
 * timeout in milliseconds.
 *
 * @param field - the option name to blame in the error
 * @throws ConfigError naming `field`
 */
export function requirePositiveInteger(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new ConfigError(field, `${field} must be a positive integer, got ${String(value)}`);
  }
  return value;
}

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

/** Formats an http URL for a host and port, bracketing IPv6 literals and naming the loopback for wildcard hosts. */
export function urlFor(host: string | undefined, port: number, path = ''): string {
  const name = host === undefined || host === '' || host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${name.includes(':') ? `[${name}]` : name}:${port}${path}`;
}
