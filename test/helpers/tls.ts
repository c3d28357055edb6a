import { execFile, execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type ConnectionOptions } from 'node:tls';
import type { ProxyServer } from '../../src/proxy/proxy.js';
import type { ProxyTlsOptions } from '../../src/proxy/tls/tls-options.js';
import type { Transport } from './raw.js';

/** A private key and its certificate, PEM text. */
export interface CertificatePem {
  readonly key: string;
  readonly cert: string;
}

/** OpenSSL's `ca` date form, `YYYYMMDDHHMMSSZ`. */
const caDate = (date: Date): string =>
  date
    .toISOString()
    .replace(/[-:T]/g, '')
    .replace(/\.\d+Z$/, 'Z');

const CA_CONFIG = [
  '[ca]',
  'default_ca = local',
  '[local]',
  'database = index.txt',
  'new_certs_dir = .',
  'serial = serial',
  'default_md = sha256',
  'policy = any',
  'copy_extensions = copy',
  '[any]',
  'commonName = supplied',
  '',
].join('\n');

/** The key pair of a test certificate: an ECDSA P-256 key (the default) or an RSA 2048-bit one (for the ECDHE-RSA and RSA cipher suites). */
export type CertificateKey = 'P-256' | 'RSA';

/** `openssl req -newkey` arguments for each key. */
const NEW_KEY: Record<CertificateKey, string[]> = {
  'P-256': ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'],
  RSA: ['-newkey', 'rsa:2048'],
};

/**
 * A fresh key (P-256 unless `key` says RSA) and a self-signed certificate for
 * 127.0.0.1 made by the `openssl` CLI, valid from `notBefore` (default: an
 * hour ago) to `notAfter` (default: a day from now); `openssl ca` is the one
 * command of OpenSSL 3.0 that sets both dates, so an expired certificate is
 * made the same way.
 */
export function makeCertificate(options: { notBefore?: Date; notAfter?: Date; key?: CertificateKey } = {}): CertificatePem {
  const dir = mkdtempSync(join(tmpdir(), 'qse-tls-'));
  const notBefore = options.notBefore ?? new Date(Date.now() - 3_600_000);
  const notAfter = options.notAfter ?? new Date(Date.now() + 86_400_000);
  try {
    writeFileSync(join(dir, 'ca.cnf'), CA_CONFIG);
    writeFileSync(join(dir, 'index.txt'), '');
    writeFileSync(join(dir, 'serial'), '01\n');
    const run = (args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
    run(['req', '-new', ...NEW_KEY[options.key ?? 'P-256'], '-nodes', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', 'key.pem', '-out', 'req.csr']);
    run(['ca', '-config', 'ca.cnf', '-batch', '-selfsign', '-keyfile', 'key.pem', '-in', 'req.csr', '-startdate', caDate(notBefore), '-enddate', caDate(notAfter), '-notext', '-out', 'cert.pem']);
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A fresh self-signed key and certificate for 127.0.0.1 (one day), for a TLS server in a test. */
export function selfSignedCertificate(): CertificatePem {
  return makeCertificate();
}

/** Runs curl against a TLS port (certificates are self-signed: `-k`); resolves with its exit code and output. */
export function curl(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile('curl', ['-sk', '--max-time', '10', ...args], { timeout: 15_000 }, (error, stdout) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, out: stdout });
    });
  });
}

/**
 * What a TLS handshake came to: the protocol, the cipher suite by OpenSSL's
 * and the standard name, and the key-exchange group as the client's
 * `getEphemeralKeyInfo()` names it (undefined where Node names none: Node 22
 * for X25519MLKEM768); or the error code of a refused handshake.
 */
export type Handshake =
  | { readonly ok: true; readonly protocol: string | null; readonly cipher: string; readonly standardName: string; readonly group: string | undefined }
  | { readonly ok: false; readonly code: string | undefined };

