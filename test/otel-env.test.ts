import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../src/core/errors.js';
import { parseKeyValueList, telemetryFromEnv, type Env, type OtlpSettings, type TelemetryOverrides } from '../src/otel/otel-env.js';

/** The OTLP settings when only an endpoint variable is set. */
const DEFAULTS: OtlpSettings = {
  endpoint: 'http://localhost:4318/v1/metrics',
  protocol: 'http/protobuf',
  headers: {},
  intervalMs: 60_000,
  readerTimeoutMs: 30_000,
  exporterTimeoutMs: 10_000,
};

/** Runs telemetryFromEnv with otlp forced on, returning only the OTLP settings. */
function otlp(env: Env, overrides?: TelemetryOverrides): OtlpSettings | undefined {
  return telemetryFromEnv({ OTEL_METRICS_EXPORTER: 'otlp', ...env }, overrides).otlp;
}

/** Asserts that telemetryFromEnv throws a ConfigError for `field` whose message names it and contains `fragment`. */
function assertRejects(env: Env, field: string, fragment: string, overrides?: TelemetryOverrides): void {
  assert.throws(
    () => telemetryFromEnv(env, overrides),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
      assert.equal(error.field, field);
      assert.ok(error.message.includes(field), `message '${error.message}' does not name ${field}`);
      assert.ok(error.message.includes(fragment), `message '${error.message}' lacks '${fragment}'`);
      return true;
    },
  );
}

describe('telemetryFromEnv: which exporters run', () => {
  const cases: { name: string; env: Env; overrides?: TelemetryOverrides; exporters: string[] }[] = [
    { name: 'nothing set: prometheus only', env: {}, exporters: ['prometheus'] },
    { name: 'empty OTEL_METRICS_EXPORTER counts as unset', env: { OTEL_METRICS_EXPORTER: '  ' }, exporters: ['prometheus'] },
    { name: 'metrics endpoint set: prometheus and otlp', env: { OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://127.0.0.1:4318/v1/metrics' }, exporters: ['prometheus', 'otlp'] },
    { name: 'base endpoint set: prometheus and otlp', env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }, exporters: ['prometheus', 'otlp'] },
    { name: 'flag set: prometheus and otlp', env: {}, overrides: { otlpEndpoint: 'http://127.0.0.1:4318/v1/metrics' }, exporters: ['prometheus', 'otlp'] },
    { name: 'empty endpoint counts as unset', env: { OTEL_EXPORTER_OTLP_ENDPOINT: '' }, exporters: ['prometheus'] },
    { name: 'otlp alone', env: { OTEL_METRICS_EXPORTER: 'otlp' }, exporters: ['otlp'] },
    { name: 'prometheus alone, endpoint ignored', env: { OTEL_METRICS_EXPORTER: 'prometheus', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }, exporters: ['prometheus'] },
    { name: 'both, spaces and duplicates', env: { OTEL_METRICS_EXPORTER: ' otlp , prometheus,otlp,' }, exporters: ['otlp', 'prometheus'] },
    { name: 'none', env: { OTEL_METRICS_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }, exporters: [] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const settings = telemetryFromEnv(c.env, c.overrides);
      assert.deepEqual([...settings.exporters], c.exporters);
      assert.equal(settings.otlp !== undefined, c.exporters.includes('otlp'));
    });
  }

  it('does not read the OTLP variables when otlp does not run', () => {
    const settings = telemetryFromEnv({
      OTEL_METRICS_EXPORTER: 'prometheus',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      OTEL_METRIC_EXPORT_INTERVAL: 'soon',
    });
    assert.deepEqual(settings, { exporters: new Set(['prometheus']) });
  });
});

