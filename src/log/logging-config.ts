import { ConfigError } from '../core/errors.js';

/** The sidecar's log levels, least to most severe (pino's names). */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/**
 * Where each part of a JSON log line goes: the field names of zap's `encoderConfig`. `undefined` leaves the
 * part out, as zap does for a key set to `""`.
 */
export interface LogKeys {
  message: string;
  level: string | undefined;
  time: string | undefined;
  name: string | undefined;
}

/** The sidecar's own logging, as Knative's `SERVING_LOGGING_CONFIG` and `SERVING_LOGGING_LEVEL` set it. */
export interface LoggingSettings {
  level: LogLevel;
  keys: LogKeys;
}

/**
 * What Knative's queue-proxy logs with when `SERVING_LOGGING_CONFIG` is empty: knative/pkg `logging/config.go`
 * starts from zapdriver's production config (level info; keys `message`, `severity`, `timestamp`, `logger`), and a
 * JSON config given overrides only the fields it sets.
 */
export const DEFAULT_LOGGING: LoggingSettings = {
  level: 'info',
  keys: { message: 'message', level: 'severity', time: 'timestamp', name: 'logger' },
};

/**
 * zap's level names (`zapcore.Level.UnmarshalText`: lower or upper case) as pino's; zap's `dpanic` and `panic`
 * log at error severity and above, which pino calls `fatal`.
 */
const ZAP_LEVELS: Readonly<Record<string, LogLevel>> = {
  debug: 'debug',
  info: 'info',
  warn: 'warn',
  error: 'error',
  dpanic: 'fatal',
  panic: 'fatal',
  fatal: 'fatal',
};

/**
 * A zap level name as a {@link LogLevel}.
 *
 * @throws ConfigError naming `field` for anything zap would not parse
 */
export function parseZapLevel(text: string, field: string): LogLevel {
  const level = text === text.toLowerCase() || text === text.toUpperCase() ? ZAP_LEVELS[text.toLowerCase()] : undefined;
  if (level === undefined) throw new ConfigError(field, `${field}: unknown level "${text}" (one of ${Object.keys(ZAP_LEVELS).join(', ')})`);
  return level;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** One encoder key of a zap config: a string replaces the default, `""` leaves the part out, absent keeps the default. */
function key(encoder: Record<string, unknown>, name: string, fallback: string | undefined, field: string): string | undefined {
  const value = encoder[name];
  if (value === undefined) return fallback;
  if (typeof value !== 'string') throw new ConfigError(field, `${field}: encoderConfig.${name} must be a string`);
  return value === '' ? undefined : value;
}

/**
 * The logging settings of Knative's zap JSON config (`configJson`, from `SERVING_LOGGING_CONFIG`; empty: zapdriver's
 * defaults) and level override (`levelOverride`, from `SERVING_LOGGING_LEVEL`; empty: the config's level), as
 * knative/pkg `logging.NewLogger` reads them: the `level` and the `encoderConfig` keys `messageKey`, `levelKey`,
 * `timeKey` and `nameKey`. Other zap fields (encoders, output paths, sampling) are not read.
 *
 * @throws ConfigError naming `configField` for malformed JSON or a field of the wrong type, or the field of an
 *   unknown level. Knative falls back to its defaults there instead; a sidecar told something it cannot follow
 *   says so at start-up.
 */
export function parseLoggingSettings(configJson: string, levelOverride: string, configField: string, levelField: string): LoggingSettings {
  let level = DEFAULT_LOGGING.level;
  let keys = DEFAULT_LOGGING.keys;
  if (configJson.trim() !== '') {
    let config: unknown;
    try {
      config = JSON.parse(configJson);
    } catch (error) {
      throw new ConfigError(configField, `${configField}: not JSON (${(error as Error).message})`);
    }
    if (!isRecord(config)) throw new ConfigError(configField, `${configField}: must be a JSON object (zap's config)`);
    if (config['level'] !== undefined) {
      if (typeof config['level'] !== 'string') throw new ConfigError(configField, `${configField}: level must be a string`);
      level = parseZapLevel(config['level'], `${configField} level`);
    }
    const encoder = config['encoderConfig'] ?? {};
    if (!isRecord(encoder)) throw new ConfigError(configField, `${configField}: encoderConfig must be an object`);
    const message = key(encoder, 'messageKey', keys.message, configField);
    // A line without its message is no use to a reader; zap would allow it, pino cannot.
    if (message === undefined) throw new ConfigError(configField, `${configField}: encoderConfig.messageKey must not be empty`);
    keys = { message, level: key(encoder, 'levelKey', keys.level, configField), time: key(encoder, 'timeKey', keys.time, configField), name: key(encoder, 'nameKey', keys.name, configField) };
  }
  if (levelOverride !== '') level = parseZapLevel(levelOverride, levelField);
  return { level, keys };
}
