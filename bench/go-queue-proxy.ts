/**
 * The Go queue-proxy anchor: a Knative-style queue-proxy data path
 * (httputil.ReverseProxy, Knative's RequestStats, a client_golang reporter)
 * built by hand, outside this repository, as
 * /work/shared/anchors/go-queue-proxy/README.md describes.
 */
import { isExecutable, nodeEntry } from './child.js';
import type { ProxyKind } from './proxies.js';

/** Where the anchor binary is expected. */
export const GO_QUEUE_PROXY_PATH = '/tmp/go-queue-proxy';

/** The result cell of every anchor row when {@link GO_QUEUE_PROXY_PATH} is absent. */
export const GO_QUEUE_PROXY_MISSING = 'n/a (build it as shared/anchors/go-queue-proxy/README.md says)';

/** The table's description of the anchor. */
export const GO_QUEUE_PROXY_SUBJECT = 'Go queue-proxy anchor: httputil.ReverseProxy + RequestStats + client_golang, GOMAXPROCS=1';

/**
 * The anchor as a proxy kind, its metrics on 127.0.0.1:`metricsPort`, or
 * `undefined` when {@link GO_QUEUE_PROXY_PATH} is not an executable.
 * GOMAXPROCS=1, as the README says: Knative gives the queue-proxy a small
 * CPU request, and two Go threads on this 2-core machine fight the load
 * client for the cores.
 */
export function goQueueProxyKind(metricsPort: number): ProxyKind | undefined {
  if (!isExecutable(GO_QUEUE_PROXY_PATH)) return undefined;
  return {
    name: 'go queue-proxy',
    subject: GO_QUEUE_PROXY_SUBJECT,
    // Under guard.js, so it dies with the runner; env(1) execs the binary, which therefore holds the port itself.
    launch: (port, appPort) => ({
      command: nodeEntry('./guard.js', [
        '/usr/bin/env',
        'GOMAXPROCS=1',
        GO_QUEUE_PROXY_PATH,
        ...['-listen', `127.0.0.1:${port}`, '-metrics', `127.0.0.1:${metricsPort}`, '-upstream', `http://127.0.0.1:${appPort}`],
      ]),
    }),
  };
}
