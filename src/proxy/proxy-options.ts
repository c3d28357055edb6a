/**
 * The options of the sidecar's reverse proxy and what a running one offers:
 * the types of startProxy (proxy.ts), apart from its wiring.
 */
import type { BreakerReadings } from '../core/breaker.js';
import type { UpstreamProtocol } from '../core/checks.js';
import type { ReadinessProbeSpec } from '../core/readiness-probe.js';
import type { RequestObserver } from '../core/request-observer.js';
import type { RequestTracer } from '../core/request-tracer.js';
import type { RequestTracker } from '../tracking/tracker.js';
import type { Drainer } from './contract/drainer.js';
import type { ProxyTlsOptions } from './tls/tls-options.js';

/** Options of `startProxy`. */
export interface ProxyOptions {
  /** Base URL of the app, e.g. `http://127.0.0.1:8080`: `http:` only, no path, query or credentials. Required. */
  upstream: string;
  /** TCP port to serve on; 0 picks a free one. Default 8012 (Knative's queue-proxy serving port). */
  port?: number;
  /** Interface to bind. Default: all interfaces. */
  host?: string;
  /** Counts the proxied requests. Absent: nothing is counted at all. */
  tracker?: RequestTracker;
  /**
   * Revision timeout in milliseconds (Knative's `REVISION_TIMEOUT_SECONDS`):
   * the longest an exchange may take from the request's arrival (time in the
   * breaker's queue and waiting for an upstream connection included) to the
   * response's end. Past it, before the response head: 504; after it, a
   * chunked response ends with the timeout text (as Knative's does) and any
   * other is cut short; an open upgrade tunnel is closed. An integer from 1
   * to 2147483647 (the longest delay Node's timers take). Default 300000.
   */
  timeoutMs?: number;
  /**
   * Milliseconds from arrival to the response head (Knative's
   * `REVISION_RESPONSE_START_TIMEOUT_SECONDS`); past it with no head: 504.
   * Ignored once the head is out (an open upgrade tunnel included). 0 (the
   * default): off. At most 2147483647.
   */
  responseStartTimeoutMs?: number;
  /**
   * Longest silence of the response, in milliseconds (Knative's
   * `REVISION_IDLE_TIMEOUT_SECONDS`): counted from arrival, then from each
   * write of the head or a body chunk; past it, the same as `timeoutMs`. Not
   * applied to an open upgrade tunnel. 0 (the default): off. At most 2147483647.
   */
  idleTimeoutMs?: number;
  /**
   * Most requests at the app at once (Knative's `CONTAINER_CONCURRENCY`);
   * further ones wait in a FIFO queue of `maxQueueDepth`, and one more gets a
   * 503 (`pending request queue full`). Counted requests and upgrades go
   * through it; kubelet probes and network probes do not. 0 (the default):
   * no limit, no queue.
   */
  containerConcurrency?: number;
  /**
   * Longest silence of a request body while it comes in, in milliseconds:
   * past it with no new byte, the upstream request is aborted and the
   * client answered 408 (`request body timed out`; its HTTP/1.1 connection
   * is closed), or its response cut short if it had started. Counted from
   * the moment the request goes to the app, then from each chunk of the
   * body. 0 (the default): no bound, as Knative's queue-proxy has none;
   * the revision timeout still bounds the whole exchange. At most 2147483647.
   */
  requestBodyIdleTimeoutMs?: number;
  /** Most requests waiting for a slot when `containerConcurrency` >= 1. Default 10 x `containerConcurrency`, as Knative sets it. */
  maxQueueDepth?: number;
  /**
   * Most connections open to the upstream at once; further requests wait for
   * one up to `connectionWaitMs`. Absent (the default): no cap, as Go's
   * transport in Knative's queue-proxy has none; each request at the app
   * then holds a client connection or one of `maxStreams` HTTP/2 streams,
   * which bound the upstream connections in turn.
   */
  connections?: number;
  /**
   * With `connections`: the longest a request waits for an upstream
   * connection (the TCP handshake included), in milliseconds, before the
   * proxy answers it 503 (`no upstream connection available`), counted and
   * timed as any answer. An integer from 1 to 2147483647. Default 1000.
   */
  connectionWaitMs?: number;
  /**
   * Most streams one HTTP/2 client connection may have open at once: the
   * `SETTINGS_MAX_CONCURRENT_STREAMS` the proxy advertises, which nghttp2
   * enforces (a stream past it is reset before it is parsed further).
   * Default 250, Go's HTTP/2 server's (and so Knative's queue-proxy's).
   */
  maxConcurrentStreams?: number;
  /**
   * Most HTTP/2 streams open at once on all client connections together, so
   * that a client opening many connections cannot take more than that; one
   * more stream is reset with `REFUSED_STREAM` (the client may retry it)
   * before it is counted or forwarded. Default 1024.
   */
  maxStreams?: number;
  /**
   * Milliseconds a client has to send a whole request head (request line and
   * headers), counted from the moment the connection opens or, on a kept-alive
   * connection, from the first byte of each further request. A slower client
   * (slowloris) gets a 408 and is disconnected before its request reaches the
   * tracker. Checked every second, or every `headersTimeoutMs` if shorter.
   * A connection that sends nothing at all (or only part of the HTTP/2
   * preface) for this long gets the same 408. Default 10000.
   */
  headersTimeoutMs?: number;
  /**
   * Told the status and duration of every request sent to the app when its
   * response closes, timed from the moment it left the breaker's queue (or
   * arrived, without a limit), as Knative's request metrics are; requests
   * refused by the breaker or timed out in its queue, upgrades, probes and
   * `OPTIONS *` are left out. Absent: nothing is timed.
   */
  observer?: RequestObserver;
  /**
   * Traces every request sent to the app over HTTP/1.1, h2c or gRPC: a span
   * from its arrival to the close of its response, told of its wait in the
   * breaker's queue, whose trace context goes to the app in place of the
   * client's. Kubelet and network probes, `OPTIONS *` and upgrades are left
   * out. Absent (the default): nothing is traced and nothing of it runs.
   */
  tracer?: RequestTracer;
  /**
   * Told of every request the proxy's port received (HTTP/1.1, h2c and gRPC), when its response closes, with the
   * response body's bytes, timed from its arrival: where Knative's queue-proxy puts its request log, in front of
   * every other handler, so that requests refused by the breaker, timed out or answered by the sidecar are told
   * too; upgrades are not. Probes only with `logProbeRequests`. Absent: nothing is timed.
   */
  requestLog?: RequestObserver;
  /** Whether `requestLog` is told of probe requests too (Knative's `enableProbeRequestLog`). Default false. */
  logProbeRequests?: boolean;
  /**
   * The app's readiness probe (parse Knative's `SERVING_READINESS_PROBE` with
   * `parseReadinessProbe`): network probes are answered from it. Absent: from a
   * TCP connect to the upstream.
   */
  readinessProbe?: ReadinessProbeSpec;
  /** Milliseconds without a new request that end a {@link ProxyServer.drain}. Default 30000 (Knative's). From 0 to 2147483647. */
  drainQuietPeriodMs?: number;
  /**
   * Bound of each phase of {@link ProxyServer.drain}, in milliseconds: the
   * quiet period ends after this long even while requests keep restarting it,
   * and the close then gives what is in flight this long. Default 30000. From 0 to 2147483647.
   */
  drainTimeoutMs?: number;
  /**
   * Milliseconds upgraded connections (WebSocket tunnels) get at the close
   * that ends a {@link ProxyServer.drain}, counted from that close, before
   * they are cut: their own bound, as Knative's queue-proxy gives hijacked
   * connections theirs. Default 60000 (Knative's). From 0 to 2147483647.
   */
  upgradeDrainTimeoutMs?: number;
  /**
   * How requests go to the app. The port serves HTTP/1.1 and HTTP/2 with
   * prior knowledge (h2c) either way. `auto` (the default, as Knative's
   * queue-proxy): each HTTP/2 stream goes to the app as an h2c stream over a
   * few multiplexed sessions, each HTTP/1.1 request over HTTP/1.1. `http1`:
   * every request, HTTP/2 ones too, goes over HTTP/1.1 (an app that speaks
   * nothing else). `h2c`: every request, HTTP/1.1 ones too, goes over h2c
   * (an app that speaks only HTTP/2); HTTP/1.1 upgrades still go over HTTP/1.1.
   */
  upstreamProtocol?: UpstreamProtocol;
  /**
   * Also serve HTTPS on a port of its own, as Knative's queue-proxy does on
   * `QUEUE_SERVING_TLS_PORT` when system-internal TLS mounts its certificate.
   * Absent (the default): no TLS port.
   */
  tls?: ProxyTlsOptions;
}