/** One handshake with `port` on 127.0.0.1 by Node's TLS client with `options` (such as a pinned `ciphers`, `ecdhCurve` or `maxVersion`); the certificate is not verified. */
export function handshake(port: number, options: ConnectionOptions = {}): Promise<Handshake> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1', rejectUnauthorized: false, ...options }, () => {
      const cipher = socket.getCipher();
      const key = socket.getEphemeralKeyInfo() as { name?: string } | null;
      resolve({ ok: true, protocol: socket.getProtocol(), cipher: cipher.name, standardName: cipher.standardName, group: key?.name });
      socket.destroy();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => resolve({ ok: false, code: error.code }));
  });
}

/** Runs `openssl s_client` against `port` on 127.0.0.1 with `args` and no input; resolves with its exit code and its output, stdout and stderr. */
export function opensslClient(port: number, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = execFile('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, ...args], { timeout: 15_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, out: stdout + stderr });
    });
    child.stdin?.end();
  });
}

/** The SHA-256 fingerprint of a PEM certificate, as `TLSSocket.getPeerCertificate().fingerprint256` gives it. */
export function fingerprint(cert: string): string {
  return new X509Certificate(cert).fingerprint256;
}

/**
 * A directory laid out as the kubelet mounts a secret volume (its atomic
 * writer): the files live in a timestamped directory, `..data` links to it,
 * and `tls.crt` and `tls.key` link through `..data`. {@link write} rotates as
 * the kubelet does: a new directory, a `..data_tmp` link renamed over `..data`
 * in one step, the old directory removed.
 */
export class SecretVolume {
  readonly certFile: string;
  readonly keyFile: string;
  private generation = 0;
  private current: string | undefined;

  constructor(
    readonly dir: string,
    pair: CertificatePem,
  ) {
    this.certFile = join(dir, 'tls.crt');
    this.keyFile = join(dir, 'tls.key');
    this.write(pair);
    symlinkSync('..data/tls.crt', this.certFile);
    symlinkSync('..data/tls.key', this.keyFile);
  }

  /** A volume in a fresh temporary directory. */
  static create(pair: CertificatePem = makeCertificate()): SecretVolume {
    return new SecretVolume(mkdtempSync(join(tmpdir(), 'qse-secret-')), pair);
  }

  /** Puts `pair` (or any text, for a bad one) in place of the files, in one rename. */
  write(pair: CertificatePem): void {
    const name = `..gen_${++this.generation}`;
    mkdirSync(join(this.dir, name));
    writeFileSync(join(this.dir, name, 'tls.crt'), pair.cert);
    writeFileSync(join(this.dir, name, 'tls.key'), pair.key);
    symlinkSync(name, join(this.dir, '..data_tmp'));
    renameSync(join(this.dir, '..data_tmp'), join(this.dir, '..data'));
    if (this.current !== undefined) rmSync(join(this.dir, this.current), { recursive: true, force: true });
    this.current = name;
  }

  /** The proxy's `tls` option serving this volume on a free port. */
  options(extra: Partial<ProxyTlsOptions> = {}): ProxyTlsOptions {
    return { port: 0, certFile: this.certFile, keyFile: this.keyFile, ...extra };
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** What a test parametrised over the transport needs: the proxy's extra options, the port to reach, the clean-up. */
export interface TransportSetup {
  /** Options for startProxy: with TLS, a `tls` on a fresh certificate. */
  readonly options: { tls?: ProxyTlsOptions };
  /** The port of `proxy` that speaks `transport`. */
  port(proxy: ProxyServer): number;
  /** Removes the certificate's files. */
  remove(): void;
}

/** Sets up `transport`: plain TCP reaches the proxy's port, TLS its TLS port with a fresh self-signed certificate. */
export function transportSetup(transport: Transport): TransportSetup {
  const volume = transport === 'tcp' ? undefined : SecretVolume.create();
  return {
    options: volume === undefined ? {} : { tls: volume.options() },
    port: (proxy) => (volume === undefined ? proxy.port : proxy.tls!.port),
    remove: () => volume?.remove(),
  };
}
