import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultResource } from '@opentelemetry/resources';
import { ConfigError } from '../src/core/errors.js';
import { buildResource } from '../src/otel/resource.js';
import { HELLOWORLD as IDENTITY, HELLOWORLD_RESOURCE as COMPUTED } from './helpers/fixtures.js';

const SDK_VERSION = String(defaultResource().attributes['telemetry.sdk.version']);

const SDK = {
  'telemetry.sdk.language': 'nodejs',
  'telemetry.sdk.name': 'opentelemetry',
  'telemetry.sdk.version': SDK_VERSION,
};

describe('buildResource attributes', () => {
  it('includes the SDK version of the installed 2.x SDK', () => {
    assert.match(SDK_VERSION, /^2\.\d+\.\d+$/);
  });

  const cases: { name: string; env: Record<string, string>; expected: Record<string, string> }[] = [
    { name: 'identity and SDK defaults', env: {}, expected: { ...SDK, ...COMPUTED } },
    { name: 'empty variables count as unset', env: { OTEL_SERVICE_NAME: ' ', OTEL_RESOURCE_ATTRIBUTES: '' }, expected: { ...SDK, ...COMPUTED } },
    { name: 'OTEL_SERVICE_NAME replaces the configuration name', env: { OTEL_SERVICE_NAME: 'checkout' }, expected: { ...SDK, ...COMPUTED, 'service.name': 'checkout' } },
    {
      name: 'OTEL_RESOURCE_ATTRIBUTES adds attributes, percent-decoded',
      env: { OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=prod,team=a%2Cb%3Dc%20d' },
      expected: { ...SDK, ...COMPUTED, 'deployment.environment.name': 'prod', team: 'a,b=c d' },
    },
    {
      name: 'OTEL_RESOURCE_ATTRIBUTES overrides computed and SDK attributes',
      env: { OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attrs,k8s.pod.name=renamed,telemetry.sdk.name=custom' },
      expected: { ...SDK, ...COMPUTED, 'service.name': 'from-attrs', 'k8s.pod.name': 'renamed', 'telemetry.sdk.name': 'custom' },
    },
    {
      name: 'OTEL_SERVICE_NAME wins over service.name in OTEL_RESOURCE_ATTRIBUTES',
      env: { OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attrs', OTEL_SERVICE_NAME: 'from-name' },
      expected: { ...SDK, ...COMPUTED, 'service.name': 'from-name' },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(buildResource(IDENTITY, c.env).attributes, c.expected);
    });
  }

  it('extra attributes go over the identity and under OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME', () => {
    const extra = { 'service.name': 'svc', 'kn.service.name': 'svc', 'k8s.container.name': 'queue-proxy' };
    assert.deepEqual(buildResource(IDENTITY, {}, extra).attributes, { ...SDK, ...COMPUTED, ...extra });
    const env = { OTEL_RESOURCE_ATTRIBUTES: 'kn.service.name=from-attrs', OTEL_SERVICE_NAME: 'from-name' };
    assert.deepEqual(buildResource(IDENTITY, env, extra).attributes, { ...SDK, ...COMPUTED, ...extra, 'kn.service.name': 'from-attrs', 'service.name': 'from-name' });
  });

  it('reads process.env by default', () => {
    const saved = process.env.OTEL_SERVICE_NAME;
    process.env.OTEL_SERVICE_NAME = 'from-process-env';
    try {
      assert.equal(buildResource(IDENTITY).attributes['service.name'], 'from-process-env');
    } finally {
      if (saved === undefined) delete process.env.OTEL_SERVICE_NAME;
      else process.env.OTEL_SERVICE_NAME = saved;
    }
  });
});

describe('buildResource errors', () => {
  for (const value of ['novalue', 'a=1,=2', 'a=%zz']) {
    it(`rejects OTEL_RESOURCE_ATTRIBUTES='${value}' with a ConfigError naming it`, () => {
      assert.throws(
        () => buildResource(IDENTITY, { OTEL_RESOURCE_ATTRIBUTES: value }),
        (error: unknown) => error instanceof ConfigError && error.field === 'OTEL_RESOURCE_ATTRIBUTES' && error.message.startsWith('OTEL_RESOURCE_ATTRIBUTES'),
      );
    });
  }
});