describe('telemetryFromEnv: OTLP settings', () => {
  const cases: { name: string; env: Env; overrides?: TelemetryOverrides; expected: Partial<OtlpSettings> }[] = [
    { name: 'defaults per spec', env: {}, expected: {} },
    {
      name: 'metrics endpoint used as-is',
      env: { OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'https://collector.example:4318/custom/path' },
      expected: { endpoint: 'https://collector.example:4318/custom/path' },
    },
    { name: 'metrics endpoint gets a root path', env: { OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://127.0.0.1:4318' }, expected: { endpoint: 'http://127.0.0.1:4318/' } },
    { name: 'base endpoint gets /v1/metrics', env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }, expected: { endpoint: 'http://127.0.0.1:4318/v1/metrics' } },
    { name: 'base endpoint with a trailing slash: no double slash', env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318/' }, expected: { endpoint: 'http://127.0.0.1:4318/v1/metrics' } },
    { name: 'base endpoint with a path prefix', env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://[::1]:4318/otlp/' }, expected: { endpoint: 'http://[::1]:4318/otlp/v1/metrics' } },
    {
      name: 'metrics endpoint wins over the base one',
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1', OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://127.0.0.1:2/m' },
      expected: { endpoint: 'http://127.0.0.1:2/m' },
    },
    {
      name: 'the flag wins over both, used as-is',
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1', OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://127.0.0.1:2/m' },
      overrides: { otlpEndpoint: 'http://127.0.0.1:3/flag' },
      expected: { endpoint: 'http://127.0.0.1:3/flag' },
    },
    { name: 'http/json', env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }, expected: { protocol: 'http/json' } },
    { name: "grpc: the spec's default endpoint for it", env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, expected: { protocol: 'grpc', endpoint: 'http://localhost:4317' } },
    {
      name: 'grpc: the base endpoint as-is, no signal path',
      env: { OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_ENDPOINT: 'https://collector.example:4317' },
      expected: { protocol: 'grpc', endpoint: 'https://collector.example:4317/' },
    },
    {
      name: 'metrics protocol wins over the general one',
      env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json' },
      expected: { protocol: 'http/json' },
    },
    {
      name: 'headers merged, metrics ones win per case-insensitive name, percent-decoded',
      env: {
        OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=Basic%20YWxhZGRpbjpvcGVuc2VzYW1l, x-tenant = a ,x-only=general',
        OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'X-Tenant=b%2Cc,api-key=k==',
      },
      expected: { headers: { authorization: 'Basic YWxhZGRpbjpvcGVuc2VzYW1l', 'x-tenant': 'b,c', 'x-only': 'general', 'api-key': 'k==' } },
    },
    { name: 'interval', env: { OTEL_METRIC_EXPORT_INTERVAL: '15000' }, expected: { intervalMs: 15_000, readerTimeoutMs: 15_000 } },
    { name: 'reader timeout defaults to the interval when that is shorter', env: { OTEL_METRIC_EXPORT_INTERVAL: '200' }, expected: { intervalMs: 200, readerTimeoutMs: 200 } },
    { name: 'reader timeout', env: { OTEL_METRIC_EXPORT_TIMEOUT: '5000' }, expected: { readerTimeoutMs: 5_000 } },
    { name: 'reader timeout equal to the interval', env: { OTEL_METRIC_EXPORT_INTERVAL: '5000', OTEL_METRIC_EXPORT_TIMEOUT: '5000' }, expected: { intervalMs: 5_000, readerTimeoutMs: 5_000 } },
    {
      name: 'reader timeout 0 means as long as the interval',
      env: { OTEL_METRIC_EXPORT_INTERVAL: '20000', OTEL_METRIC_EXPORT_TIMEOUT: '0' },
      expected: { intervalMs: 20_000, readerTimeoutMs: 20_000 },
    },
    { name: 'exporter timeout', env: { OTEL_EXPORTER_OTLP_TIMEOUT: '2500' }, expected: { exporterTimeoutMs: 2_500 } },
    { name: 'metrics exporter timeout wins', env: { OTEL_EXPORTER_OTLP_TIMEOUT: '2500', OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: '700' }, expected: { exporterTimeoutMs: 700 } },
    {
      name: 'exporter timeout 0 means as long as the reader timeout',
      env: { OTEL_METRIC_EXPORT_TIMEOUT: '4000', OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: '0' },
      expected: { readerTimeoutMs: 4_000, exporterTimeoutMs: 4_000 },
    },
    { name: 'numbers may carry spaces', env: { OTEL_METRIC_EXPORT_INTERVAL: ' 1000 ' }, expected: { intervalMs: 1_000, readerTimeoutMs: 1_000 } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(otlp(c.env, c.overrides), { ...DEFAULTS, ...c.expected });
    });
  }
});

