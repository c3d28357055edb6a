import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { requireHttpUrl, requireNonNegativeInteger, requirePort, requirePositiveInteger, requireTimeoutMs, requireTimeoutMsOrOff, requireUpstreamProtocol, requireWaitMs } from '../core/checks.js';
import { startTlsPort, type TlsPort } from './tls/tls-port.js';
import { tlsPortSettings } from './tls/tls-options.js';
import { Breaker } from '../core/breaker.js';
import { DEFAULTS, TIMEOUT_CHECK_INTERVAL_MS } from '../core/defaults.js';
import { listen, urlFor } from '../http/listen.js';
import { answerNetworkProbe, tcpReachable, TCP_PROBE_TIMEOUT_MS, type ProbeAnswer } from './contract/network-probe-answer.js';
import { Pool } from './upstream/undici-pool.js';
import { UpstreamDemand } from './upstream/upstream-demand.js';
import { sendText } from '../http/plain-text.js';
import { classifyRequest, NETWORK_PROBE_HEADER, RequestKind } from '../core/request-kind.js';
import { ProxyExchange, type ExchangeContext } from './http1/exchange.js';
import { RequestTimer } from './contract/request-timer.js';
import { LoggedRequests } from './contract/logged-requests.js';
import { afterEarlierResponses, closingResponse, tunnelUpgrade, UpgradeAnswer } from './http1/upgrade.js';
import { ClientConnections } from './connections/client-connections.js';
import { Drainer } from './contract/drainer.js';
import { ReadinessProber } from './admin/readiness-prober.js';
import { ConnectionRouter } from './connections/connection-router.js';
import { createH2Side } from './http2/h2-server.js';
import { H2cUpstream } from './upstream/h2c-upstream.js';
import { H1ToH2cExchange } from './http1/h1-to-h2c-exchange.js';
import type { ProxyOptions, ProxyServer } from './proxy-options.js';

export type { ProxyOptions, ProxyServer } from './proxy-options.js';

/** Longest wait for the upstream's TCP handshake, in milliseconds (undici's default); never longer than the revision timeout. */
const CONNECT_TIMEOUT_MS = 10_000;
/**
 * How long an idle upstream connection is kept, in milliseconds, when the
 * app's answer has no `Keep-Alive: timeout=` hint (undici's default); with
 * one, undici keeps it for the hint less 2 s, so that the app's own idle
 * close cannot race a reuse (Node apps say `timeout=5`: 3 s).
 */
const KEEP_ALIVE_TIMEOUT_MS = 4000;

/**
 * Starts the sidecar's reverse proxy: a `node:http` server that streams every
 * request to the upstream app over an undici pool of keep-alive HTTP/1.1
 * connections and streams the answer back, counting requests with
 * `tracker`. The same port takes HTTP/2 with prior knowledge (h2c): each
 * stream is one request, sent to the app over h2c (see `upstreamProtocol`). Node's parser reads every client request and undici frames
 * every upstream one; the body's framing comes from Node's parse, never from
 * header text (request-body.ts). Knative network probes
 * (`K-Network-Probe: queue`) are answered here: 200 when the app passes
 * `readinessProbe` (without one: accepts TCP connections), else 503, and 503
 * `shutting down` during a drain; so is `OPTIONS *` (200, as Go's `net/http`
 * server in Knative's queue-proxy answers it). HTTP/1.1 upgrades
 * (WebSocket) are tunnelled only when the app answers 101, and count as one
 * request while open. With `containerConcurrency` >= 1 a breaker limits the
 * requests at the app and queues the rest (see {@link ProxyOptions}).
 * Upstream unreachable: 502; a revision timeout before the response head:
 * 504; client gone: the upstream request is aborted (or leaves the queue). The
 * request target is forwarded verbatim (no `..` or percent-decoding).
 *
 * With `tls`, a TLS port serves the same (HTTP/1.1 and HTTP/2 by ALPN),
 * reloading its certificate when the files change.
 *
 * @throws ConfigError for a bad `upstream`, `port`, `timeoutMs`, `responseStartTimeoutMs`, `idleTimeoutMs`,
 *   `containerConcurrency`, `maxQueueDepth`, `connections`, `connectionWaitMs`, `requestBodyIdleTimeoutMs`, `maxConcurrentStreams`, `maxStreams`, `headersTimeoutMs`, `drainQuietPeriodMs`, `drainTimeoutMs`, `upgradeDrainTimeoutMs` or a `tls.` field
 * @throws CertificateError (a ConfigError, as a rejection) for a `tls.certFile` or `tls.keyFile` that cannot serve, naming the file
 * @throws PortInUseError (as a rejection) when the port is taken
 */
