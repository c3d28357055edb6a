import { requireNonEmpty, requirePort, requireTimeoutMs, requireTlsVersion, type TlsVersion } from '../../core/checks.js';
import { DEFAULTS } from '../../core/defaults.js';
import { ConfigError } from '../../core/errors.js';
import type { CertificateReload } from './certificate-watcher.js';
import { writeReloadLine, type TlsPortSettings } from './tls-port.js';

/**
 * The proxy's TLS port: HTTP/1.1 and HTTP/2, chosen by ALPN, with the same
 * exchange, counting, breaker, timeouts, probe answers and drain as the
 * plain port, whose connection handling it shares.
 */
export interface ProxyTlsOptions {
  /** TCP port; 0 picks a free one. Default 8112 (Knative's queue-proxy HTTPS port). */
  port?: number;
  /**
   * The certificate, PEM (the leaf first, a chain may follow). Required;
   * Knative mounts it at `/var/lib/knative/certs/tls.crt`. Must exist, parse,
   * be within its validity and match `keyFile` at start-up.
   */
  certFile: string;
  /** Its private key, PEM, unencrypted. Required; Knative's: `/var/lib/knative/certs/tls.key`. */
  keyFile: string;
  /** Oldest TLS version accepted: `1.2` or `1.3`. Default `1.3`, knative/pkg's default for its servers. */
  minVersion?: TlsVersion;
  /** Newest TLS version accepted: `1.2` or `1.3`. Default: the newest Node offers. */
  maxVersion?: TlsVersion;
  /**
   * Milliseconds the files' directories must stay quiet after a change before
   * the pair is read again and, if it changed and passes the start-up checks,
   * serves new connections (open ones keep theirs). Default 100. The files
   * are also re-read every 60 s whatever the directories report.
   */
  reloadDebounceMs?: number;
  /** Told of each reload, and of each new failure to reload (the old pair then keeps serving). Default: one line on stderr. */
  onReload?: (reload: CertificateReload) => void;
}

/**
 * Checks `startProxy`'s `tls` option and fills in its defaults; the fields are
 * named `tls.<key>` in errors. The files themselves are read by the TLS port.
 *
 * @param headersTimeoutMs - the proxy's bound on a request head, which bounds a handshake too
 * @throws ConfigError naming the `tls.` field
 */
export function tlsPortSettings(options: ProxyTlsOptions, host: string | undefined, headersTimeoutMs: number): TlsPortSettings {
  if (typeof options !== 'object' || options === null) throw new ConfigError('tls', 'tls must be an object with certFile and keyFile');
  const minVersion = requireTlsVersion('tls.minVersion', options.minVersion ?? DEFAULTS.tlsMinVersion);
  const maxVersion = options.maxVersion === undefined ? undefined : requireTlsVersion('tls.maxVersion', options.maxVersion);
  if (maxVersion !== undefined && maxVersion < minVersion) throw new ConfigError('tls.maxVersion', `tls.maxVersion (${maxVersion}) must not be older than tls.minVersion (${minVersion})`);
  const onReload = options.onReload ?? writeReloadLine;
  if (typeof onReload !== 'function') throw new ConfigError('tls.onReload', 'tls.onReload must be a function');
  return {
    port: requirePort('tls.port', options.port ?? DEFAULTS.tlsPort),
    host,
    files: {
      certFile: requireNonEmpty('tls.certFile', options.certFile),
      keyFile: requireNonEmpty('tls.keyFile', options.keyFile),
      certField: 'tls.certFile',
      keyField: 'tls.keyFile',
    },
    minVersion,
    maxVersion,
    handshakeTimeoutMs: headersTimeoutMs,
    reload: { debounceMs: requireTimeoutMs('tls.reloadDebounceMs', options.reloadDebounceMs ?? DEFAULTS.certificateReloadDebounceMs), pollMs: DEFAULTS.certificatePollMs },
    onReload,
  };
}
