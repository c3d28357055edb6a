/**
 * The sidecar's admin server, on Knative's queue-proxy admin port (8022):
 * `/wait-for-drain`, which a preStop hook of the app container calls so that
 * the app is stopped only once the sidecar has drained (knative/serving
 * `pkg/queue/sharedmain/handlers.go`, adminHandler).
 */
import { createServer } from 'node:http';
import { requirePort } from '../../core/checks.js';
import { DEFAULTS } from '../../core/defaults.js';
import { listen, urlFor } from '../../http/listen.js';
import { sendText } from '../../http/plain-text.js';
import type { Drainer } from '../contract/drainer.js';

/** The path a preStop hook calls: Knative's `RequestQueueDrainPath`. */
export const WAIT_FOR_DRAIN_PATH = '/wait-for-drain';

/**
 * How long after a `/wait-for-drain` call the sidecar must have been told to
 * terminate, in milliseconds; if it has not, the app container is being
 * restarted alone (a failed liveness probe), so the drain is reset (Knative: 1 s).
 */
const TERMINATION_EXPECTED_WITHIN_MS = 1000;

/** Longest time a client has to send a request head, in milliseconds (Knative's admin server: one minute). */
const HEADERS_TIMEOUT_MS = 60_000;

/** Options of {@link startAdminServer}. */
export interface AdminServerOptions {
  /** The proxy's drainer (`ProxyServer.drainer`). Required. */
  drainer: Pick<Drainer, 'drain' | 'reset'>;
  /** Whether the sidecar has been told to terminate (SIGTERM). Required. */
  terminating: () => boolean;
  /** TCP port; 0 picks a free one. Default 8022. */
  port?: number;
  /** Interface to bind. Default: all interfaces. */
  host?: string;
}

/** A running admin server. */
export interface AdminServer {
  /** The port actually bound. */
  readonly port: number;
  /** Base URL, e.g. `http://127.0.0.1:8022`. */
  readonly url: string;
  /** Stops listening and closes every connection; call it once the drain has ended. */
  close(): Promise<void>;
}

/**
 * Starts the admin server. A request for {@link WAIT_FOR_DRAIN_PATH} (any
 * method, any query) does what Knative's does: it starts the drain itself
 * (probes then answer 503), answers 200 with an empty body when the drain
 * ends, and, if the sidecar is not terminating 1 s after the call, resets
 * the drain, which answers it at once. Every other path gets 404.
 *
 * @throws ConfigError for a bad `port`
 * @throws PortInUseError (as a rejection) when the port is taken
 */
export async function startAdminServer(options: AdminServerOptions): Promise<AdminServer> {
  const port = requirePort('port', options.port ?? DEFAULTS.adminPort);
  const { drainer, terminating } = options;
  // requestTimeout 0: a wait for the drain is meant to last.
  const server = createServer({ requestTimeout: 0, headersTimeout: HEADERS_TIMEOUT_MS }, (request, response) => {
    if (request.url?.split('?', 1)[0] !== WAIT_FOR_DRAIN_PATH) {
      sendText(response, 404, 'not found\n');
      return;
    }
    setTimeout(() => {
      if (!terminating()) drainer.reset();
    }, TERMINATION_EXPECTED_WITHIN_MS).unref();
    void drainer.drain().then(() => sendText(response, 200, ''));
  });
  const boundPort = await listen(server, 'admin server', port, options.host);
  return {
    port: boundPort,
    url: urlFor(options.host, boundPort),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
