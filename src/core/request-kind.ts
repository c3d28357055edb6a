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

/** Header whose presence marks Knative's network probe (lower case, as Node parses it). */
export const NETWORK_PROBE_HEADER = 'k-network-probe';

// The three K- headers share this length, and User-Agent has its own, so
// most header names are passed over without lower-casing (no allocation).
const K_HEADER_LENGTH = NETWORK_PROBE_HEADER.length;
const USER_AGENT_LENGTH = 'user-agent'.length;

/**
 * Classifies a request by its headers as Knative's queue-proxy does. Header
 * names match in any case; the proxy header's value must be exactly
 * `activator`. Takes Node's `request.rawHeaders` (name, value, name,
 * value...): reading `request.headers` would make Node build the parsed
 * header object for every request, which costs more than the rest of the
 * tracking together.
 */
export function classifyRequest(rawHeaders: readonly string[]): RequestKind {
  let kind = RequestKind.Direct;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const length = rawHeaders[i]!.length;
    if (length !== K_HEADER_LENGTH && length !== USER_AGENT_LENGTH) continue;
    const name = rawHeaders[i]!.toLowerCase();
    if (name === NETWORK_PROBE_HEADER) return RequestKind.NetworkProbe;
    if (name === 'k-kubelet-probe') kind = RequestKind.KubeletProbe;
    else if (name === 'user-agent' && rawHeaders[i + 1]!.startsWith('kube-probe/')) kind = RequestKind.KubeletProbe;
    else if (name === 'k-proxy-request' && kind === RequestKind.Direct && rawHeaders[i + 1] === 'activator') kind = RequestKind.Proxied;
  }
  return kind;
}

/** A headers object as Node's `http2` gives it: lower-case names, repeated fields as arrays or joined. */
export type HeadersObject = Readonly<Record<string, string | readonly string[] | undefined>>;

/**
 * Classifies a request by a headers object as {@link classifyRequest} does by
 * the raw list: for an HTTP/2 stream announced with its headers object only
 * (Node's `http2.server.stream.start` channel). HTTP/2 field names are lower
 * case (RFC 9113, 8.2.1), so the names are looked up directly. A repeated
 * User-Agent or K-Proxy-Request counts by its first value, as Knative's
 * `Header.Get` reads it.
 */
export function classifyHeaders(headers: HeadersObject): RequestKind {
  if (headers[NETWORK_PROBE_HEADER] !== undefined) return RequestKind.NetworkProbe;
  if (headers['k-kubelet-probe'] !== undefined || firstValue(headers['user-agent'])?.startsWith('kube-probe/') === true) return RequestKind.KubeletProbe;
  return firstValue(headers['k-proxy-request']) === 'activator' ? RequestKind.Proxied : RequestKind.Direct;
}

function firstValue(value: string | readonly string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : value?.[0];
}
