import { createServer, type SecureContextOptions, type SecureVersion, type TLSSocket } from 'node:tls';
import type { TlsVersion } from '../../core/checks.js';
import { CertificateError } from '../../core/errors.js';
import { listen, urlFor } from '../../http/listen.js';
import { readCertificatePair, type CertificateFiles, type CertificatePair } from './certificate-pair.js';
import { CertificateWatcher, type CertificateReload, type ReloadTiming } from './certificate-watcher.js';

/** What the TLS side of the proxy is given, checked. */
export interface TlsPortSettings {
  /** Port to listen on; 0 picks a free one. */
  readonly port: number;
  /** Interface to bind; undefined: all. */
  readonly host: string | undefined;
  /** The certificate and key, and the options that named them. */
  readonly files: CertificateFiles;
  /** Oldest and newest TLS versions accepted; no newest: Node's newest. */
  readonly minVersion: TlsVersion;
  readonly maxVersion: TlsVersion | undefined;
  /** Node's `ciphers` (OpenSSL names, the TLS 1.2 suites then the TLS 1.3 ones); undefined: Node's default. */
  readonly ciphers: string | undefined;
  /** Node's `ecdhCurve` (OpenSSL group names, colon-separated, in order); undefined: Node's default. */
  readonly ecdhCurve: string | undefined;
  /** Longest TLS handshake, in milliseconds: the plain port's bound on a request head, so the handshake adds no slowloris window. */
  readonly handshakeTimeoutMs: number;
  /** When changed files are read again. */
  readonly reload: ReloadTiming;
  /** Told of each reload and each new reload failure. */
  readonly onReload: (reload: CertificateReload) => void;
}

/** The TLS side, listening. */
export interface TlsPort {
  /** The port bound. */
  readonly port: number;
  /** Its base URL, `https://...`. */
  readonly url: string;
  /** Stops watching and listening; resolves once every connection it accepted has closed (their owner closes them). */
  close(): Promise<void>;
}

const NODE_VERSION: Record<TlsVersion, SecureVersion> = { '1.2': 'TLSv1.2', '1.3': 'TLSv1.3' };

/**
 * Opens the TLS side of the proxy's port: TLS with ALPN offering `h2` and
 * `http/1.1` (Go's `http.Server` in Knative's queue-proxy offers the same),
 * each connection, once its handshake is done, handed to `hand`, which gives
 * it to the same servers as a plain connection (the proxy's connection
 * router, so the same exchange, limits and counting apply). The certificate
 * is checked before anything listens; then {@link CertificateWatcher} swaps
 * in each new pair for new connections with `setSecureContext`, leaving
 * open connections on the pair they started with. `setSecureContext` replaces
 * every context option, not only the pair, so each context it is given carries
 * the versions, cipher suites and groups again.
 *
 * @throws CertificateError (as a rejection) for a pair that cannot serve, naming the field and file
 * @throws PortInUseError (as a rejection) when the port is taken
 */
export async function startTlsPort(settings: TlsPortSettings, hand: (socket: TLSSocket) => void, now: () => number = Date.now): Promise<TlsPort> {
  const { files } = settings;
  const serving = await readCertificatePair(files, now());
  const context = (pair: CertificatePair): SecureContextOptions => ({
    cert: pair.cert,
    key: pair.key,
    minVersion: NODE_VERSION[settings.minVersion],
    ...(settings.maxVersion === undefined ? {} : { maxVersion: NODE_VERSION[settings.maxVersion] }),
    ...(settings.ciphers === undefined ? {} : { ciphers: settings.ciphers }),
    ...(settings.ecdhCurve === undefined ? {} : { ecdhCurve: settings.ecdhCurve }),
  });
  let server: ReturnType<typeof createServer>;
  try {
    server = createServer({ ...context(serving), ALPNProtocols: ['h2', 'http/1.1'], handshakeTimeout: settings.handshakeTimeoutMs });
  } catch (error) {
    // OpenSSL refuses what the checks let through, e.g. a key below its security level.
    throw new CertificateError(files.certField, files.certFile, `refused by OpenSSL (${error instanceof Error ? error.message : String(error)})`);
  }
  server.on('secureConnection', hand);
  // A handshake that fails or runs past handshakeTimeout is reported here, and only here: Node leaves the socket
  // open (the timeout included), so it is closed here.
  server.on('tlsClientError', (_error: Error, socket: TLSSocket) => socket.destroy());
  const port = await listen(server, 'TLS port', settings.port, settings.host);
  const watcher = new CertificateWatcher(files, serving, (pair) => server.setSecureContext(context(pair)), settings.onReload, settings.reload, now);
  let closing: Promise<void> | undefined;
  return {
    port,
    url: urlFor(settings.host, port, '', 'https'),
    close() {
      closing ??= new Promise((resolve) => {
        watcher.close();
        server.close(() => resolve());
      });
      return closing;
    },
  };
}

/** What a reload came to, in one line of text. */
export function reloadLine(reload: CertificateReload): string {
  return reload.ok
    ? `TLS certificate reloaded from ${reload.certFile} and ${reload.keyFile} (valid until ${reload.notAfter.toISOString()})`
    : `TLS certificate reload failed, the previous certificate keeps serving: ${reload.error.message}`;
}

/** The library's default report of a reload: {@link reloadLine} on stderr (the CLI logs it through its logger). */
export function writeReloadLine(reload: CertificateReload): void {
  process.stderr.write(`queue-stats: ${reloadLine(reload)}\n`);
}
