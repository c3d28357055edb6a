import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DEFAULTS, SIDECAR_ENV } from '../src/core/defaults.js';
import { CertificateError, ConfigError } from '../src/core/errors.js';
import { startProxy } from '../src/proxy/proxy.js';
import { readCertificatePair } from '../src/proxy/tls/certificate-pair.js';
import { tlsFromMount } from '../src/cli/tls-mount.js';
import type { CliTlsConfig } from '../src/cli/config.js';
import { boundPorts, runCli, startCli } from './helpers/cli.js';
import { curl, makeCertificate, type CertificatePem } from './helpers/tls.js';

/** A temporary directory with a good pair, a second key, an expired and a not-yet-valid certificate, and some junk. */
class Files {
  readonly dir = mkdtempSync(join(tmpdir(), 'qse-certs-'));
  readonly good: CertificatePem = makeCertificate();
  constructor() {
    this.put('good.crt', this.good.cert);
    this.put('good.key', this.good.key);
    this.put('other.key', makeCertificate().key);
    const expired = makeCertificate({ notBefore: new Date('2020-01-01T00:00:00Z'), notAfter: new Date('2020-01-02T00:00:00Z') });
    this.put('expired.crt', expired.cert);
    this.put('expired.key', expired.key);
    const future = makeCertificate({ notBefore: new Date('2100-01-01T00:00:00Z'), notAfter: new Date('2100-01-02T00:00:00Z') });
    this.put('future.crt', future.cert);
    this.put('future.key', future.key);
    this.put('junk.txt', 'not a certificate\n');
    mkdirSync(join(this.dir, 'a-directory'));
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  private put(name: string, text: string): void {
    writeFileSync(this.path(name), text);
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

describe('the certificate and key at start-up', () => {
  let files: Files;
  before(() => (files = new Files()));
  after(() => files.remove());

  const cases: Array<[string, string, string, 'cert' | 'key', (f: Files) => string]> = [
    ['a missing certificate', 'missing.crt', 'good.key', 'cert', () => 'missing'],
    ['a missing key', 'good.crt', 'missing.key', 'key', () => 'missing'],
    ['a key that is a directory', 'good.crt', 'a-directory', 'key', () => 'a directory, not a file'],
    ['a certificate that is not one', 'junk.txt', 'good.key', 'cert', () => 'not a certificate (PEM or DER)'],
    ['a key that is not one', 'good.crt', 'junk.txt', 'key', () => 'not a private key (PEM, unencrypted)'],
    ['a key of another certificate', 'good.crt', 'other.key', 'key', (f) => `does not match the certificate ${f.path('good.crt')}`],
    ['an expired certificate', 'expired.crt', 'expired.key', 'cert', () => 'expired on 2020-01-02T00:00:00.000Z'],
    ['a certificate not valid yet', 'future.crt', 'future.key', 'cert', () => 'not valid before 2100-01-01T00:00:00.000Z'],
  ];
  for (const [what, cert, key, atFault, problem] of cases) {
    it(`startProxy rejects ${what} with a CertificateError naming the field and the file`, async () => {
      const field = atFault === 'cert' ? 'tls.certFile' : 'tls.keyFile';
      const file = files.path(atFault === 'cert' ? cert : key);
      await assert.rejects(startProxy({ upstream: 'http://127.0.0.1:9', port: 0, host: '127.0.0.1', tls: { port: 0, certFile: files.path(cert), keyFile: files.path(key) } }), (error: unknown) => {
        assert.ok(error instanceof CertificateError && error instanceof ConfigError);
        assert.equal(error.field, field);
        assert.equal(error.file, file);
        assert.equal(error.message, `${field}: ${file}: ${problem(files)}`);
        return true;
      });
    });
  }

  it('the validity is read against the clock given: the good pair is refused a year on', async () => {
    const pair = await readCertificatePair({ certFile: files.path('good.crt'), keyFile: files.path('good.key'), certField: 'c', keyField: 'k' }, Date.now());
    assert.equal(pair.cert.toString(), files.good.cert);
    await assert.rejects(
      readCertificatePair({ certFile: files.path('good.crt'), keyFile: files.path('good.key'), certField: 'c', keyField: 'k' }, Date.now() + 365 * 86_400_000),
      /^CertificateError: c: .*good\.crt: expired on /,
    );
  });

  const badOptions: Array<[string, Record<string, unknown>, string]> = [
    ['tls.port', { port: 70_000 }, 'tls.port must be an integer from 0 to 65535, got 70000'],
    ['tls.certFile', { certFile: '' }, 'tls.certFile must not be empty'],
    ['tls.minVersion', { minVersion: '1.1' }, 'tls.minVersion must be 1.2 or 1.3, got "1.1"'],
    ['tls.maxVersion', { maxVersion: '1.2' }, 'tls.maxVersion (1.2) must not be older than tls.minVersion (1.3)'],
    [
      'tls.cipherSuites',
      { cipherSuites: ['TLS_ECDHE_RSA_WITH_RC4_128_SHA'] },
      'tls.cipherSuites: unknown cipher suite "TLS_ECDHE_RSA_WITH_RC4_128_SHA" (Go\'s crypto/tls names, such as TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)',
    ],
    ['tls.cipherSuites', { cipherSuites: 'TLS_AES_128_GCM_SHA256' }, 'tls.cipherSuites must be an array of cipher suite names'],
    ['tls.cipherSuites', { minVersion: '1.2', maxVersion: '1.2', cipherSuites: [] }, 'tls.cipherSuites names no TLS 1.2 cipher suite and tls.maxVersion is 1.2: no handshake could succeed'],
    ['tls.curvePreferences', { curvePreferences: ['X448'] }, 'tls.curvePreferences: unknown curve "X448" (one of CurveP256, CurveP384, CurveP521, X25519, X25519MLKEM768, P-256, P-384, P-521)'],
    ['tls.reloadDebounceMs', { reloadDebounceMs: 0 }, 'tls.reloadDebounceMs must be a positive integer, got 0'],
    ['tls.onReload', { onReload: 'log' }, 'tls.onReload must be a function'],
  ];
  for (const [field, bad, message] of badOptions) {
    it(`startProxy rejects a bad ${field}, ${JSON.stringify(bad)}, with a ConfigError naming it`, async () => {
      const tls = { port: 0, certFile: files.path('good.crt'), keyFile: files.path('good.key'), ...bad };
      await assert.rejects(startProxy({ upstream: 'http://127.0.0.1:9', port: 0, tls }), (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.deepEqual({ field: error.field, message: error.message }, { field, message });
        return true;
      });
    });
  }
});

describe('when the CLI serves its TLS port', () => {
  let files: Files;
  before(() => (files = new Files()));
  after(() => files.remove());

  const mount = (certFile: string, keyFile: string, filesGiven: boolean): CliTlsConfig => ({
    port: 0,
    certFile,
    keyFile,
    filesGiven,
    certField: '--tls-cert',
    keyField: '--tls-key',
    minVersion: '1.3',
    maxVersion: undefined,
    cipherSuites: ['TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256'],
    curvePreferences: ['P-384'],
  });

  it("with no file given, only when Knative's mount is there: neither file, no TLS port; both, the TLS port", async () => {
    assert.equal(await tlsFromMount(mount(files.path('none/tls.crt'), files.path('none/tls.key'), false), Date.now()), undefined);
    assert.deepEqual(await tlsFromMount(mount(files.path('good.crt'), files.path('good.key'), false), Date.now()), {
      port: 0,
      certFile: files.path('good.crt'),
      keyFile: files.path('good.key'),
      minVersion: '1.3',
      maxVersion: undefined,
      cipherSuites: ['TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256'],
      curvePreferences: ['P-384'],
    });
  });

  it('half a mount, or a file given that is missing, stops the start naming the flag and the file', async () => {
    await assert.rejects(tlsFromMount(mount(files.path('good.crt'), files.path('none.key'), false), Date.now()), {
      name: 'CertificateError',
      message: `--tls-key: ${files.path('none.key')}: missing`,
    });
    await assert.rejects(tlsFromMount(mount(files.path('none.crt'), files.path('none.key'), true), Date.now()), {
      name: 'CertificateError',
      message: `--tls-cert: ${files.path('none.crt')}: missing`,
    });
  });

  it("Knative's paths are the defaults (the CLI's port 8112)", () => {
    assert.deepEqual([DEFAULTS.tlsPort, DEFAULTS.tlsCertFile, DEFAULTS.tlsKeyFile], [8112, '/var/lib/knative/certs/tls.crt', '/var/lib/knative/certs/tls.key']);
  });

  for (const [what, args, env, line] of [
    ['a missing certificate by flag', ['--tls-cert', 'DIR/missing.crt', '--tls-key', 'DIR/good.key'], {}, '--tls-cert: DIR/missing.crt: missing'],
    [
      'a key of another certificate by variable',
      ['--tls-cert', 'DIR/good.crt'],
      { [SIDECAR_ENV.tlsKeyFile]: 'DIR/other.key' },
      `${SIDECAR_ENV.tlsKeyFile} (--tls-key): DIR/other.key: does not match the certificate DIR/good.crt`,
    ],
    ['an expired certificate', ['--tls-cert', 'DIR/expired.crt', '--tls-key', 'DIR/expired.key'], {}, '--tls-cert: DIR/expired.crt: expired on 2020-01-02T00:00:00.000Z'],
    ['TLS 1.1', ['--tls-min-version', '1.1'], {}, '--tls-min-version must be 1.2 or 1.3, got "1.1"'],
  ] as Array<[string, string[], Record<string, string>, string]>) {
    it(`${what}: one line naming the flag (or variable) and what is wrong, exit 2`, async () => {
      const abs = (text: string): string => text.replaceAll('DIR/', `${files.dir}/`);
      const { code, output } = await runCli(args.map(abs), Object.fromEntries(Object.entries(env).map(([k, v]) => [k, abs(v)])));
      assert.equal(output, `queue-stats: ${abs(line)}\n`);
      assert.equal(code, 2);
    });
  }

  it('with the files given, the start-up line names the TLS port; curl gets the demo app through it; SIGTERM closes it and exits 0', async () => {
    const cli = await startCli(['--tls-cert', files.path('good.crt'), '--tls-key', files.path('good.key'), '--drain-quiet-period', '1ms']);
    try {
      const ports = boundPorts(cli);
      assert.ok(ports.tls !== undefined && ports.tls > 0, cli.output());
      assert.match(cli.output(), new RegExp(`, tls https://127\\.0\\.0\\.1:${ports.tls}, `));
      const { code, out } = await curl(['--http1.1', `https://127.0.0.1:${ports.tls}/?sleep=1`]);
      assert.equal(code, 0);
      assert.match(out, /slept 1 ms/);
      cli.child.kill('SIGTERM');
      assert.equal(await cli.exited, 0);
    } finally {
      cli.kill();
    }
  });

  it('with no file given and no mount at the default paths, no TLS port', async () => {
    const cli = await startCli([]);
    try {
      assert.equal(boundPorts(cli).tls, undefined);
      assert.doesNotMatch(cli.output(), /tls https/);
    } finally {
      cli.kill();
    }
  });
});
