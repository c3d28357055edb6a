import { format } from 'node:util';
import type { DiagLogger } from '@opentelemetry/api';
import { pino, type DestinationStream, type Logger } from 'pino';
import type { LoggingSettings } from './logging-config.js';

/** The sidecar's logger name: knative/serving `sharedmain.Main` names its logger `queueproxy`. */
export const LOGGER_NAME = 'queueproxy';

/** Where the revision and pod of a log line come from: Knative's names of the revision. */
export interface LoggedRevision {
  namespace: string;
  revision: string;
  pod: string;
}

/** Where the lines go: standard output, or any stream (a test's). */
export interface LogOutput {
  write(line: string): unknown;
  /** A terminal gets readable text instead of JSON. */
  readonly isTTY?: boolean;
}

/**
 * The keys queue-proxy adds to each of its lines (knative/pkg `logging/logkey`): `knative.dev/key`, the revision as
 * `namespace/name`, and `knative.dev/pod`.
 */
function revisionKeys(revision: LoggedRevision): Record<string, string> {
  return { 'knative.dev/key': `${revision.namespace}/${revision.revision}`, 'knative.dev/pod': revision.pod };
}

/**
 * The sidecar's own logger, pino writing to `output` at `settings.level`: one JSON object a line, with the level,
 * the time (ISO 8601, UTC), the logger name `queueproxy`, the message and the revision's keys, each under the key
 * Knative's zap config names ({@link LoggingSettings}); readable text (pino-pretty, loaded only then) when `output`
 * is a terminal. Lines are written synchronously: there are few of them, and none is lost at `process.exit`.
 */
export async function createSidecarLogger(settings: LoggingSettings, revision: LoggedRevision, output: LogOutput = process.stdout): Promise<Logger> {
  if (output.isTTY === true) {
    // The default export: what Node's CommonJS interop and the bundle's both give.
    const { default: prettyStream } = await import('pino-pretty');
    const pretty = prettyStream({ sync: true, destination: output as DestinationStream, colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' });
    return pino({ level: settings.level, name: LOGGER_NAME, base: revisionKeys(revision) }, pretty);
  }
  const { keys } = settings;
  const timeKey = keys.time === undefined ? undefined : JSON.stringify(keys.time);
  return pino(
    {
      level: settings.level,
      messageKey: keys.message,
      base: { ...(keys.name === undefined ? {} : { [keys.name]: LOGGER_NAME }), ...revisionKeys(revision) },
      timestamp: timeKey === undefined ? false : () => `,${timeKey}:"${new Date().toISOString()}"`,
      formatters: { level: (label) => (keys.level === undefined ? {} : { [keys.level]: label }) },
    },
    output as DestinationStream,
  );
}

/** OpenTelemetry's diagnostics (`diag`) as lines of `logger`, each message formatted with its arguments as `console` would. */
export function diagLoggerOf(logger: Logger): DiagLogger {
  return {
    error: (message, ...args) => logger.error(format(message, ...args)),
    warn: (message, ...args) => logger.warn(format(message, ...args)),
    info: (message, ...args) => logger.info(format(message, ...args)),
    debug: (message, ...args) => logger.debug(format(message, ...args)),
    verbose: (message, ...args) => logger.trace(format(message, ...args)),
  };
}