/** A running proxy. */
export interface ProxyServer {
  /** The port actually bound (useful with `port: 0`). */
  readonly port: number;
  /** Base URL of the proxy, e.g. `http://127.0.0.1:8012`. */
  readonly url: string;
  /** The TLS port, when {@link ProxyOptions.tls} is set: the port bound and its `https://` URL. */
  readonly tls: { readonly port: number; readonly url: string } | undefined;
  /** The concurrency limit's load, read live: requests at the app, waiting, and the time they waited. `undefined` without a limit (`containerConcurrency` 0). */
  readonly breaker: BreakerReadings | undefined;
  /**
   * Stops accepting connections and closes idle ones at once, lets requests
   * in flight (and upgraded connections) finish for up to `drainTimeoutMs`
   * milliseconds (default 30000), then destroys what is left and closes the
   * upstream connections. Idempotent: later calls (and a later drain's
   * close) return the first promise.
   *
   * @throws ConfigError (as a rejection) if `drainTimeoutMs` is not a number from 0 to 2147483647
   */
  close(drainTimeoutMs?: number): Promise<void>;
  /**
   * The quiet period of the drain: `drainer.drain()` starts it (network and
   * kubelet probes then answer 503 `shutting down` while requests are still
   * proxied, each restarting it) and resolves when it ends; `drainer.reset()`
   * ends it early and lets probes pass again. The admin server's
   * `/wait-for-drain` waits on it.
   */
  readonly drainer: Drainer;
  /**
   * The shutdown Knative's queue-proxy performs on SIGTERM: starts the quiet
   * period (if `/wait-for-drain` has not), waits for it to end, then
   * closes as {@link ProxyServer.close} does with `drainTimeoutMs`, except
   * that open upgrade tunnels get `upgradeDrainTimeoutMs`. Idempotent.
   */
  drain(): Promise<void>;
}
