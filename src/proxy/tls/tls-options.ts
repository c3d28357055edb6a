import { DEFAULT_CIPHERS } from 'node:tls';
import {
  requireCipherSuites,
  requireCurvePreferences,
  requireNonEmpty,
  requirePort,
  requireTimeoutMs,
  requireTls12Suite,
  requireTlsVersion,
  type TlsCipherSuite,
  type TlsCurve,
  type TlsVersion,
} from '../../core/checks.js';
import { DEFAULTS, TLS12_CIPHER_SUITES } from '../../core/defaults.js';
import { ConfigError } from '../../core/errors.js';
import type { CertificateReload } from './certificate-watcher.js';
import { openSslGroups } from './openssl-groups.js';
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
   * The TLS 1.2 cipher suites offered, by Go's names (`tls.CipherSuiteName`, as
   * Knative's `QUEUE_PROXY_TLS_CIPHER_SUITES`), such as
   * `TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256`: exactly these, and none if the
   * list names none. The TLS 1.3 suites stay Node's defaults whatever the list,
   * as Go's stay all enabled: their names are accepted and change nothing. The
   * order is no preference (Go ignores it too); the client's order picks. Default: Node's.
   */
  cipherSuites?: readonly TlsCipherSuite[];
  /**
   * The key-exchange groups offered, in order, by Go's constant names or the
   * standard ones (as Knative's `QUEUE_PROXY_TLS_CURVE_PREFERENCES`):
   * `X25519`, `X25519MLKEM768`, `CurveP256` or `P-256`, `CurveP384` or
   * `P-384`, `CurveP521` or `P-521`; each must be supported by the running
   * Node's OpenSSL (X25519MLKEM768 needs 3.5). Default, or empty: Node's.
   */
  curvePreferences?: readonly TlsCurve[];
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
  const cipherSuites = options.cipherSuites === undefined ? undefined : requireCipherSuites('tls.cipherSuites', options.cipherSuites);
  if (cipherSuites !== undefined) requireTls12Suite('tls.cipherSuites', cipherSuites, 'tls.maxVersion', maxVersion);
  const ecdhCurve = options.curvePreferences === undefined ? undefined : openSslGroups('tls.curvePreferences', requireCurvePreferences('tls.curvePreferences', options.curvePreferences));
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
    ciphers: cipherSuites === undefined ? undefined : opensslCiphers(cipherSuites),
    ecdhCurve,
    handshakeTimeoutMs: headersTimeoutMs,
    reload: { debounceMs: requireTimeoutMs('tls.reloadDebounceMs', options.reloadDebounceMs ?? DEFAULTS.certificateReloadDebounceMs), pollMs: DEFAULTS.certificatePollMs },
    onReload,
  };
}

/**
 * Node's `ciphers` for a list of Go cipher-suite names: the TLS 1.2 suites it
 * names by their OpenSSL names, then the TLS 1.3 suites of Node's default
 * list (`tls.DEFAULT_CIPHERS`), which Node sets apart from the TLS 1.2 ones.
 */
function opensslCiphers(suites: readonly TlsCipherSuite[]): string {
  const tls12 = suites.flatMap((suite) => (Object.hasOwn(TLS12_CIPHER_SUITES, suite) ? [TLS12_CIPHER_SUITES[suite as keyof typeof TLS12_CIPHER_SUITES]] : []));
  const tls13 = DEFAULT_CIPHERS.split(':').filter((cipher) => cipher.startsWith('TLS_'));
  return [...new Set(tls12), ...tls13].join(':');
}
