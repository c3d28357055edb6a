/**
 * Typed errors raised by the public entry points. Each names the offending
 * field or port so that callers (and the CLI) can report it in one line.
 */

/**
 * A configuration value was missing or invalid. `field` is the option's name
 * as the caller spelled it (an options key, a flag such as `--port`, or an
 * environment variable such as `USER_PORT`).
 */
export class ConfigError extends Error {
  /** The option, flag or environment variable that was rejected. */
  readonly field: string;

  /**
   * @param field - the rejected option, flag or environment variable
   * @param message - the full message; it must name `field`
   */
  constructor(field: string, message: string) {
    super(message);
    this.name = 'ConfigError';
    this.field = field;
  }
}

/** A server could not listen because its port is already taken. */
export class PortInUseError extends Error {
  /** The port that was in use. */
  readonly port: number;

  /**
   * @param what - which server failed, e.g. `metrics server`
   * @param port - the port that was in use
   * @param host - the host it tried to bind, if one was given
   */
  constructor(what: string, port: number, host?: string) {
    super(`${what}: port ${port}${host ? ` on ${host}` : ''} is already in use`);
    this.name = 'PortInUseError';
    this.port = port;
  }
}

/**
 * A TLS certificate or key file that cannot serve: missing, unreadable, not
 * PEM, a key that does not match the certificate, a certificate past its
 * validity. A {@link ConfigError} (the CLI exits 2), naming the option and the file.
 */
export class CertificateError extends ConfigError {
  /** The path of the file at fault, as it was given. */
  readonly file: string;

  /**
   * @param field - the option, flag or environment variable that named the file
   * @param file - the path of the file at fault
   * @param problem - what is wrong with it, e.g. `missing`
   */
  constructor(field: string, file: string, problem: string) {
    super(field, `${field}: ${file}: ${problem}`);
    this.name = 'CertificateError';
    this.file = file;
  }
}