describe('telemetryFromEnv: errors name their variable', () => {
  const cases: { env: Env; field: string; fragment: string; overrides?: TelemetryOverrides }[] = [
    { env: { OTEL_METRICS_EXPORTER: 'console' }, field: 'OTEL_METRICS_EXPORTER', fragment: "'console' is not supported" },
    { env: { OTEL_METRICS_EXPORTER: 'otlp,Prometheus' }, field: 'OTEL_METRICS_EXPORTER', fragment: "'Prometheus'" },
    { env: { OTEL_METRICS_EXPORTER: 'none,otlp' }, field: 'OTEL_METRICS_EXPORTER', fragment: 'cannot combine none' },
    { env: { OTEL_METRICS_EXPORTER: 'prometheus' }, overrides: { otlpEndpoint: 'http://127.0.0.1:4318/v1/metrics' }, field: '--otlp-endpoint', fragment: 'does not include otlp' },
    { env: { OTEL_METRICS_EXPORTER: 'none' }, overrides: { otlpEndpoint: 'http://127.0.0.1:4318/v1/metrics' }, field: '--otlp-endpoint', fragment: 'does not include otlp' },
    { env: {}, overrides: { otlpEndpoint: '127.0.0.1:4318' }, field: '--otlp-endpoint', fragment: "got '127.0.0.1:4318'" },
    { env: { OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'collector:4318' }, field: 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT', fragment: 'http or https URL' },
    { env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' }, field: 'OTEL_EXPORTER_OTLP_ENDPOINT', fragment: "got 'not a url'" },
    { env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'ftp://127.0.0.1/' }, field: 'OTEL_EXPORTER_OTLP_ENDPOINT', fragment: 'http or https URL' },
    {
      env: { OTEL_METRICS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/xml' },
      field: 'OTEL_EXPORTER_OTLP_PROTOCOL',
      fragment: "'http/xml' is not a protocol; use http/protobuf, http/json or grpc",
    },
    { env: { OTEL_METRICS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'GRPC' }, field: 'OTEL_EXPORTER_OTLP_METRICS_PROTOCOL', fragment: "'GRPC' is not a protocol" },
    {
      env: { OTEL_METRICS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'x!tenant=a' },
      field: 'OTEL_EXPORTER_OTLP_METRICS_HEADERS',
      fragment: "'x!tenant' cannot be gRPC metadata",
    },
    { env: { OTEL_METRICS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_HEADERS: 'Key-Bin=a' }, field: 'OTEL_EXPORTER_OTLP_HEADERS', fragment: 'not ending in -bin' },
    { env: { OTEL_METRICS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_HEADERS: 'a=1,broken' }, field: 'OTEL_EXPORTER_OTLP_HEADERS', fragment: "entry 'broken'" },
    { env: { OTEL_METRICS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_METRICS_HEADERS: '=v' }, field: 'OTEL_EXPORTER_OTLP_METRICS_HEADERS', fragment: "entry '=v'" },
    { env: { OTEL_METRICS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_HEADERS: 'a=%E0%A4%A' }, field: 'OTEL_EXPORTER_OTLP_HEADERS', fragment: 'malformed percent-encoding' },
    { env: { OTEL_METRICS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_HEADERS: 'bad%20name=v' }, field: 'OTEL_EXPORTER_OTLP_HEADERS', fragment: "'bad name' is not a valid HTTP header name" },
    { env: { OTEL_METRICS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_HEADERS: 'x=a%0D%0Ay' }, field: 'OTEL_EXPORTER_OTLP_HEADERS', fragment: 'control characters' },
    { env: { OTEL_METRICS_EXPORTER: 'otlp', OTEL_METRIC_EXPORT_INTERVAL: '0' }, field: 'OTEL_METRIC_EXPORT_INTERVAL', fragment: 'from 1 to 2147483647' },
    { env: { OTEL_METRICS_EXPORTER: 'otlp', OTEL_METRIC_EXPORT_INTERVAL: '-5' }, field: 'OTEL_METRIC_EXPORT_INTERVAL', fragment: "got '-5'" },
    { env: { OTEL_METRICS_EXPORTER: 'otlp', OTEL_METRIC_EXPORT_INTERVAL: '1.5' }, field: 'OTEL_METRIC_EXPORT_INTERVAL', fragment: "got '1.5'" },
    { env: { OTEL_METRICS_EXPORTER: 'otlp', OTEL_METRIC_EXPORT_INTERVAL: '60s' }, field: 'OTEL_METRIC_EXPORT_INTERVAL', fragment: "got '60s'" },
    { env: { OTEL_METRICS_EXPORTER: 'otlp', OTEL_METRIC_EXPORT_INTERVAL: '2147483648' }, field: 'OTEL_METRIC_EXPORT_INTERVAL', fragment: 'from 1 to 2147483647' },
    { env: { OTEL_METRICS_EXPORTER: 'otlp', OTEL_METRIC_EXPORT_TIMEOUT: 'x' }, field: 'OTEL_METRIC_EXPORT_TIMEOUT', fragment: 'from 0 to 2147483647' },
    {
      env: { OTEL_METRICS_EXPORTER: 'otlp', OTEL_METRIC_EXPORT_INTERVAL: '1000', OTEL_METRIC_EXPORT_TIMEOUT: '1001' },
      field: 'OTEL_METRIC_EXPORT_TIMEOUT',
      fragment: 'must not exceed OTEL_METRIC_EXPORT_INTERVAL (1000 ms)',
    },
    { env: { OTEL_METRICS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_TIMEOUT: '10s' }, field: 'OTEL_EXPORTER_OTLP_TIMEOUT', fragment: "got '10s'" },
    { env: { OTEL_METRICS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: '-1' }, field: 'OTEL_EXPORTER_OTLP_METRICS_TIMEOUT', fragment: "got '-1'" },
  ];
  for (const c of cases) {
    it(`${c.field}: ${c.fragment}`, () => assertRejects(c.env, c.field, c.fragment, c.overrides));
  }
});

describe('parseKeyValueList', () => {
  it('parses, trims and percent-decodes keys and values; blank entries are skipped; the last duplicate wins', () => {
    assert.deepEqual(parseKeyValueList('V', ' a = 1 ,,b%3Dc=x%2Cy, a=2 ,empty='), { a: '2', 'b=c': 'x,y', empty: '' });
  });

  it('gives an empty record for undefined', () => {
    assert.deepEqual(parseKeyValueList('V', undefined), {});
  });
});
