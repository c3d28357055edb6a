import { stat } from 'node:fs/promises';
import type { ProxyTlsOptions } from '../proxy/tls/tls-options.js';
import { readCertificatePair } from '../proxy/tls/certificate-pair.js';
import type { CliTlsConfig } from './config.js';

async function missing(file: string): Promise<boolean> {
  try {
    await stat(file);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

/**
 * Whether the CLI serves its TLS port, and with what. As Knative's
 * queue-proxy (`sharedmain/main.go`: the TLS server starts only when both
 * files exist), with neither `--tls-cert` nor `--tls-key` given the port
 * serves only if Knative mounted the certificate at its paths: with neither
 * file there, no TLS port. Otherwise it must serve, so the pair is checked
 * here, with the flag or variable in each message: a file named by a flag that
 * is missing, or one of the two default files without the other (a broken
 * mount, which Knative would answer with no TLS at all), stops the start.
 *
 * @param nowMs - the time for the certificate's validity, in milliseconds since the epoch
 * @throws CertificateError naming the flag (or variable) and the file
 */
export async function tlsFromMount(tls: CliTlsConfig, nowMs: number): Promise<ProxyTlsOptions | undefined> {
  if (!tls.filesGiven && (await missing(tls.certFile)) && (await missing(tls.keyFile))) return undefined;
  await readCertificatePair(tls, nowMs);
  const { port, certFile, keyFile, minVersion, maxVersion, cipherSuites, curvePreferences } = tls;
  return { port, certFile, keyFile, minVersion, maxVersion, cipherSuites, curvePreferences };
}
