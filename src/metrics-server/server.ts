import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { diag } from '@opentelemetry/api';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { defaultResource, resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import { MeterProvider, type IMetricReader } from '@opentelemetry/sdk-metrics';
import { ConfigError } from '../core/errors.js';
import { requirePort, requirePositiveInteger } from '../core/checks.js';
import { DEFAULTS, TIMEOUT_CHECK_INTERVAL_MS } from '../core/defaults.js';
import { listen, urlFor } from '../http/listen.js';
import { markUntracked } from '../http/untracked-server.js';
import { firstRawHeaderValue } from '../core/raw-headers.js';
import { Scrape } from './scrape.js';
import { PROTOBUF_MEDIA_TYPE } from './media-types.js';

/** Options of {@link startMetricsServer}. */
export interface MetricsServerOptions {
  /** TCP port; 0 picks a free one. Default 9090 (Knative's autoscaling metrics port). */
  port?: number;
  /** Interface to bind. Default: all interfaces. */
  host?: string;
  /** Path that serves the metrics. Default `/metrics`. */
  endpoint?: string;
  /** Resource describing this process; shown as `target_info`. Default: the SDK's default resource. */
  resource?: Resource;
  /** Attributes merged over `resource` (or over the default resource). */
  resourceAttributes?: Record<string, string>;
  /** Serve the `target_info` family. Default true. */
  withTargetInfo?: boolean;
  /** Add `otel_scope_name`/`otel_scope_version` labels to every series. Default false, so series match client_golang's. */
  withScopeLabels?: boolean;
  /** Further readers for the same MeterProvider, e.g. a periodic OTLP reader. */
  readers?: IMetricReader[];
  /**
   * Milliseconds a client has to send a whole scrape request, from the
   * moment its connection opens or, on a kept-alive connection, from the
   * first byte of each further request; a slower one gets a 408 and is
   * disconnected, so idle half-sent requests cannot pile up. Checked every
   * second, or every `requestTimeoutMs` if shorter. Default 10000.
   */
  requestTimeoutMs?: number;
  /**
   * Answer a scrape whose `Accept` asks for `application/protobuf` with
   * Knative's protobuf `Stat`. Default true; false always answers text (an
   * endpoint without the autoscaler's gauges).
   */
  protobufStat?: boolean;
  /**
   * Let the process exit while the server listens: its listening socket and
   * scrape connections do not keep Node's event loop alive (the `--import`
   * register mode must never keep the app's process up). Default false.
   */
  unref?: boolean;
}

/** A running metrics server. */
export interface MetricsServer {
  /** The MeterProvider whose metrics are served; get meters from it. */
  readonly meterProvider: MeterProvider;
  /** The port actually bound (useful with `port: 0`). */
  readonly port: number;
  /** Full URL of the metrics endpoint, e.g. `http://127.0.0.1:9090/metrics`. */
  readonly url: string;
  /** Stops accepting scrapes, then shuts the MeterProvider (and its readers) down. Idempotent. */
  close(): Promise<void>;
}

/** Content-Type of the text answer: Prometheus text format 0.0.4, as client_golang sends it. */
export const TEXT_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

function pathOf(url: string | undefined): string {
  if (url === undefined) return '';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

/**
 * True when the first `Accept` header asks for protobuf, matched as Knative's
 * queue-proxy matches it: a substring of Go's `Header.Get("Accept")`, which
 * is the first `Accept` line only (Node would join repeated lines).
 */
function wantsProtobuf(request: IncomingMessage): boolean {
  return firstRawHeaderValue(request.rawHeaders, 'accept')?.includes(PROTOBUF_MEDIA_TYPE) === true;
}

/**
 * Builds a MeterProvider read by the OTel PrometheusExporter and serves it on
 * our own `node:http` server. We do not use the exporter's own request
 * handler: it always answers `text/plain` without a version, ignores
 * `Accept`, and collects once per request, while this server answers with
 * the 0.0.4 content type, serves Knative's protobuf `Stat` from the same
 * collection, and lets concurrent scrapes share one collection.
 *
 * `GET`/`HEAD` on the endpoint answer 200; other paths 404; other methods 405.
 *
 * @throws ConfigError for a bad `port`, `endpoint` or `requestTimeoutMs`
 * @throws PortInUseError when the port is taken
 */
export async function startMetricsServer(options: MetricsServerOptions = {}): Promise<MetricsServer> {
  const port = requirePort('port', options.port ?? DEFAULTS.metricsPort);
  const requestTimeoutMs = requirePositiveInteger('requestTimeoutMs', options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs);
  const endpoint = options.endpoint ?? DEFAULTS.metricsEndpoint;
  const protobufStat = options.protobufStat !== false;
  if (typeof endpoint !== 'string' || !endpoint.startsWith('/')) {
    throw new ConfigError('endpoint', `endpoint must be a path starting with "/", got ${String(endpoint)}`);
  }
  const exporter = new PrometheusExporter({ preventServerStart: true });
  const serializer = new PrometheusSerializer(undefined, false, undefined, options.withTargetInfo === false, options.withScopeLabels !== true);
  let resource = options.resource ?? defaultResource();
  if (options.resourceAttributes !== undefined) {
    resource = resource.merge(resourceFromAttributes(options.resourceAttributes));
  }
  const meterProvider = new MeterProvider({ resource, readers: [exporter, ...(options.readers ?? [])] });

  // Scrapes that arrive while a collection is under way share it.
  let pending: Promise<Scrape> | undefined;
  const collect = (): Promise<Scrape> => {
    pending ??= exporter.collect().then(
      ({ resourceMetrics, errors }) => {
        pending = undefined;
        if (errors.length > 0) diag.error('metrics collection errors', ...errors);
        return new Scrape(resourceMetrics, serializer);
      },
      (error: unknown) => {
        pending = undefined;
        throw error;
      },
    );
    return pending;
  };

  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    if (pathOf(request.url) !== endpoint) {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
      return;
    }
    const protobuf = protobufStat && wantsProtobuf(request);
    collect()
      .then<string | Uint8Array>((scrape) => (protobuf ? scrape.toProtobuf() : scrape.toText()))
      .then(
        (body) => {
          response.writeHead(200, {
            'content-type': protobuf ? PROTOBUF_MEDIA_TYPE : TEXT_CONTENT_TYPE,
            'content-length': typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength,
          });
          response.end(request.method === 'HEAD' ? undefined : body);
        },
        (error: unknown) => {
          diag.error('metrics collection failed', error);
          response.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' }).end('metrics collection failed\n');
        },
      );
  };

  // Node's defaults (60 s for a head, 300 s for a request, checked every 30 s) suit uploads, not scrapes.
  const server = createServer(
    {
      requestTimeout: requestTimeoutMs,
      headersTimeout: requestTimeoutMs,
      connectionsCheckingInterval: Math.min(TIMEOUT_CHECK_INTERVAL_MS, requestTimeoutMs),
    },
    handle,
  );
  // In-process tracking (the register mode) must not count scrapes as the app's requests.
  markUntracked(server);
  if (options.unref === true) {
    server.unref();
    server.on('connection', (socket) => socket.unref());
  }
  let boundPort: number;
  try {
    boundPort = await listen(server, 'metrics server', port, options.host);
  } catch (error) {
    await meterProvider.shutdown();
    throw error;
  }
  let closing: Promise<void> | undefined;
  return {
    meterProvider,
    port: boundPort,
    url: urlFor(options.host, boundPort, endpoint),
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }).then(() => meterProvider.shutdown());
      return closing;
    },
  };
}
