import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../src/core/errors.js';
import type { Env } from '../src/otel/otel-env.js';
import { tracesFromEnv, type TraceSettings } from '../src/otel/trace-env.js';

/** The settings when tracing is only switched on. */
const ON: TraceSettings = {
  endpoint: 'http://localhost:4318/v1/traces',
  protocol: 'http/protobuf',
  headers: {},
  exporterTimeoutMs: 10_000,
  sampler: { name: 'parentbased_always_on', ratio: 1 },
};

/** Knative's OBSERVABILITY_CONFIG with this `tracing` object. */
function knative(tracing: Record<string, unknown>): string {
  return JSON.stringify({ tracing, metrics: { protocol: 'prometheus' }, runtime: {} });
}

/** Asserts that tracesFromEnv throws a ConfigError for `field` whose message names it and contains `fragment`. */
function assertRejects(env: Env, field: string, fragment: string): void {
  assert.throws(
    () => tracesFromEnv(env),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
      assert.equal(error.field, field);
      assert.ok(error.message.startsWith(field), `message '${error.message}' does not start with ${field}`);
      assert.ok(error.message.includes(fragment), `message '${error.message}' lacks '${fragment}'`);
      return true;
    },
  );
}

describe('whether tracing is on', () => {
  it('is off by default, with OTEL_TRACES_EXPORTER=none, and with Knative protocol none', () => {
    assert.equal(tracesFromEnv({}), undefined);
    assert.equal(tracesFromEnv({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }), undefined);
    assert.equal(tracesFromEnv({ OBSERVABILITY_CONFIG: knative({ protocol: 'none' }) }), undefined);
    assert.equal(tracesFromEnv({ OBSERVABILITY_CONFIG: '{}' }), undefined);
    assert.equal(tracesFromEnv({ OTEL_TRACES_EXPORTER: ' ' }), undefined);
  });

  it("is on with OTEL_TRACES_EXPORTER=otlp, at the spec's default endpoint", () => {
    assert.deepEqual(tracesFromEnv({ OTEL_TRACES_EXPORTER: 'otlp' }), ON);
  });

  it('is on once an OTLP endpoint is set: the traces one as-is, the general one with /v1/traces', () => {
    assert.equal(tracesFromEnv({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/custom' })?.endpoint, 'http://c:4318/custom');
    assert.equal(tracesFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://c:4318/base/' })?.endpoint, 'https://c:4318/base/v1/traces');
  });

  it("is on with Knative's http/protobuf tracing, at its endpoint unless an OTLP variable sets one", () => {
    const config = knative({ protocol: 'http/protobuf', endpoint: 'http://collector.observability:4318/v1/traces', samplingRate: 0.25 });
    assert.deepEqual(tracesFromEnv({ OBSERVABILITY_CONFIG: config }), {
      ...ON,
      endpoint: 'http://collector.observability:4318/v1/traces',
      sampler: { name: 'parentbased_traceidratio', ratio: 0.25 },
    });
    assert.equal(tracesFromEnv({ OBSERVABILITY_CONFIG: config, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://other:4318' })?.endpoint, 'http://other:4318/v1/traces');
    // Without a scheme, Go's URL parser sees an opaque URL, which Knative's queue-proxy prefixes with https://.
    const bare = knative({ protocol: 'http/protobuf', endpoint: 'collector.observability:4318/v1/traces' });
    assert.equal(tracesFromEnv({ OBSERVABILITY_CONFIG: bare })?.endpoint, 'https://collector.observability:4318/v1/traces');
  });

  it("is on with Knative's grpc tracing, over OTLP/gRPC at its endpoint, unless an OTLP variable says otherwise", () => {
    const config = knative({ protocol: 'grpc', endpoint: 'http://collector.observability:4317', samplingRate: 1 });
    assert.deepEqual(tracesFromEnv({ OBSERVABILITY_CONFIG: config }), { ...ON, protocol: 'grpc', endpoint: 'http://collector.observability:4317/', sampler: { name: 'always_on', ratio: 1 } });
    assert.equal(tracesFromEnv({ OBSERVABILITY_CONFIG: knative({ protocol: 'grpc', endpoint: 'collector:4317' }) })?.endpoint, 'https://collector:4317/');
    // The general endpoint is used as-is over gRPC; the OTLP protocol variable wins over Knative's.
    assert.equal(tracesFromEnv({ OBSERVABILITY_CONFIG: config, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://other:4317' })?.endpoint, 'http://other:4317/');
    assert.deepEqual(tracesFromEnv({ OBSERVABILITY_CONFIG: config, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://other:4318' }), {
      ...ON,
      endpoint: 'http://other:4318/v1/traces',
      sampler: { name: 'always_on', ratio: 1 },
    });
    assert.deepEqual(tracesFromEnv({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }), { ...ON, protocol: 'grpc', endpoint: 'http://localhost:4317' });
  });
});

describe('the exporter settings', () => {
  it('take the traces protocol, headers and timeout over the general ones', () => {
    assert.deepEqual(
      tracesFromEnv({
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_HEADERS: 'a=1,b=2',
        OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'B=3',
        OTEL_EXPORTER_OTLP_TIMEOUT: '5000',
        OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '2000',
      }),
      { ...ON, protocol: 'http/json', headers: { a: '1', b: '3' }, exporterTimeoutMs: 2000 },
    );
  });

  it("gives a timeout of 0 (the spec's none) the batch processor's own bound, 30 s", () => {
    assert.equal(tracesFromEnv({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '0' })?.exporterTimeoutMs, 30_000);
  });
});

describe('the sampler', () => {
  const cases: [Env, TraceSettings['sampler']][] = [
    [{ OTEL_TRACES_SAMPLER: 'always_on' }, { name: 'always_on', ratio: 1 }],
    [{ OTEL_TRACES_SAMPLER: 'always_off' }, { name: 'always_off', ratio: 1 }],
    [
      { OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' },
      { name: 'traceidratio', ratio: 0.1 },
    ],
    [{ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio' }, { name: 'parentbased_traceidratio', ratio: 1 }],
    [
      { OTEL_TRACES_SAMPLER: 'parentbased_always_off', OTEL_TRACES_SAMPLER_ARG: '0.5' },
      { name: 'parentbased_always_off', ratio: 1 },
    ],
    [{ OBSERVABILITY_CONFIG: knative({ protocol: 'http/protobuf', endpoint: 'http://c/v1/traces', samplingRate: 1 }) }, { name: 'always_on', ratio: 1 }],
    [{ OBSERVABILITY_CONFIG: knative({ protocol: 'http/protobuf', endpoint: 'http://c/v1/traces' }) }, { name: 'always_off', ratio: 1 }],
    [
      { OBSERVABILITY_CONFIG: knative({ protocol: 'http/protobuf', endpoint: 'http://c/v1/traces', samplingRate: 0.5 }), OTEL_TRACES_SAMPLER_ARG: '1' },
      { name: 'always_on', ratio: 1 },
    ],
    [
      { OBSERVABILITY_CONFIG: knative({ protocol: 'http/protobuf', endpoint: 'http://c/v1/traces', samplingRate: 0.5 }), OTEL_TRACES_SAMPLER: 'always_on' },
      { name: 'always_on', ratio: 1 },
    ],
  ];
  for (const [env, sampler] of cases) {
    it(`${JSON.stringify(env)} gives ${sampler.name} (${sampler.ratio})`, () => {
      assert.deepEqual(tracesFromEnv({ OTEL_TRACES_EXPORTER: 'otlp', ...env })?.sampler, sampler);
    });
  }
});

describe('bad tracing settings stop the start-up, naming the variable', () => {
  const on = { OTEL_TRACES_EXPORTER: 'otlp' };
  const cases: [string, Env, string, string][] = [
    ['an unknown exporter', { OTEL_TRACES_EXPORTER: 'zipkin' }, 'OTEL_TRACES_EXPORTER', "must be otlp or none, got 'zipkin'"],
    ['an unknown sampler', { ...on, OTEL_TRACES_SAMPLER: 'jaeger_remote' }, 'OTEL_TRACES_SAMPLER', "got 'jaeger_remote'"],
    ['a ratio that is not a number', { ...on, OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: 'half' }, 'OTEL_TRACES_SAMPLER_ARG', "must be a number from 0 to 1, got 'half'"],
    ['a ratio above 1', { ...on, OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '1.5' }, 'OTEL_TRACES_SAMPLER_ARG', "got '1.5'"],
    ['an endpoint that is not a URL', { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'collector:4318' }, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'must be an http or https URL'],
    ['an unknown protocol', { ...on, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'thrift' }, 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', "'thrift' is not a protocol; use http/protobuf, http/json or grpc"],
    ['OBSERVABILITY_CONFIG that is not JSON', { OBSERVABILITY_CONFIG: '{tracing' }, 'OBSERVABILITY_CONFIG', 'is not JSON'],
    ["Knative's stdout protocol", { OBSERVABILITY_CONFIG: knative({ protocol: 'stdout' }) }, 'OBSERVABILITY_CONFIG', 'tracing.protocol "stdout" is not supported; use http/protobuf, grpc or none'],
    ["Knative's grpc without an endpoint", { OBSERVABILITY_CONFIG: knative({ protocol: 'grpc' }) }, 'OBSERVABILITY_CONFIG', 'tracing.endpoint is required with protocol grpc'],
    ["Knative's http/protobuf without an endpoint", { OBSERVABILITY_CONFIG: knative({ protocol: 'http/protobuf' }) }, 'OBSERVABILITY_CONFIG', 'tracing.endpoint is required'],
    [
      "Knative's sampling rate above 1",
      { OBSERVABILITY_CONFIG: knative({ protocol: 'http/protobuf', endpoint: 'http://c', samplingRate: 2 }) },
      'OBSERVABILITY_CONFIG',
      'tracing.samplingRate must be a number from 0 to 1, got 2',
    ],
    [
      "Knative's endpoint that is not an http URL",
      { OBSERVABILITY_CONFIG: knative({ protocol: 'http/protobuf', endpoint: 'ftp://c/v1/traces' }) },
      'OBSERVABILITY_CONFIG',
      'must be an http or https URL',
    ],
  ];
  for (const [what, env, field, fragment] of cases) it(what, () => assertRejects(env, field, fragment));
});
