import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../src/core/errors.js';
import { registerConfigFromEnv } from '../src/register/register-config.js';

describe('registerConfigFromEnv', () => {
  it("takes the demo's names, the hostname as the pod, port 9090 and our own MeterProvider when nothing is set", () => {
    assert.deepEqual(registerConfigFromEnv({}, 'host-1'), {
      identity: { namespace: 'default', config: 'demo', revision: 'demo-00001', pod: 'host-1' },
      metricsPort: 9090,
      meterProvider: 'own',
    });
  });

  it('reads the SERVING_* names, the metrics port and the meter provider', () => {
    const env = {
      SERVING_NAMESPACE: 'ns',
      SERVING_CONFIGURATION: 'cfg',
      SERVING_REVISION: 'cfg-00002',
      SERVING_POD: 'cfg-00002-pod',
      QUEUE_STATS_METRICS_PORT: '9191',
      QUEUE_STATS_METER_PROVIDER: 'global',
    };
    assert.deepEqual(registerConfigFromEnv(env, 'host-1'), {
      identity: { namespace: 'ns', config: 'cfg', revision: 'cfg-00002', pod: 'cfg-00002-pod' },
      metricsPort: 9191,
      meterProvider: 'global',
    });
  });

  const rejected: [Record<string, string>, string, string][] = [
    [{ QUEUE_STATS_METRICS_PORT: '0' }, 'QUEUE_STATS_METRICS_PORT', 'QUEUE_STATS_METRICS_PORT must be a port from 1 to 65535, got "0"'],
    [{ QUEUE_STATS_METRICS_PORT: '65536' }, 'QUEUE_STATS_METRICS_PORT', 'QUEUE_STATS_METRICS_PORT must be a port from 1 to 65535, got "65536"'],
    [{ QUEUE_STATS_METRICS_PORT: ' 90' }, 'QUEUE_STATS_METRICS_PORT', 'QUEUE_STATS_METRICS_PORT must be a port from 1 to 65535, got " 90"'],
    [{ QUEUE_STATS_METER_PROVIDER: 'Global' }, 'QUEUE_STATS_METER_PROVIDER', 'QUEUE_STATS_METER_PROVIDER must be own or global, got "Global"'],
    [{ SERVING_POD: '' }, 'SERVING_POD', 'SERVING_POD must not be empty'],
  ];
  for (const [env, field, message] of rejected) {
    it(`rejects ${JSON.stringify(env)} naming ${field}`, () => {
      assert.throws(
        () => registerConfigFromEnv(env, 'host-1'),
        (error: unknown) => error instanceof ConfigError && error.field === field && error.message === message,
      );
    });
  }
});
