/**
 * The RFC 7239 `Forwarded` value Knative's queue-proxy derives from the
 * `X-Forwarded-*` headers (knative/serving `pkg/queue/forwarded_shim.go`),
 * for apps that read only the standard header. Pure.
 */

/**
 * One `X-Forwarded-For` hop as a `Forwarded` node: trimmed, and quoted in
 * brackets when it holds a `:` (Knative's test for an IPv6 address, which an
 * IPv4 `address:port` also passes).
 */
function node(hop: string): string {
  const trimmed = hop.trim();
  return trimmed.includes(':') ? `"[${trimmed}]"` : trimmed;
}

/**
 * Builds the `Forwarded` value from the first line of each `X-Forwarded-*`
 * header, as Knative does: the first hop of `forwardedFor` goes into one
 * element with `host=` (from `forwardedHost`) and `proto=` (from
 * `forwardedProto`), each when not empty, joined by `;`; every further hop
 * becomes a `for=` element of its own; elements are joined by `, `.
 * `X-Forwarded-By` plays no part. Empty hops are kept as Knative keeps them
 * (`a,,b` gives `for=a, for=, for=b`).
 *
 * @param forwardedFor - the first `X-Forwarded-For` line, or undefined
 * @param forwardedHost - the first `X-Forwarded-Host` line, or undefined
 * @param forwardedProto - the first `X-Forwarded-Proto` line, or undefined
 * @returns the value, or `''` when there is nothing to say (then no header is added)
 */
export function forwardedFromXForwarded(forwardedFor: string | undefined, forwardedHost: string | undefined, forwardedProto: string | undefined): string {
  if (forwardedFor === undefined && forwardedHost === undefined && forwardedProto === undefined) return '';
  const hops = (forwardedFor ?? '').split(',');
  const pairs: string[] = [];
  const first = node(hops[0]!);
  if (first !== '') pairs.push(`for=${first}`);
  const host = forwardedHost?.trim() ?? '';
  if (host !== '') pairs.push(`host=${host}`);
  const proto = forwardedProto?.trim() ?? '';
  if (proto !== '') pairs.push(`proto=${proto}`);
  const elements = [pairs.join(';')];
  for (let i = 1; i < hops.length; i++) elements.push(`for=${node(hops[i]!)}`);
  return elements.join(', ');
}
