// First: the V8 setting must be in place before undici (through ../proxy/proxy.js) compiles its WebAssembly parser.
import '../proxy/upstream/wasm-baseline.js';
import { flushCompileCache } from 'node:module';
import { hostname } from 'node:os';
import { DiagLogLevel, diag } from '@opentelemetry/api';
import type { Logger } from 'pino';
import { parseConfig, usage, type CliConfig } from './config.js';
import { KNATIVE_ENV } from '../core/defaults.js';
import { startDemoApp } from './demo-app.js';
import { startMemoryRelease } from './memory-release.js';
import { ConfigError, PortInUseError } from '../core/errors.js';
import { urlFor } from '../http/listen.js';
import { startAdminServer } from '../proxy/admin/admin-server.js';
import { startProxy, type ProxyServer } from '../proxy/proxy.js';
import { reloadLine } from '../proxy/tls/tls-port.js';
import { startQueueStats } from '../queue-stats/queue-stats.js';
import { startRequestTelemetry } from '../queue-stats/request-telemetry.js';
import { VERSION } from '../core/version.js';
import { tlsFromMount } from './tls-mount.js';
import { RequestLog } from '../log/request-log.js';
import { createSidecarLogger, diagLoggerOf } from '../log/sidecar-logger.js';

/** Exit code for invalid configuration. */
const EXIT_CONFIG = 2;
/** Exit code for a failure to start or run, a port in use included. */
const EXIT_FAILURE = 1;

/**
 * Ends the process on an error: a configuration error as one plain line on stderr (exit 2), as before the logger
 * exists; any other failure as an error line of `logger` once there is one (exit 1).
 */
function fail(error: unknown, logger?: Logger): never {
  const known = error instanceof ConfigError || error instanceof PortInUseError;
  const message = error instanceof Error ? error.message : String(error);
  if (logger === undefined || error instanceof ConfigError) process.stderr.write(`queue-stats: ${known ? message : `failed: ${message}`}\n`);
  else logger.error(known ? message : `failed: ${message}`);
  process.exit(error instanceof ConfigError ? EXIT_CONFIG : EXIT_FAILURE);
}

/** The request log when it is on; its last lines are written when the process exits. */
function requestLogOf(config: CliConfig): RequestLog | undefined {
  if (config.requestLogTemplate === undefined) return undefined;
  const { identity } = config;
  const revision = { name: identity.revision, namespace: identity.namespace, service: config.service ?? '', configuration: identity.config, podName: identity.pod, podIP: config.podIP };
  const log = new RequestLog(config.requestLogTemplate, revision);
  process.once('exit', log.flush);
  return log;
}

