import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyHeaders, classifyRequest, RequestKind } from '../src/core/request-kind.js';

describe('classifyRequest', () => {
  const cases: Array<[string, Array<[string, string]>, RequestKind]> = [
    ['no headers', [], RequestKind.Direct],
    ['activator', [['k-proxy-request', 'activator']], RequestKind.Proxied],
    ['other proxy value', [['k-proxy-request', 'other']], RequestKind.Direct],
    ['network probe', [['k-network-probe', 'queue']], RequestKind.NetworkProbe],
    [
      'network probe wins over activator',
      [
        ['k-network-probe', 'queue'],
        ['k-proxy-request', 'activator'],
      ],
      RequestKind.NetworkProbe,
    ],
    ['kubelet user agent', [['user-agent', 'kube-probe/1.29']], RequestKind.KubeletProbe],
    ['kubelet header', [['k-kubelet-probe', 'queue']], RequestKind.KubeletProbe],
    ['browser user agent', [['user-agent', 'Mozilla/5.0 kube-probe/']], RequestKind.Direct],
    ['names in any case', [['K-Proxy-Request', 'activator']], RequestKind.Proxied],
    [
      'kubelet wins over activator',
      [
        ['K-Proxy-Request', 'activator'],
        ['User-Agent', 'kube-probe/1.29'],
      ],
      RequestKind.KubeletProbe,
    ],
    [
      'network probe after other headers',
      [
        ['Host', 'x'],
        ['K-Proxy-Request', 'activator'],
        ['K-Network-Probe', 'queue'],
      ],
      RequestKind.NetworkProbe,
    ],
    ['activator value is case-sensitive', [['k-proxy-request', 'Activator']], RequestKind.Direct],
    [
      'similar-length headers are not confused',
      [
        ['x-proxy-request', 'activator'],
        ['user-agenx', 'kube-probe/1'],
      ],
      RequestKind.Direct,
    ],
  ];
  for (const [name, headers, kind] of cases) {
    it(name, () => assert.equal(classifyRequest(headers.flat()), kind));
    // The same headers as Node's http2 hands them over: a null-prototype object with lower-case names.
    it(`${name}, from a headers object`, () => {
      const object = Object.create(null) as Record<string, string>;
      for (const [field, value] of headers) object[field.toLowerCase()] = value;
      assert.equal(classifyHeaders(object), kind);
    });
  }

  it('reads a repeated field of a headers object by its first value', () => {
    assert.equal(classifyHeaders({ 'k-proxy-request': ['activator', 'other'] }), RequestKind.Proxied);
    assert.equal(classifyHeaders({ 'k-proxy-request': ['other', 'activator'] }), RequestKind.Direct);
    assert.equal(classifyHeaders({ 'user-agent': ['kube-probe/1.30', 'curl/8'] }), RequestKind.KubeletProbe);
  });
});
