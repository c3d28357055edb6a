/**
 * The sidecar's answer to Knative's network probe: the proxy answers a
 * `K-Network-Probe` request itself, from the app's readiness probe (or a TCP
 * check of the app without one), instead of forwarding it. Which requests are network probes is decided in
 * core/request-kind.ts.
 */
import { connect } from 'node:net';

/** The `K-Network-Probe` value the sidecar answers: the queue-proxy's own name in Knative. */
export const NETWORK_PROBE_VALUE = 'queue';

/** How long a readiness check without a readiness probe waits for the upstream's TCP handshake, in milliseconds. */
export const TCP_PROBE_TIMEOUT_MS = 1000;

/** The sidecar's answer to a network probe. */
export interface ProbeAnswer {
  /** 200 ready, 503 upstream not ready or sidecar draining, 400 unexpected header value. */
  status: number;
  /** Short plain-text body. */
  body: string;
}

/**
 * Resolves true when `host:port` completes a TCP handshake within
 * `timeoutMs` milliseconds, false on any error or on timeout. Never rejects.
 */
export function tcpReachable(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: timeoutMs });
    const settle = (reachable: boolean): void => {
      socket.destroy();
      resolve(reachable);
    };
    socket.once('connect', () => settle(true));
    socket.once('timeout', () => settle(false));
    socket.once('error', () => settle(false));
  });
}

/**
 * Answers Knative's network probe as the queue-proxy does: while the sidecar
 * drains, 503 `shutting down` whatever the value (kubelet probes get the same,
 * knative/pkg `network/handlers/drain.go`); otherwise the header value must be
 * `queue` (else 400 naming the value), then 200 with body `queue` when
 * `ready()` resolves true, 503 otherwise.
 *
 * @param value - the `K-Network-Probe` header as Node parsed it
 * @param ready - checks the upstream; must not reject
 * @param draining - whether the sidecar is draining
 */
export async function answerNetworkProbe(value: string | string[] | undefined, ready: () => Promise<boolean>, draining: boolean): Promise<ProbeAnswer> {
  if (draining) return { status: 503, body: 'shutting down\n' };
  if (value !== NETWORK_PROBE_VALUE) {
    return { status: 400, body: `unexpected probe header value: ${String(value)}\n` };
  }
  return (await ready()) ? { status: 200, body: NETWORK_PROBE_VALUE } : { status: 503, body: 'upstream not ready\n' };
}
