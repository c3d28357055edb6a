import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULTS } from '../src/core/defaults.js';
import { parseConfig, usage } from '../src/cli/config.js';
import { ConfigError } from '../src/core/errors.js';

const KNATIVE_ENV = {
  SERVING_NAMESPACE: 'default',
  SERVING_CONFIGURATION: 'hello',
  SERVING_REVISION: 'hello-00001',
  SERVING_POD: 'hello-00001-deployment-abc',
  USER_PORT: '8080',
};

/** Asserts that parseConfig throws a ConfigError with exactly this field and message. */
function assertConfigError(argv: string[], env: Record<string, string>, field: string, message: string): void {
  assert.throws(
    () => parseConfig(argv, env, 'h'),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError, String(e));
      assert.equal(e.message, message);
      assert.equal(e.field, field);
      return true;
    },
  );
}

describe('parseConfig defaults', () => {
  it('with nothing set runs the demo with demo names and Knative ports', () => {
    assert.deepEqual(parseConfig([], {}, 'my-host'), {
      help: false,
      version: false,
      upstream: undefined,
      port: 8012,
      tls: {
        port: 8112,
        certFile: '/var/lib/knative/certs/tls.crt',
        keyFile: '/var/lib/knative/certs/tls.key',
        filesGiven: false,
        certField: '--tls-cert',
        keyField: '--tls-key',
        minVersion: '1.3',
        maxVersion: undefined,
        cipherSuites: undefined,
        curvePreferences: undefined,
      },
      metricsPort: 9090,
      requestMetricsPort: 9091,
      host: undefined,
      identity: { namespace: 'default', config: 'demo', revision: 'demo-00001', pod: 'my-host' },
      service: undefined,
      reportingPeriodMs: 1000,
      timeoutMs: 300_000,
      responseStartTimeoutMs: 0,
      idleTimeoutMs: 0,
      containerConcurrency: 0,
      maxQueueDepth: undefined,
      drainTimeoutMs: 30_000,
      upgradeDrainTimeoutMs: 60_000,
      drainQuietPeriodMs: 30_000,
      adminPort: 8022,
      readinessProbe: undefined,
      otlpEndpoint: undefined,
      upstreamProtocol: 'auto',
      requestBodyIdleTimeoutMs: 0,
      maxConcurrentStreams: 250,
      maxStreams: 1024,
      traces: undefined,
      podIP: '',
      requestLogTemplate: undefined,
      logProbeRequests: false,
      logging: { level: 'info', keys: { message: 'message', level: 'severity', time: 'timestamp', name: 'logger' } },
    });
  });

  it('takes the tracing settings from the environment', () => {
    assert.deepEqual(parseConfig([], { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' }, 'h').traces, {
      endpoint: 'http://collector:4318/v1/traces',
      protocol: 'http/protobuf',
      headers: {},
      exporterTimeoutMs: 10_000,
      sampler: { name: 'parentbased_always_on', ratio: 1 },
    });
    assertConfigError(
      [],
      { OTEL_TRACES_SAMPLER: 'sometimes', OTEL_TRACES_EXPORTER: 'otlp' },
      'OTEL_TRACES_SAMPLER',
      "OTEL_TRACES_SAMPLER must be one of always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio, got 'sometimes'",
    );
  });

  it("takes 0 for a port to listen on (a free one), but not for the app's port", () => {
    const config = parseConfig(['--port', '0', '--metrics-port', '0', '--request-metrics-port', '0', '--admin-port', '0'], {}, 'h');
    assert.deepEqual([config.port, config.metricsPort, config.requestMetricsPort, config.adminPort], [0, 0, 0, 0]);
    assert.equal(parseConfig([], { QUEUE_SERVING_PORT: '0' }, 'h').port, 0);
  });

  it('reads the HTTP/2 stream limits and the request body idle timeout from their flags and QUEUE_STATS_ variables; a bad one names its flag', () => {
    const config = parseConfig(['--max-concurrent-streams', '100'], { QUEUE_STATS_MAX_STREAMS: '500', QUEUE_STATS_REQUEST_BODY_IDLE_TIMEOUT: '30' }, 'h');
    assert.equal(config.requestBodyIdleTimeoutMs, 30_000);
    assert.equal(config.maxConcurrentStreams, 100);
    assert.equal(config.maxStreams, 500);
    assert.throws(
      () => parseConfig(['--max-streams', '0'], {}, 'h'),
      (error: unknown) => error instanceof ConfigError && error.field === '--max-streams',
    );
    assert.throws(
      () => parseConfig([], { QUEUE_STATS_MAX_CONCURRENT_STREAMS: 'x' }, 'h'),
      (error: unknown) => error instanceof ConfigError && error.field === 'QUEUE_STATS_MAX_CONCURRENT_STREAMS (--max-concurrent-streams)',
    );
  });

  it('reads the upstream protocol from QUEUE_STATS_UPSTREAM_PROTOCOL; --upstream-protocol overrides it', () => {
    assert.equal(parseConfig([], { QUEUE_STATS_UPSTREAM_PROTOCOL: 'http1' }, 'h').upstreamProtocol, 'http1');
    assert.equal(parseConfig(['--upstream-protocol', 'auto'], { QUEUE_STATS_UPSTREAM_PROTOCOL: 'http1' }, 'h').upstreamProtocol, 'auto');
    assert.equal(parseConfig([], { QUEUE_STATS_UPSTREAM_PROTOCOL: 'h2c' }, 'h').upstreamProtocol, 'h2c');
  });

  it('request log: off by default; on with Knative’s default template; an empty template is off; Go booleans', () => {
    assert.equal(parseConfig([], {}, 'h').requestLogTemplate, undefined);
    assert.equal(parseConfig([], { SERVING_ENABLE_REQUEST_LOG: 'true' }, 'h').requestLogTemplate, DEFAULTS.requestLogTemplate);
    assert.equal(parseConfig([], { SERVING_ENABLE_REQUEST_LOG: 'T', SERVING_REQUEST_LOG_TEMPLATE: '{{.Request.Method}}' }, 'h').requestLogTemplate, '{{.Request.Method}}');
    assert.equal(parseConfig([], { SERVING_ENABLE_REQUEST_LOG: '1', SERVING_REQUEST_LOG_TEMPLATE: '' }, 'h').requestLogTemplate, undefined);
    assert.equal(parseConfig(['--request-log', 'false'], { SERVING_ENABLE_REQUEST_LOG: 'true' }, 'h').requestLogTemplate, undefined);
    assert.throws(() => parseConfig([], { SERVING_REQUEST_LOG_TEMPLATE: '{{range .X}}' }, 'h'), {
      name: 'ConfigError',
      message: 'SERVING_REQUEST_LOG_TEMPLATE (--request-log-template): unsupported template action: {{range .X}}',
    });
  });

  it('request log precedence: a flag, then its SERVING_* variable, then OBSERVABILITY_CONFIG, then the default', () => {
    const observability = JSON.stringify({ EnableRequestLog: true, requestLogTemplate: 'obs', enableProbeRequestLog: true, requestMetrics: { protocol: 'none' } });
    const fromJson = parseConfig([], { OBSERVABILITY_CONFIG: observability }, 'h');
    assert.deepEqual([fromJson.requestLogTemplate, fromJson.logProbeRequests], ['obs', true]);
    const fromEnv = parseConfig([], { OBSERVABILITY_CONFIG: observability, SERVING_REQUEST_LOG_TEMPLATE: 'env', SERVING_ENABLE_PROBE_REQUEST_LOG: 'false' }, 'h');
    assert.deepEqual([fromEnv.requestLogTemplate, fromEnv.logProbeRequests], ['env', false]);
    const fromFlag = parseConfig(['--request-log', 'false'], { OBSERVABILITY_CONFIG: observability, SERVING_ENABLE_REQUEST_LOG: 'true' }, 'h');
    assert.equal(fromFlag.requestLogTemplate, undefined);
    // null is absent, as Go's encoding/json takes it; an empty OBSERVABILITY_CONFIG is none.
    assert.equal(parseConfig([], { OBSERVABILITY_CONFIG: '{"enableRequestLog":true,"requestLogTemplate":null}' }, 'h').requestLogTemplate, DEFAULTS.requestLogTemplate);
    assert.equal(parseConfig([], { OBSERVABILITY_CONFIG: '' }, 'h').requestLogTemplate, undefined);
  });

  it("the sidecar's log: SERVING_LOGGING_LEVEL (or --log-level) overrides the zap config's level, empty keeps it; keys the config leaves out keep Knative's", () => {
    const config = '{"level":"warn","encoderConfig":{"messageKey":"msg","levelKey":""}}';
    const keys = { message: 'msg', level: undefined, time: 'timestamp', name: 'logger' };
    assert.deepEqual(parseConfig([], { SERVING_LOGGING_CONFIG: config, SERVING_LOGGING_LEVEL: '' }, 'h').logging, { level: 'warn', keys });
    assert.deepEqual(parseConfig([], { SERVING_LOGGING_CONFIG: config, SERVING_LOGGING_LEVEL: 'DEBUG' }, 'h').logging, { level: 'debug', keys });
    assert.equal(parseConfig(['--log-level', 'panic'], { SERVING_LOGGING_LEVEL: 'info' }, 'h').logging.level, 'fatal');
  });

  it('reads the drain settings, the metrics port and the readiness probe from the environment; flags override them', () => {
    const env = {
      QUEUE_STATS_DRAIN_QUIET_PERIOD: '15',
      QUEUE_STATS_DRAIN_TIMEOUT: '90s',
      QUEUE_STATS_UPGRADE_DRAIN_TIMEOUT: '120',
      QUEUE_STATS_METRICS_PORT: '19090',
      SERVING_READINESS_PROBE: '{"tcpSocket":{"port":8080},"successThreshold":2}',
    };
    const config = parseConfig(['--admin-port', '18022'], env, 'h');
    assert.equal(config.metricsPort, 19090);
    assert.equal(parseConfig(['--metrics-port', '29090'], env, 'h').metricsPort, 29090);
    assert.deepEqual([config.drainQuietPeriodMs, config.drainTimeoutMs, config.upgradeDrainTimeoutMs, config.adminPort], [15_000, 90_000, 120_000, 18022]);
    assert.deepEqual(config.readinessProbe, { action: { kind: 'tcpSocket', host: undefined, port: 8080 }, periodMs: 0, timeoutMs: 1000, successThreshold: 2 });
    const flags = parseConfig(['--drain-quiet-period', '500ms', '--upgrade-drain-timeout', '2s', '--readiness-probe', '{"httpGet":{"path":"/ready"},"periodSeconds":3}'], env, 'h');
    assert.deepEqual([flags.drainQuietPeriodMs, flags.upgradeDrainTimeoutMs], [500, 2000]);
    assert.equal(flags.readinessProbe?.periodMs, 3000);
  });

  it("reads Knative's concurrency and timeout variables; 0 turns a timeout off", () => {
    const config = parseConfig([], { ...KNATIVE_ENV, CONTAINER_CONCURRENCY: '4', REVISION_RESPONSE_START_TIMEOUT_SECONDS: '30', REVISION_IDLE_TIMEOUT_SECONDS: '0' }, 'h');
    assert.deepEqual([config.containerConcurrency, config.maxQueueDepth, config.responseStartTimeoutMs, config.idleTimeoutMs], [4, undefined, 30_000, 0]);
  });

  it('concurrency and timeout flags override the environment', () => {
    const config = parseConfig(
      ['--container-concurrency', '2', '--queue-depth', '5', '--response-start-timeout', '1500ms', '--idle-timeout', '0.25'],
      { CONTAINER_CONCURRENCY: '4', REVISION_RESPONSE_START_TIMEOUT_SECONDS: '30', REVISION_IDLE_TIMEOUT_SECONDS: '7' },
      'h',
    );
    assert.deepEqual([config.containerConcurrency, config.maxQueueDepth, config.responseStartTimeoutMs, config.idleTimeoutMs], [2, 5, 1500, 250]);
    assert.deepEqual(
      ['0', '0s', '0.0', '0ms'].map((off) => parseConfig(['--idle-timeout', off], {}, 'h').idleTimeoutMs),
      [0, 0, 0, 0],
    );
  });

  it('reads Knative environment variables', () => {
    const config = parseConfig([], { ...KNATIVE_ENV, QUEUE_SERVING_PORT: '8013', REVISION_TIMEOUT_SECONDS: '120' }, 'h');
    assert.equal(config.upstream, 'http://127.0.0.1:8080');
    assert.equal(config.port, 8013);
    assert.equal(config.timeoutMs, 120_000);
    assert.deepEqual(config.identity, { namespace: 'default', config: 'hello', revision: 'hello-00001', pod: 'hello-00001-deployment-abc' });
  });

  it('flags override the environment', () => {
    const config = parseConfig(
      [
        '--upstream',
        'http://localhost:9000/',
        '--port=18012',
        '--metrics-port',
        '19090',
        '--host',
        '127.0.0.1',
        '--pod',
        'p2',
        '--reporting-period',
        '2s',
        '--timeout',
        '1500ms',
        '--drain-timeout',
        '5',
        '--otlp-endpoint',
        'http://127.0.0.1:4318/v1/metrics',
      ],
      KNATIVE_ENV,
      'h',
    );
    assert.equal(config.upstream, 'http://localhost:9000');
    assert.equal(config.port, 18012);
    assert.equal(config.metricsPort, 19090);
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.identity.pod, 'p2');
    assert.equal(config.reportingPeriodMs, 2000);
    assert.equal(config.timeoutMs, 1500);
    assert.equal(config.drainTimeoutMs, 5000);
    assert.equal(config.otlpEndpoint, 'http://127.0.0.1:4318/v1/metrics');
  });

  it('a bare reporting period is milliseconds, a bare timeout is seconds', () => {
    const config = parseConfig(['--reporting-period', '250', '--timeout', '2'], {}, 'h');
    assert.equal(config.reportingPeriodMs, 250);
    assert.equal(config.timeoutMs, 2000);
  });

  it('seconds with decimals are exact milliseconds: 1.001 s is 1001 ms, which the proxy takes', () => {
    assert.equal(parseConfig(['--timeout', '1.001'], {}, 'h').timeoutMs, 1001);
    assert.equal(parseConfig(['--timeout', '0.25s', '--drain-timeout', '2.5'], {}, 'h').drainTimeoutMs, 2500);
    assert.equal(parseConfig([], { REVISION_TIMEOUT_SECONDS: '600.125' }, 'h').timeoutMs, 600_125);
  });

  it('the request metrics port and the Knative service: by flag, the service also from SERVING_SERVICE', () => {
    const config = parseConfig(['--request-metrics-port', '19091', '--service', 'hello-svc'], { ...KNATIVE_ENV, SERVING_SERVICE: 'from-env' }, 'h');
    assert.equal(config.requestMetricsPort, 19091);
    assert.equal(config.service, 'hello-svc');
    assert.equal(parseConfig([], { ...KNATIVE_ENV, SERVING_SERVICE: 'hello' }, 'h').service, 'hello');
  });

  it('--help and --version', () => {
    assert.equal(parseConfig(['--help'], {}, 'h').help, true);
    assert.equal(parseConfig(['--version'], {}, 'h').version, true);
  });
});

