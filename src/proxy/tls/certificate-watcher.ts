import { watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import { readCertificatePair, type CertificateFiles, type CertificatePair } from './certificate-pair.js';

/** What one reload of the certificate came to: told to `ProxyTlsOptions.onReload`. */
export type CertificateReload =
  /** The files changed and the new pair now serves new connections. */
  | { readonly ok: true; readonly certFile: string; readonly keyFile: string; readonly notAfter: Date }
  /** The files changed but cannot serve (a {@link CertificateError}, or the TLS context refused them): the previous pair keeps serving. */
  | { readonly ok: false; readonly certFile: string; readonly keyFile: string; readonly error: Error };

/** When the watcher reads the files again, in milliseconds. */
export interface ReloadTiming {
  /** Quiet time after the last change seen in the files' directories before they are read. */
  readonly debounceMs: number;
  /** Period of a re-read whatever the directories report. */
  readonly pollMs: number;
}

/**
 * Reloads a certificate and key when their files change, as Kubernetes
 * rotates a secret volume: it writes the new files into a fresh directory
 * and swaps the `..data` link the file names point through, so the change
 * shows as entries renamed in the mounted directory, not as a write to
 * `tls.crt`. The watcher therefore watches the directories of both files;
 * after `debounceMs` without a further event it reads both files, and a
 * period re-read (`pollMs`, Knative's own and only mechanism) catches what a
 * watch misses (a file system without notifications, a directory replaced).
 * A pair whose digest differs from the serving one is checked as at
 * start-up and handed to `apply`; one that fails keeps the old pair serving
 * and is reported once (the same failure again is not repeated).
 */
export class CertificateWatcher {
  private readonly watchers: FSWatcher[] = [];
  private readonly poll: NodeJS.Timeout;
  private debounce: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private lastFailure: string | undefined;
  private closed = false;

  /**
   * @param serving - the pair serving now (read at start-up)
   * @param apply - puts a new pair in service; may throw (the TLS context refused it)
   * @param report - told of every reload, and of each new failure
   * @param now - the clock for the certificate's validity, in milliseconds since the epoch
   */
  constructor(
    private readonly files: CertificateFiles,
    private serving: CertificatePair,
    private readonly apply: (pair: CertificatePair) => void,
    private readonly report: (reload: CertificateReload) => void,
    private readonly timing: ReloadTiming,
    private readonly now: () => number = Date.now,
  ) {
    for (const directory of new Set([dirname(files.certFile), dirname(files.keyFile)])) {
      // Not persistent: the TLS server keeps the process alive, the watch alone does not.
      const watcher = watch(directory, { persistent: false }, this.changed);
      // A watched directory that goes away ends its watch; the periodic re-read still runs.
      watcher.on('error', () => watcher.close());
      this.watchers.push(watcher);
    }
    this.poll = setInterval(this.reread, timing.pollMs);
    this.poll.unref();
  }

  private readonly changed = (): void => {
    clearTimeout(this.debounce);
    this.debounce = setTimeout(this.reread, this.timing.debounceMs);
    this.debounce.unref();
  };

  private readonly reread = (): void => {
    if (this.running !== undefined) {
      this.again = true;
      return;
    }
    this.running = this.check().finally(() => {
      this.running = undefined;
      if (this.again && !this.closed) {
        this.again = false;
        this.reread();
      }
    });
  };

  private async check(): Promise<void> {
    const { certFile, keyFile } = this.files;
    let pair: CertificatePair;
    try {
      pair = await readCertificatePair(this.files, this.now());
      if (this.closed || pair.digest === this.serving.digest) return;
      this.apply(pair);
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      if (this.closed || failure.message === this.lastFailure) return;
      this.lastFailure = failure.message;
      this.report({ ok: false, certFile, keyFile, error: failure });
      return;
    }
    this.serving = pair;
    this.lastFailure = undefined;
    this.report({ ok: true, certFile, keyFile, notAfter: pair.notAfter });
  }

  /** Stops watching; a read in progress is not applied. */
  close(): void {
    this.closed = true;
    clearTimeout(this.debounce);
    clearInterval(this.poll);
    for (const watcher of this.watchers) watcher.close();
  }
}
