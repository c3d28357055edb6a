import { createHash, createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { CertificateError } from '../../core/errors.js';

/** Where a certificate and its key are read from, and the option (or flag) that named each, for messages. */
export interface CertificateFiles {
  /** Path of the certificate (PEM; a chain may follow it). */
  readonly certFile: string;
  /** Path of the private key (PEM, unencrypted). */
  readonly keyFile: string;
  /** The option, flag or environment variable that gave `certFile`. */
  readonly certField: string;
  /** The option, flag or environment variable that gave `keyFile`. */
  readonly keyField: string;
}

/** A certificate and its key, read and checked, ready for a TLS context. */
export interface CertificatePair {
  /** The certificate file's bytes. */
  readonly cert: Buffer;
  /** The key file's bytes. */
  readonly key: Buffer;
  /** SHA-256 of both files, hex: the same digest means the same pair, so a re-read that changed nothing is not a reload. */
  readonly digest: string;
  /** End of the certificate's validity. */
  readonly notAfter: Date;
}

async function readOne(field: string, file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const problem =
      code === 'ENOENT'
        ? 'missing'
        : code === 'EACCES' || code === 'EPERM'
          ? 'unreadable (permission denied)'
          : code === 'EISDIR'
            ? 'a directory, not a file'
            : `unreadable (${code ?? String(error)})`;
    throw new CertificateError(field, file, problem);
  }
}

/** Digest of both files, so that any change to either is seen. */
export function pairDigest(cert: Buffer, key: Buffer): string {
  return createHash('sha256').update(cert).update('\0').update(key).digest('hex');
}

/**
 * Reads a certificate and its private key and checks that they can serve
 * at `nowMs` (milliseconds since the epoch): each file is there and
 * readable, the certificate parses (PEM or DER X.509) and is within its
 * validity, the key parses (an unencrypted private key) and is the
 * certificate's. Knative's queue-proxy loads the pair with Go's
 * `tls.LoadX509KeyPair`, which checks the same apart from the dates; an
 * expired certificate here is refused too, since every client would refuse it.
 *
 * @throws CertificateError naming the field and file at fault and the problem:
 *   `missing`, `unreadable (...)`, `not a certificate (PEM or DER)`,
 *   `expired on <ISO date>`, `not valid before <ISO date>`, `not a private key
 *   (PEM, unencrypted)`, `does not match the certificate <certFile>`
 */
export async function readCertificatePair(files: CertificateFiles, nowMs: number): Promise<CertificatePair> {
  // One after the other, so that with both files bad the error names the certificate every time: with both read at
  // once, the first read to fail won, and which that was changed from run to run.
  const cert = await readOne(files.certField, files.certFile);
  const key = await readOne(files.keyField, files.keyFile);
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(cert);
  } catch {
    throw new CertificateError(files.certField, files.certFile, 'not a certificate (PEM or DER)');
  }
  if (nowMs > certificate.validToDate.getTime()) throw new CertificateError(files.certField, files.certFile, `expired on ${certificate.validToDate.toISOString()}`);
  if (nowMs < certificate.validFromDate.getTime()) throw new CertificateError(files.certField, files.certFile, `not valid before ${certificate.validFromDate.toISOString()}`);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    throw new CertificateError(files.keyField, files.keyFile, 'not a private key (PEM, unencrypted)');
  }
  if (!certificate.checkPrivateKey(privateKey)) throw new CertificateError(files.keyField, files.keyFile, `does not match the certificate ${files.certFile}`);
  return { cert, key, digest: pairDigest(cert, key), notAfter: certificate.validToDate };
}
