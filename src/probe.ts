import type { IncomingHttpHeaders } from 'node:http';

/** How a request counts for the autoscaling stats. */
export enum RequestKind {
  /** An ordinary request: counted. */
  Direct = 0,
  /** Came through Knative's activator (`K-Proxy-Request: activator`): counted, and counted as proxied. */
  Proxied = 1,
  /** Knative's network probe (`K-Network-Probe` header): answered by the sidecar, never counted. */
  NetworkProbe = 2,
  /** A kubelet probe (User-Agent `kube-probe/...` or a `K-Kubelet-Probe` header): forwarded, never counted. */
  KubeletProbe = 3,
}

/** Header whose presence marks Knative's network probe. */
export const NETWORK_PROBE_HEADER = 'k-network-probe';

/**
 * Classifies a request by its headers as Knative's queue-proxy does. Header
 * names are matched in any case (Node lowercases them); the proxy header's
 * value must be exactly `activator`.
 */
export function classifyRequest(headers: IncomingHttpHeaders): RequestKind {
  if (headers[NETWORK_PROBE_HEADER] !== undefined) return RequestKind.NetworkProbe;
  if (headers['k-kubelet-probe'] !== undefined) return RequestKind.KubeletProbe;
  const userAgent = headers['user-agent'];
  if (userAgent !== undefined && userAgent.startsWith('kube-probe/')) return RequestKind.KubeletProbe;
  return headers['k-proxy-request'] === 'activator' ? RequestKind.Proxied : RequestKind.Direct;
}
