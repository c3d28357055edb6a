import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../src/core/errors.js';
import { parseReadinessProbe, type ReadinessProbeSpec } from '../src/core/readiness-probe.js';

const FIELD = 'SERVING_READINESS_PROBE';

describe('parseReadinessProbe: what Knative sends', () => {
  const cases: [string, string, ReadinessProbeSpec][] = [
    [
      "Knative's default probe (tcpSocket on the app's port, period 0): aggressive, one success",
      '{"tcpSocket":{"port":8080,"host":"127.0.0.1"},"successThreshold":1}',
      { action: { kind: 'tcpSocket', host: '127.0.0.1', port: 8080 }, periodMs: 0, timeoutMs: 1000, successThreshold: 1 },
    ],
    [
      'an httpGet with headers, a period and thresholds',
      '{"httpGet":{"path":"healthz","port":"8080","host":"127.0.0.1","scheme":"HTTP","httpHeaders":[{"name":"X-Probe","value":"a b"}]},"periodSeconds":5,"timeoutSeconds":2,"successThreshold":2,"failureThreshold":4,"initialDelaySeconds":3}',
      {
        action: { kind: 'httpGet', host: '127.0.0.1', port: 8080, path: '/healthz', headers: [['X-Probe', 'a b']] },
        periodMs: 5000,
        timeoutMs: 2000,
        successThreshold: 2,
      },
    ],
    [
      'an httpGet with no port, host or path: the upstream, "/", and a 1 s timeout floor for a periodic probe',
      '{"httpGet":{"port":0},"periodSeconds":1,"timeoutSeconds":0}',
      { action: { kind: 'httpGet', host: undefined, port: undefined, path: '/', headers: [] }, periodMs: 1000, timeoutMs: 1000, successThreshold: 1 },
    ],
    [
      'a grpc probe as Knative sends it: port filled in, a service name',
      '{"grpc":{"port":8080,"service":"shop.Cart"},"periodSeconds":2,"timeoutSeconds":3}',
      { action: { kind: 'grpc', port: 8080, service: 'shop.Cart' }, periodMs: 2000, timeoutMs: 3000, successThreshold: 1 },
    ],
    [
      'a grpc probe with port 0 and no service: the upstream\'s port, the server as a whole (service "")',
      '{"grpc":{"port":0}}',
      { action: { kind: 'grpc', port: undefined, service: '' }, periodMs: 0, timeoutMs: 1000, successThreshold: 1 },
    ],
    [
      'a grpc probe with neither port nor service (null service), unknown fields ignored',
      '{"grpc":{"service":null,"extra":true}}',
      { action: { kind: 'grpc', port: undefined, service: '' }, periodMs: 0, timeoutMs: 1000, successThreshold: 1 },
    ],
  ];
  for (const [name, json, expected] of cases) {
    it(name, () => assert.deepEqual(parseReadinessProbe(json, FIELD), expected));
  }
});

describe('parseReadinessProbe: errors name the variable and the JSON field', () => {
  const cases: [string, string][] = [
    ['{"httpGet":{"port":"http"}}', `${FIELD}: httpGet.port must be a port number from 0 to 65535 (0: the app's port; named ports cannot be resolved here), got "http"`],
    ['{"tcpSocket":{"port":70000}}', `${FIELD}: tcpSocket.port must be a port number from 0 to 65535 (0: the app's port; named ports cannot be resolved here), got 70000`],
    ['{"grpc":{"port":"8080"}}', `${FIELD}: grpc.port must be a whole number from 0 to 65535 (0: the app's port), got "8080"`],
    ['{"grpc":{"port":65536}}', `${FIELD}: grpc.port must be a whole number from 0 to 65535 (0: the app's port), got 65536`],
    ['{"grpc":{"port":-1}}', `${FIELD}: grpc.port must be a whole number from 0 to 65535 (0: the app's port), got -1`],
    ['{"grpc":{"port":80.5}}', `${FIELD}: grpc.port must be a whole number from 0 to 65535 (0: the app's port), got 80.5`],
    ['{"grpc":{"service":7}}', `${FIELD}: grpc.service must be a string, got 7`],
    ['{"grpc":[]}', `${FIELD}: grpc must be a JSON object, got []`],
    ['{"grpc":{},"tcpSocket":{}}', `${FIELD}: must have exactly one of httpGet, tcpSocket or grpc, got tcpSocket, grpc`],
    ['{"exec":{"command":["true"]}}', `${FIELD}: exec probes run in the app container, not in the sidecar; Knative sends them as tcpSocket`],
    ['{"periodSeconds":1}', `${FIELD}: must have exactly one of httpGet, tcpSocket or grpc, got none`],
    ['{"httpGet":{},"tcpSocket":{}}', `${FIELD}: must have exactly one of httpGet, tcpSocket or grpc, got httpGet, tcpSocket`],
    ['{"httpGet":{"scheme":"HTTPS"}}', `${FIELD}: httpGet.scheme must be HTTP (HTTPS probes are not supported), got "HTTPS"`],
    ['{"httpGet":{"path":"/a b"}}', `${FIELD}: httpGet.path must be a string of visible ASCII characters, got "/a b"`],
    ['{"httpGet":{"httpHeaders":[{"name":"Bad Name","value":"x"}]}}', `${FIELD}: httpGet.httpHeaders[0].name must be a header name, got "Bad Name"`],
    ['{"httpGet":{"httpHeaders":[{"name":"X","value":"a\\r\\nb"}]}}', `${FIELD}: httpGet.httpHeaders[0].value must be a string without line breaks, got "a\\r\\nb"`],
    ['{"httpGet":{"httpHeaders":{}}}', `${FIELD}: httpGet.httpHeaders must be a list of {"name", "value"} objects, got {}`],
    ['{"tcpSocket":{},"periodSeconds":-1}', `${FIELD}: periodSeconds must be a whole number from 0 to 2147483, got -1`],
    ['{"tcpSocket":{},"timeoutSeconds":1.5}', `${FIELD}: timeoutSeconds must be a whole number from 0 to 2147483, got 1.5`],
    ['{"tcpSocket":{},"successThreshold":0}', `${FIELD}: successThreshold must be a whole number from 1 to 2147483, got 0`],
    ['{"tcpSocket":{},"failureThreshold":"3"}', `${FIELD}: failureThreshold must be a whole number from 1 to 2147483, got "3"`],
    ['{"tcpSocket":"8080"}', `${FIELD}: tcpSocket must be a JSON object, got "8080"`],
    ['[{"tcpSocket":{}}]', `${FIELD}: must be one probe object (lists of probes for several containers are not supported)`],
    ['null', `${FIELD}: the probe must be a JSON object, got null`],
  ];
  for (const [json, message] of cases) {
    it(json, () => {
      assert.throws(
        () => parseReadinessProbe(json, FIELD),
        (error: unknown) => error instanceof ConfigError && error.field === FIELD && error.message === message,
      );
    });
  }

  it('reports text that is not JSON', () => {
    assert.throws(
      () => parseReadinessProbe('{tcpSocket', FIELD),
      (error: unknown) => error instanceof ConfigError && error.message.startsWith(`${FIELD}: not valid JSON (`),
    );
  });
});