export async function startProxy(options: ProxyOptions): Promise<ProxyServer> {
  const upstream = requireHttpUrl('upstream', options.upstream, 'origin');
  const port = requirePort('port', options.port ?? DEFAULTS.proxyPort);
  const timeoutMs = requireTimeoutMs('timeoutMs', options.timeoutMs ?? DEFAULTS.timeoutMs);
  const timeouts = {
    totalMs: timeoutMs,
    responseStartMs: requireTimeoutMsOrOff('responseStartTimeoutMs', options.responseStartTimeoutMs ?? DEFAULTS.responseStartTimeoutMs),
    idleMs: requireTimeoutMsOrOff('idleTimeoutMs', options.idleTimeoutMs ?? DEFAULTS.idleTimeoutMs),
  };
  const containerConcurrency = requireNonNegativeInteger('containerConcurrency', options.containerConcurrency ?? DEFAULTS.containerConcurrency);
  const maxQueueDepth = options.maxQueueDepth === undefined ? undefined : requirePositiveInteger('maxQueueDepth', options.maxQueueDepth);
  const breaker = containerConcurrency === 0 ? undefined : new Breaker(containerConcurrency, maxQueueDepth ?? DEFAULTS.queueDepthPerSlot * containerConcurrency);
  const connections = options.connections === undefined ? undefined : requirePositiveInteger('connections', options.connections);
  const requestBodyIdleMs = requireTimeoutMsOrOff('requestBodyIdleTimeoutMs', options.requestBodyIdleTimeoutMs ?? DEFAULTS.requestBodyIdleTimeoutMs);
  const connectionWaitMs = requireTimeoutMs('connectionWaitMs', options.connectionWaitMs ?? DEFAULTS.connectionWaitMs);
  const headersTimeoutMs = requirePositiveInteger('headersTimeoutMs', options.headersTimeoutMs ?? DEFAULTS.headersTimeoutMs);
  const tracker = options.tracker;
  const h2Limits = {
    maxConcurrentStreams: requirePositiveInteger('maxConcurrentStreams', options.maxConcurrentStreams ?? DEFAULTS.maxConcurrentStreams),
    maxStreams: requirePositiveInteger('maxStreams', options.maxStreams ?? DEFAULTS.maxStreams),
    headersTimeoutMs,
  };
  const drainTimeoutMs = requireWaitMs('drainTimeoutMs', options.drainTimeoutMs ?? DEFAULTS.drainTimeoutMs);
  const upgradeDrainTimeoutMs = requireWaitMs('upgradeDrainTimeoutMs', options.upgradeDrainTimeoutMs ?? DEFAULTS.upgradeDrainTimeoutMs);
  const upstreamProtocol = requireUpstreamProtocol('upstreamProtocol', options.upstreamProtocol ?? DEFAULTS.upstreamProtocol);
  const tlsSettings = options.tls === undefined ? undefined : tlsPortSettings(options.tls, options.host, headersTimeoutMs);
  const drainer = new Drainer(requireWaitMs('drainQuietPeriodMs', options.drainQuietPeriodMs ?? DEFAULTS.drainQuietPeriodMs), drainTimeoutMs);
  const target = {
    host: upstream.hostname.startsWith('[') ? upstream.hostname.slice(1, -1) : upstream.hostname,
    port: upstream.port === '' ? 80 : Number(upstream.port),
  };
  // No headers or body timeout of undici's own: the exchange's revision timeouts count from the request's arrival,
  // and a slow stream (server-sent events) is an error only past them.
  const demand = new UpstreamDemand(Math.min(CONNECT_TIMEOUT_MS, timeoutMs));
  // No cap by default, as Go's transport in Knative's queue-proxy: every request in flight holds a client connection
  // (or, over HTTP/2, one of a bounded number of streams), so the client side already bounds the upstream one.
  const pool = new Pool(upstream.origin, {
    connections: connections ?? null,
    pipelining: 1,
    connect: demand.connect,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    headersTimeout: 0,
    bodyTimeout: 0,
  });
  // requestTimeout 0: a long streaming upload is not an attack. Slow headers are cut by headersTimeout, which Node
  // applies on its own when requestTimeout is 0; idle kept-alive connections by Node's keepAliveTimeout (5 s).
  const server = createServer({
    requestTimeout: 0,
    headersTimeout: headersTimeoutMs,
    connectionsCheckingInterval: Math.min(TIMEOUT_CHECK_INTERVAL_MS, headersTimeoutMs),
  });
  const context: ExchangeContext = {
    pool,
    demand,
    connectionWaitMs: connections === undefined ? 0 : connectionWaitMs,
    requestBodyIdleMs,
    timeouts,
    breaker,
    requestTimer: options.observer === undefined ? undefined : new RequestTimer(options.observer),
    tracer: options.tracer,
    draining: false,
    closeIdleConnections: () => server.closeIdleConnections(),
  };
  const prober = options.readinessProbe === undefined ? undefined : new ReadinessProber(options.readinessProbe, target);
  const upstreamReady = (): Promise<boolean> => prober?.check() ?? tcpReachable(target.host, target.port, Math.min(TCP_PROBE_TIMEOUT_MS, timeoutMs));
  // Kubelet probes are forwarded to the app, except while draining, when Knative's drainer answers them 503.
  const answeredHere = (kind: RequestKind): boolean => kind === RequestKind.NetworkProbe || (kind === RequestKind.KubeletProbe && drainer.draining);
  const answerProbe = (value: string | string[] | undefined): Promise<ProbeAnswer> => answerNetworkProbe(value, upstreamReady, drainer.draining);

  const h2c = upstreamProtocol === 'http1' ? undefined : new H2cUpstream(upstream.origin);
  // With `h2c` every HTTP/1.1 request goes to the app as an h2c stream too (HTTP/2 ones always do, except with `http1`).
  const h1OverH2c = upstreamProtocol === 'h2c' ? h2c : undefined;
  const loggedRequests = options.requestLog === undefined ? undefined : new LoggedRequests(options.requestLog, options.logProbeRequests ?? false);
  const onRequest: RequestListener = (request: IncomingMessage, response: ServerResponse) => {
    const kind = tracker === undefined ? classifyRequest(request.rawHeaders) : tracker.track(request, response);
    loggedRequests?.request(kind, request, response);
    if (!answeredHere(kind)) {
      if (request.url === '*' && request.method === 'OPTIONS') sendText(response, 200, '');
      else {
        drainer.requestArrived();
        if (h1OverH2c === undefined) ProxyExchange.start(context, request, response, kind === RequestKind.KubeletProbe);
        else H1ToH2cExchange.start(context, h1OverH2c, request, response, kind === RequestKind.KubeletProbe);
      }
      return;
    }
    void answerProbe(request.headers[NETWORK_PROBE_HEADER]).then(({ status, body }) => {
      if (context.draining) response.shouldKeepAlive = false;
      sendText(response, status, body);
    });
  };
  server.on('request', onRequest);
  const h2Context = h2c === undefined ? undefined : { upstream: h2c, timeouts, breaker, requestTimer: context.requestTimer, tracer: options.tracer, requestBodyIdleMs };
  const h2 = createH2Side({ tracker, drainer, answeredHere, answerProbe, loggedRequests }, h2Limits, h2Context, onRequest);
  new ConnectionRouter(server, h2.server, headersTimeoutMs);
  const clients = new ClientConnections(server);

  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const kind = tracker === undefined ? classifyRequest(request.rawHeaders) : tracker.trackUpgrade(request, socket);
    const answer = new UpgradeAnswer();
    loggedRequests?.upgrade(kind, request, socket, answer);
    if (!answeredHere(kind)) {
      drainer.requestArrived();
      clients.tunnelOpened(socket);
      tunnelUpgrade(context, request, socket, head, kind === RequestKind.KubeletProbe, answer);
      return;
    }
    socket.on('error', () => socket.destroy());
    void answerProbe(request.headers[NETWORK_PROBE_HEADER]).then(({ status, body }) => {
      afterEarlierResponses(socket, () => sendText(closingResponse(request, socket, answer), status, body));
    });
  });

  let boundPort: number;
  let tlsPort: TlsPort | undefined;
  try {
    boundPort = await listen(server, 'proxy', port, options.host);
    // A TLS connection, once its handshake is done, goes where a plain one goes: the router, then Node's HTTP/1.1
    // server or the HTTP/2 side (documented: 'connection' may be emitted to inject a connection).
    if (tlsSettings !== undefined) tlsPort = await startTlsPort(tlsSettings, (socket) => server.emit('connection', socket));
  } catch (error) {
    server.close();
    void pool.destroy();
    h2c?.destroy();
    throw error;
  }

  let draining: Promise<void> | undefined;
  let closing: Promise<void> | undefined;
  const closeWithin = (requestsMs: number, tunnelsMs: number): Promise<void> => {
    context.draining = true;
    if (closing === undefined) h2.closeSessions();
    closing ??= Promise.all([clients.close(requestsMs, tunnelsMs), tlsPort?.close()]).then(() => {
      h2c?.destroy();
      return pool.destroy();
    });
    return closing;
  };
  const proxy: ProxyServer = {
    port: boundPort,
    url: urlFor(options.host, boundPort),
    tls: tlsPort === undefined ? undefined : { port: tlsPort.port, url: tlsPort.url },
    breaker,
    drainer,
    drain() {
      draining ??= drainer.drain().then(() => closeWithin(drainTimeoutMs, upgradeDrainTimeoutMs));
      return draining;
    },
    close(drainTimeoutMs = DEFAULTS.drainTimeoutMs) {
      try {
        requireWaitMs('drainTimeoutMs', drainTimeoutMs);
      } catch (error) {
        return Promise.reject(error);
      }
      return closeWithin(drainTimeoutMs, drainTimeoutMs);
    },
  };
  return proxy;
}