describe('parseConfig: the TLS port', () => {
  it("reads Knative's QUEUE_SERVING_TLS_PORT and QUEUE_PROXY_TLS_* and the certificate files from their variables; flags override them", () => {
    const env = {
      QUEUE_SERVING_TLS_PORT: '9443',
      QUEUE_PROXY_TLS_MIN_VERSION: '1.2',
      QUEUE_PROXY_TLS_MAX_VERSION: '1.2',
      QUEUE_STATS_TLS_CERT_FILE: '/c/tls.crt',
      QUEUE_STATS_TLS_KEY_FILE: '/c/tls.key',
      QUEUE_PROXY_TLS_CIPHER_SUITES: ' TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,,TLS_AES_128_GCM_SHA256 ',
      QUEUE_PROXY_TLS_CURVE_PREFERENCES: 'CurveP384, X25519,P-256,',
    };
    assert.deepEqual(parseConfig([], env, 'h').tls, {
      port: 9443,
      certFile: '/c/tls.crt',
      keyFile: '/c/tls.key',
      filesGiven: true,
      certField: 'QUEUE_STATS_TLS_CERT_FILE (--tls-cert)',
      keyField: 'QUEUE_STATS_TLS_KEY_FILE (--tls-key)',
      minVersion: '1.2',
      maxVersion: '1.2',
      cipherSuites: ['TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', 'TLS_AES_128_GCM_SHA256'],
      curvePreferences: ['CurveP384', 'X25519', 'P-256'],
    });
    const flags = parseConfig(
      ['--tls-port', '0', '--tls-cert', '/f/c.pem', '--tls-max-version', '1.3', '--tls-cipher-suites', 'TLS_AES_256_GCM_SHA384', '--tls-curve-preferences', 'X25519MLKEM768'],
      env,
      'h',
    ).tls;
    assert.deepEqual(
      [flags.port, flags.certFile, flags.certField, flags.keyFile, flags.keyField, flags.maxVersion, flags.cipherSuites, flags.curvePreferences],
      [0, '/f/c.pem', '--tls-cert', '/c/tls.key', 'QUEUE_STATS_TLS_KEY_FILE (--tls-key)', '1.3', ['TLS_AES_256_GCM_SHA384'], ['X25519MLKEM768']],
    );
  });

  it('an empty QUEUE_PROXY_TLS_* variable is unset, as knative/pkg reads it; a list of blanks and commas is an empty list', () => {
    const empty = { QUEUE_PROXY_TLS_MIN_VERSION: '', QUEUE_PROXY_TLS_MAX_VERSION: '', QUEUE_PROXY_TLS_CIPHER_SUITES: '', QUEUE_PROXY_TLS_CURVE_PREFERENCES: '' };
    assert.deepEqual(parseConfig([], empty, 'h').tls, parseConfig([], {}, 'h').tls);
    assert.deepEqual([parseConfig([], empty, 'h').tls.minVersion, parseConfig([], empty, 'h').tls.maxVersion], ['1.3', undefined]);
    const blank = parseConfig([], { QUEUE_PROXY_TLS_CIPHER_SUITES: ' , ', QUEUE_PROXY_TLS_CURVE_PREFERENCES: ',' }, 'h').tls;
    assert.deepEqual([blank.cipherSuites, blank.curvePreferences], [[], []]);
  });

  it('a bad TLS port or version names its flag or variable', () => {
    assertConfigError(['--tls-port', '70000'], {}, '--tls-port', '--tls-port must be a port from 0 to 65535, got "70000"');
    assertConfigError([], { QUEUE_PROXY_TLS_MIN_VERSION: '1.0' }, 'QUEUE_PROXY_TLS_MIN_VERSION (--tls-min-version)', 'QUEUE_PROXY_TLS_MIN_VERSION (--tls-min-version) must be 1.2 or 1.3, got "1.0"');
    assertConfigError(['--tls-max-version', '1.2'], {}, '--tls-max-version', '--tls-max-version (1.2) must not be older than --tls-min-version (1.3)');
    assertConfigError(['--tls-cert', ''], {}, '--tls-cert', '--tls-cert must not be empty');
  });

  it('an unknown cipher suite or curve, a group this OpenSSL lacks, or suites that leave TLS 1.2 alone nothing, name the flag or variable', () => {
    assertConfigError(
      [],
      { QUEUE_PROXY_TLS_CIPHER_SUITES: 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_BOGUS' },
      'QUEUE_PROXY_TLS_CIPHER_SUITES (--tls-cipher-suites)',
      'QUEUE_PROXY_TLS_CIPHER_SUITES (--tls-cipher-suites): unknown cipher suite "TLS_BOGUS" (Go\'s crypto/tls names, such as TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)',
    );
    assertConfigError(
      ['--tls-curve-preferences', 'P-256,curve25519'],
      {},
      '--tls-curve-preferences',
      '--tls-curve-preferences: unknown curve "curve25519" (one of CurveP256, CurveP384, CurveP521, X25519, X25519MLKEM768, P-256, P-384, P-521)',
    );
    assertConfigError(
      [],
      { QUEUE_PROXY_TLS_MIN_VERSION: '1.2', QUEUE_PROXY_TLS_MAX_VERSION: '1.2', QUEUE_PROXY_TLS_CIPHER_SUITES: 'TLS_AES_128_GCM_SHA256' },
      'QUEUE_PROXY_TLS_CIPHER_SUITES (--tls-cipher-suites)',
      'QUEUE_PROXY_TLS_CIPHER_SUITES (--tls-cipher-suites) names no TLS 1.2 cipher suite and QUEUE_PROXY_TLS_MAX_VERSION (--tls-max-version) is 1.2: no handshake could succeed',
    );
  });
});

describe('parseConfig errors name the option', () => {
  it('a bad SERVING_READINESS_PROBE names the variable, the flag and the JSON field', () => {
    const field = 'SERVING_READINESS_PROBE (--readiness-probe)';
    assertConfigError(
      [],
      { SERVING_READINESS_PROBE: '{"httpGet":{"port":"http"}}' },
      field,
      `${field}: httpGet.port must be a port number from 0 to 65535 (0: the app's port; named ports cannot be resolved here), got "http"`,
    );
    assertConfigError([], { SERVING_READINESS_PROBE: '{"grpc":{"port":"8080"}}' }, field, `${field}: grpc.port must be a whole number from 0 to 65535 (0: the app's port), got "8080"`);
  });

  const cases: Array<[string[], Record<string, string>, string, string]> = [
    [['--port', 'abc'], {}, '--port', '--port must be a port from 0 to 65535, got "abc"'],
    [['--port', '70000'], {}, '--port', '--port must be a port from 0 to 65535, got "70000"'],
    [['--metrics-port', '1e3'], {}, '--metrics-port', '--metrics-port must be a port from 0 to 65535, got "1e3"'],
    [['--request-metrics-port', '65536'], {}, '--request-metrics-port', '--request-metrics-port must be a port from 0 to 65535, got "65536"'],
    [[], { SERVING_SERVICE: '' }, 'SERVING_SERVICE (--service)', 'SERVING_SERVICE (--service) must not be empty'],
    [[], { QUEUE_SERVING_PORT: '-1' }, 'QUEUE_SERVING_PORT (--port)', 'QUEUE_SERVING_PORT (--port) must be a port from 0 to 65535, got "-1"'],
    [[], { QUEUE_STATS_METRICS_PORT: '0x50' }, 'QUEUE_STATS_METRICS_PORT (--metrics-port)', 'QUEUE_STATS_METRICS_PORT (--metrics-port) must be a port from 0 to 65535, got "0x50"'],
    [[], { USER_PORT: '0' }, 'USER_PORT (--upstream)', 'USER_PORT (--upstream) must be a port from 1 to 65535, got "0"'],
    [[], { USER_PORT: 'x' }, 'USER_PORT (--upstream)', 'USER_PORT (--upstream) must be a port from 1 to 65535, got "x"'],
    [['--upstream', 'not a url'], {}, '--upstream', '--upstream must be an http:// URL, got "not a url"'],
    [['--upstream', 'ftp://x'], {}, '--upstream', '--upstream must be an http:// URL, got "ftp://x"'],
    [['--namespace', ''], {}, '--namespace', '--namespace must not be empty'],
    [['--reporting-period', '0'], {}, '--reporting-period', '--reporting-period must be a positive duration such as 1s or 500ms, got "0"'],
    [['--timeout', '5m'], {}, '--timeout', '--timeout must be a positive duration such as 1s or 500ms, got "5m"'],
    [[], { REVISION_TIMEOUT_SECONDS: 'soon' }, 'REVISION_TIMEOUT_SECONDS (--timeout)', 'REVISION_TIMEOUT_SECONDS (--timeout) must be a positive duration such as 1s or 500ms, got "soon"'],
    [['--container-concurrency=-1'], {}, '--container-concurrency', '--container-concurrency must be an integer >= 0, got "-1"'],
    [['--container-concurrency', '1.5'], {}, '--container-concurrency', '--container-concurrency must be an integer >= 0, got "1.5"'],
    [[], { CONTAINER_CONCURRENCY: 'many' }, 'CONTAINER_CONCURRENCY (--container-concurrency)', 'CONTAINER_CONCURRENCY (--container-concurrency) must be an integer >= 0, got "many"'],
    [['--queue-depth', '0'], {}, '--queue-depth', '--queue-depth must be a positive integer, got "0"'],
    [['--idle-timeout=-1'], {}, '--idle-timeout', '--idle-timeout must be 0 (off) or a positive duration such as 1s or 500ms, got "-1"'],
    [
      [],
      { REVISION_RESPONSE_START_TIMEOUT_SECONDS: 'never' },
      'REVISION_RESPONSE_START_TIMEOUT_SECONDS (--response-start-timeout)',
      'REVISION_RESPONSE_START_TIMEOUT_SECONDS (--response-start-timeout) must be 0 (off) or a positive duration such as 1s or 500ms, got "never"',
    ],
    [
      ['--response-start-timeout', '3000000'],
      {},
      '--response-start-timeout',
      `--response-start-timeout must be at most 2147483647 ms (the longest delay Node's timers take), got "3000000" (3000000000 ms)`,
    ],
    [['--upstream', 'http://127.0.0.1:8080'], {}, '--namespace', '--namespace (or SERVING_NAMESPACE) is required when --upstream or USER_PORT is set'],
    [[], { USER_PORT: '8080', SERVING_NAMESPACE: 'a', SERVING_CONFIGURATION: 'b', SERVING_REVISION: 'c' }, '--pod', '--pod (or SERVING_POD) is required when --upstream or USER_PORT is set'],
    [['--upstream-protocol', 'h3'], {}, '--upstream-protocol', '--upstream-protocol must be auto, http1 or h2c, got "h3"'],
    [[], { QUEUE_STATS_UPSTREAM_PROTOCOL: 'h2' }, 'QUEUE_STATS_UPSTREAM_PROTOCOL (--upstream-protocol)', 'QUEUE_STATS_UPSTREAM_PROTOCOL (--upstream-protocol) must be auto, http1 or h2c, got "h2"'],
    [['--bogus'], {}, '--bogus', "Unknown option '--bogus'"],
    [['--port'], {}, '--port', "Option '--port <value>' argument missing"],
    [['extra'], {}, 'arguments', "Unexpected argument 'extra'"],
  ];
  for (const [argv, env, field, message] of cases) {
    it(`${JSON.stringify(argv)} ${JSON.stringify(env)}`, () => assertConfigError(argv, env, field, message));
  }
});

describe('parseConfig refuses up front what the proxy would refuse, naming the flag or variable', () => {
  const cases: Array<[string[], Record<string, string>, string, string]> = [
    [['--upstream', 'http://u:p@127.0.0.1:8080/app?x=1'], {}, '--upstream', '--upstream must not contain credentials (user:password@): the proxy does not send them'],
    [['--upstream', 'http://127.0.0.1:8080/app'], {}, '--upstream', '--upstream must have no path, query or fragment (each request keeps its own), got "http://127.0.0.1:8080/app"'],
    [['--upstream', 'http://127.0.0.1:8080?x=1'], {}, '--upstream', '--upstream must have no path, query or fragment (each request keeps its own), got "http://127.0.0.1:8080?x=1"'],
    [['--upstream', 'http://127.0.0.1:8080/#top'], {}, '--upstream', '--upstream must have no path, query or fragment (each request keeps its own), got "http://127.0.0.1:8080/#top"'],
    [['--upstream', 'https://127.0.0.1:8443'], {}, '--upstream', '--upstream must be an http:// URL, got "https://127.0.0.1:8443"'],
    [['--timeout', '1.0005'], {}, '--timeout', '--timeout must be a positive integer, got "1.0005" (1000.5 ms)'],
    [['--timeout', '0.5ms'], {}, '--timeout', '--timeout must be a positive integer, got "0.5ms" (0.5 ms)'],
    [[], { REVISION_TIMEOUT_SECONDS: '0.0001' }, 'REVISION_TIMEOUT_SECONDS (--timeout)', 'REVISION_TIMEOUT_SECONDS (--timeout) must be a positive integer, got "0.0001" (0.1 ms)'],
    // Node fires a timer set past 2147483647 ms after 1 ms: 3000000 s would answer 504 at once.
    [['--timeout', '3000000'], {}, '--timeout', `--timeout must be at most 2147483647 ms (the longest delay Node's timers take), got "3000000" (3000000000 ms)`],
    [
      [],
      { REVISION_TIMEOUT_SECONDS: '2147484' },
      'REVISION_TIMEOUT_SECONDS (--timeout)',
      `REVISION_TIMEOUT_SECONDS (--timeout) must be at most 2147483647 ms (the longest delay Node's timers take), got "2147484" (2147484000 ms)`,
    ],
    [['--drain-timeout', '2147483.648'], {}, '--drain-timeout', `--drain-timeout must be at most 2147483647 ms (the longest delay Node's timers take), got "2147483.648" (2147483648 ms)`],
    [['--reporting-period', '2147483648'], {}, '--reporting-period', `--reporting-period must be at most 2147483647 ms (the longest delay Node's timers take), got "2147483648" (2147483648 ms)`],
    [['--timeout', '99999999999999999999'], {}, '--timeout', `--timeout must be at most 2147483647 ms (the longest delay Node's timers take), got "99999999999999999999" (1e+23 ms)`],
  ];
  for (const [argv, env, field, message] of cases) {
    it(`${JSON.stringify(argv)} ${JSON.stringify(env)}`, () => assertConfigError(argv, env, field, message));
  }

  it("takes durations up to 2147483647 ms, the longest delay Node's timers take", () => {
    const config = parseConfig(['--timeout', '2147483.647', '--drain-timeout', '2147483647ms', '--reporting-period', '2147483647'], {}, 'h');
    assert.deepEqual([config.timeoutMs, config.drainTimeoutMs, config.reportingPeriodMs], [2147483647, 2147483647, 2147483647]);
  });

  it('a bare origin with or without the trailing slash is the same upstream', () => {
    assert.equal(parseConfig(['--upstream', 'http://127.0.0.1:8080/', '--namespace', 'a', '--config', 'b', '--revision', 'c', '--pod', 'd'], {}, 'h').upstream, 'http://127.0.0.1:8080');
  });
});

describe('usage', () => {
  it('lists every option with its environment variable and default', () => {
    const text = usage();
    for (const expected of [
      '--upstream URL',
      'env USER_PORT',
      '--tls-port PORT',
      'env QUEUE_SERVING_TLS_PORT',
      '(default: 8112)',
      '--tls-cert FILE',
      'env QUEUE_STATS_TLS_CERT_FILE',
      '(default: /var/lib/knative/certs/tls.crt)',
      '--tls-key FILE',
      'env QUEUE_STATS_TLS_KEY_FILE',
      '--tls-min-version VERSION',
      'env QUEUE_PROXY_TLS_MIN_VERSION',
      '--tls-max-version VERSION',
      'env QUEUE_PROXY_TLS_MAX_VERSION',
      '--tls-cipher-suites NAMES',
      'env QUEUE_PROXY_TLS_CIPHER_SUITES',
      '--tls-curve-preferences NAMES',
      'env QUEUE_PROXY_TLS_CURVE_PREFERENCES',
      '--upstream-protocol PROTOCOL',
      '--max-concurrent-streams N',
      'env QUEUE_STATS_MAX_CONCURRENT_STREAMS',
      '(default: 250)',
      '--max-streams N',
      '--request-body-idle-timeout DURATION',
      'env QUEUE_STATS_REQUEST_BODY_IDLE_TIMEOUT',
      'env QUEUE_STATS_MAX_STREAMS',
      'env QUEUE_STATS_UPSTREAM_PROTOCOL',
      '(default: auto)',
      '--port PORT',
      'env QUEUE_SERVING_PORT',
      '(default: 8012)',
      '--metrics-port PORT',
      'env QUEUE_STATS_METRICS_PORT',
      '(default: 9090)',
      '--request-metrics-port PORT',
      '(default: 9091)',
      '--service NAME',
      'env SERVING_SERVICE',
      '--host HOST',
      'env SERVING_NAMESPACE',
      'env SERVING_CONFIGURATION',
      'env SERVING_REVISION',
      'env SERVING_POD',
      '--reporting-period DURATION',
      'env REVISION_TIMEOUT_SECONDS',
      '(default: 300s)',
      '--response-start-timeout DURATION',
      'env REVISION_RESPONSE_START_TIMEOUT_SECONDS',
      '--idle-timeout DURATION',
      'env REVISION_IDLE_TIMEOUT_SECONDS',
      '--container-concurrency N',
      'env CONTAINER_CONCURRENCY',
      '(default: 0 (no limit))',
      '--queue-depth N',
      '(default: 10 x N)',
      '--drain-timeout',
      '--otlp-endpoint URL',
      '--help',
      '--version',
    ]) {
      assert.ok(text.includes(expected), expected);
    }
  });
});