async function run(config: CliConfig, logger: Logger): Promise<void> {
  // OpenTelemetry's own diagnostics: its warnings and errors, and its debug lines at level debug.
  diag.setLogger(diagLoggerOf(logger), config.logging.level === 'debug' ? DiagLogLevel.DEBUG : DiagLogLevel.WARN);
  const tls = await tlsFromMount(config.tls, Date.now());
  const demo = config.upstream === undefined ? await startDemoApp({ host: '127.0.0.1', port: 0 }) : undefined;
  const upstream = config.upstream ?? demo!.url;
  const queueStats = await startQueueStats({
    ...config.identity,
    reportingPeriodMs: config.reportingPeriodMs,
    port: config.metricsPort,
    host: config.host,
    otlpEndpoint: config.otlpEndpoint,
  }).catch(async (error: unknown) => {
    await demo?.close();
    throw error;
  });
  // Knative observes its queue only when there is a breaker; read at each scrape once the proxy runs.
  const running: { proxy?: ProxyServer } = {};
  const requestTelemetry = await startRequestTelemetry({
    identity: config.identity,
    service: config.service,
    env: process.env,
    port: config.requestMetricsPort,
    host: config.host,
    otlpEndpoint: config.otlpEndpoint,
    breaker: config.containerConcurrency === 0 ? undefined : () => running.proxy?.breaker,
  }).catch(async (error: unknown) => {
    await queueStats.close();
    await demo?.close();
    throw error;
  });
  // The SDK's trace packages load only here, when tracing is on.
  const tracing =
    config.traces === undefined
      ? undefined
      : await import('../trace/start-tracing.js')
          .then(({ startTracing }) => startTracing({ settings: config.traces!, identity: config.identity, service: config.service, env: process.env }))
          .catch(async (error: unknown) => {
            await requestTelemetry.close();
            await queueStats.close();
            await demo?.close();
            throw error;
          });
  const proxy = await startProxy({
    upstream,
    port: config.port,
    host: config.host,
    tracker: queueStats.tracker,
    timeoutMs: config.timeoutMs,
    responseStartTimeoutMs: config.responseStartTimeoutMs,
    idleTimeoutMs: config.idleTimeoutMs,
    containerConcurrency: config.containerConcurrency,
    maxQueueDepth: config.maxQueueDepth,
    observer: requestTelemetry.metrics,
    requestLog: requestLogOf(config),
    logProbeRequests: config.logProbeRequests,
    readinessProbe: config.readinessProbe,
    drainQuietPeriodMs: config.drainQuietPeriodMs,
    drainTimeoutMs: config.drainTimeoutMs,
    upgradeDrainTimeoutMs: config.upgradeDrainTimeoutMs,
    upstreamProtocol: config.upstreamProtocol,
    requestBodyIdleTimeoutMs: config.requestBodyIdleTimeoutMs,
    maxConcurrentStreams: config.maxConcurrentStreams,
    maxStreams: config.maxStreams,
    tracer: tracing?.tracer,
    // A reload's line goes through the sidecar's logger, as its other lines do.
    tls: tls === undefined ? undefined : { ...tls, onReload: (reload) => (reload.ok ? logger.info(reloadLine(reload)) : logger.error(reloadLine(reload))) },
  }).catch(async (error: unknown) => {
    await tracing?.shutdown();
    await requestTelemetry.close();
    await queueStats.close();
    await demo?.close();
    throw error;
  });
  running.proxy = proxy;
  let stopping = false;
  const admin = await startAdminServer({ drainer: proxy.drainer, terminating: () => stopping, port: config.adminPort, host: config.host }).catch(async (error: unknown) => {
    await proxy.close(0);
    await tracing?.shutdown();
    await requestTelemetry.close();
    await queueStats.close();
    await demo?.close();
    throw error;
  });
  const metricsUrl = queueStats.metricsServer?.url ?? '(prometheus endpoint off)';
  const requestMetricsUrl = requestTelemetry.metricsServer?.url ?? '(prometheus endpoint off)';
  const lines = [
    `queue-stats ${VERSION}: proxy ${proxy.url} -> ${upstream}${proxy.tls === undefined ? '' : `, tls ${proxy.tls.url}`}, metrics ${metricsUrl}, request metrics ${requestMetricsUrl}, admin ${admin.url}`,
  ];
  if (demo !== undefined) {
    lines.push(
      `No --upstream or ${KNATIVE_ENV.userPort}: serving the embedded demo app. Try:`,
      `  curl '${urlFor(config.host, proxy.port, '/?sleep=500')}'`,
      `  curl ${metricsUrl}`,
      `  curl ${requestMetricsUrl}`,
    );
  }
  logger.info(lines.join('\n'));
  // What start-up compiled goes to the compile cache now (bin.ts enabled it): a sidecar ends by a signal, not an exit.
  flushCompileCache();
  const stopMemoryRelease = startMemoryRelease(() => queueStats.tracker.stats.inFlight);

  // SIGTERM (the kubelet) drains as Knative's queue-proxy does: probes fail while traffic still flows, until a
  // quiet period without requests; SIGINT (a terminal) skips the quiet period. The demo app and the metrics server
  // close last, so that the final requests are answered and counted.
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    stopMemoryRelease();
    const quiet = signal === 'SIGTERM' ? `probes answer 503 until ${config.drainQuietPeriodMs} ms pass without a request (at most ${config.drainTimeoutMs} ms), then ` : '';
    logger.info(`queue-stats: ${signal}, draining in-flight requests: ${quiet}up to ${config.drainTimeoutMs} ms for requests in flight`);
    (signal === 'SIGTERM' ? proxy.drain() : proxy.close(config.drainTimeoutMs))
      .then(() => admin.close())
      // Every traced request has ended with the proxy's close: the last spans leave now.
      .then(() => tracing?.shutdown())
      .then(() => requestTelemetry.close())
      .then(() => queueStats.close())
      .then(() => demo?.close())
      .then(
        () => process.exit(0),
        (error: unknown) => fail(error, logger),
      );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

let config: CliConfig;
try {
  config = parseConfig(process.argv.slice(2), process.env, hostname());
} catch (error) {
  fail(error);
}
if (config.help) {
  process.stdout.write(usage());
} else if (config.version) {
  process.stdout.write(`${VERSION}\n`);
} else {
  const { identity } = config;
  const logger = await createSidecarLogger(config.logging, { namespace: identity.namespace, revision: identity.revision, pod: identity.pod });
  run(config, logger).catch((error: unknown) => fail(error, logger));
}
