/**
 * The attributes of an HTTP server span by the stable HTTP semantic
 * conventions (opentelemetry semantic-conventions `docs/http/http-spans.md`):
 * the request's method, path, query, scheme, the server's address and port
 * from its `Host` (or `:authority`), the protocol version, the user agent
 * and the client's address. Pure.
 */
import type { Attributes } from '@opentelemetry/api';
import type { TracedRequest } from '../core/request-tracer.js';

/** The methods the conventions name; any other is recorded as `_OTHER`, its text in `http.request.method_original`. */
const KNOWN_METHODS: ReadonlySet<string> = new Set(['CONNECT', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT', 'QUERY', 'TRACE']);

/** The span name the conventions give a server span without a route: the method, or `HTTP` for one they do not name. */
export function serverSpanName(method: string): string {
  return KNOWN_METHODS.has(method) ? method : 'HTTP';
}

/** The host and port of an authority (`host`, `host:port`, `[v6]:port`); the port is undefined when absent or not a number. */
function splitAuthority(authority: string): { host: string; port: number | undefined } {
  const colon = authority.lastIndexOf(':');
  if (colon === -1 || authority.endsWith(']') || colon < authority.lastIndexOf(']')) return { host: authority, port: undefined };
  const port = Number(authority.slice(colon + 1));
  return { host: authority.slice(0, colon), port: Number.isInteger(port) && port > 0 && port <= 65535 ? port : undefined };
}

/** The attributes a server span gets at the request's arrival. */
export function requestAttributes(request: TracedRequest): Attributes {
  const attributes: Attributes = {};
  const method = request.method;
  if (KNOWN_METHODS.has(method)) attributes['http.request.method'] = method;
  else {
    attributes['http.request.method'] = '_OTHER';
    attributes['http.request.method_original'] = method;
  }
  const target = request.target;
  const question = target.indexOf('?');
  attributes['url.path'] = question === -1 ? target : target.slice(0, question);
  if (question !== -1) attributes['url.query'] = target.slice(question + 1);
  attributes['url.scheme'] = request.scheme;
  const authority = request.authority;
  if (authority !== undefined && authority !== '') {
    const { host, port } = splitAuthority(authority);
    attributes['server.address'] = host;
    if (port !== undefined) attributes['server.port'] = port;
  }
  attributes['network.protocol.version'] = request.protocolVersion;
  const userAgent = request.header('user-agent');
  if (userAgent !== undefined) attributes['user_agent.original'] = userAgent;
  if (request.clientAddress !== undefined) {
    attributes['client.address'] = request.clientAddress;
    attributes['network.peer.address'] = request.clientAddress;
  }
  if (request.clientPort !== undefined) attributes['network.peer.port'] = request.clientPort;
  return attributes;
}
