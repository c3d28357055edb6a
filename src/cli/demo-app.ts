import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { requirePort } from '../core/checks.js';
import { listen, urlFor } from '../http/listen.js';
import { sendText } from '../http/plain-text.js';

/** Options of {@link startDemoApp}. */
export interface DemoAppOptions {
  /** TCP port; 0 picks a free one. Default 8080 (Knative's default user port). */
  port?: number;
  /** Interface to bind. Default: all interfaces. */
  host?: string;
}

/** A running demo app. */
export interface DemoApp {
  /** The port actually bound. */
  readonly port: number;
  /** Base URL, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  /** Stops the app at once: open connections and pending sleeps are cut. Idempotent. */
  close(): Promise<void>;
}

/** Longest `sleep` the demo app accepts, in milliseconds. */
export const MAX_SLEEP_MS = 10_000;

const SLEEP_PATTERN = /^\d{1,5}$/;

/** The `sleep` query parameter in milliseconds, 0 when absent, or an error message. */
function sleepOf(url: string): number | string {
  const query = url.indexOf('?');
  if (query === -1) return 0;
  const value = new URLSearchParams(url.slice(query + 1)).get('sleep');
  if (value === null) return 0;
  const sleepMs = SLEEP_PATTERN.test(value) ? Number(value) : NaN;
  if (!(sleepMs <= MAX_SLEEP_MS)) return `sleep must be an integer from 0 to ${MAX_SLEEP_MS} (milliseconds), got ${value}\n`;
  return sleepMs;
}

function handle(request: IncomingMessage, response: ServerResponse): void {
  // Drain any request body so the connection stays reusable.
  request.resume();
  const url = request.url ?? '/';
  const sleepMs = sleepOf(url);
  if (typeof sleepMs === 'string') {
    sendText(response, 400, sleepMs);
    return;
  }
  const query = url.indexOf('?');
  const body = `${request.method ?? 'GET'} ${query === -1 ? url : url.slice(0, query)}\nslept ${sleepMs} ms\n`;
  if (sleepMs === 0) {
    sendText(response, 200, body);
    return;
  }
  const timer = setTimeout(() => sendText(response, 200, body), sleepMs);
  response.once('close', () => clearTimeout(timer));
}

/**
 * Starts a tiny app to put behind the proxy: any method on any path answers
 * 200 with a plain-text echo of the method and path, after `?sleep=<ms>`
 * milliseconds (an integer from 0 to {@link MAX_SLEEP_MS}; anything else
 * answers 400), so concurrency gauges have something to show.
 *
 * @throws ConfigError for a bad `port`
 * @throws PortInUseError (as a rejection) when the port is taken
 */
export async function startDemoApp(options: DemoAppOptions = {}): Promise<DemoApp> {
  const port = requirePort('port', options.port ?? 8080);
  const server = createServer(handle);
  const boundPort = await listen(server, 'demo app', port, options.host);
  let closing: Promise<void> | undefined;
  return {
    port: boundPort,
    url: urlFor(options.host, boundPort),
    close() {
      closing ??= new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
