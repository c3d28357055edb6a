import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { queueStatsMeter } from '../src/otel/meter.js';
import { StatsReporter } from '../src/otel/reporter.js';
import { VERSION } from '../src/core/version.js';
import { testProvider } from './helpers/test-reader.js';

describe('queueStatsMeter', () => {
  it("records under the package's name and version", async () => {
    const { provider, reader } = testProvider();
    new StatsReporter({ namespace: 'a', config: 'b', revision: 'c', pod: 'd', meter: queueStatsMeter(provider) });
    const { resourceMetrics } = await reader.collect();
    assert.deepEqual(
      resourceMetrics.scopeMetrics.map((s) => [s.scope.name, s.scope.version]),
      [['queue-stats-exporter', VERSION]],
    );
    await provider.shutdown();
  });
});
