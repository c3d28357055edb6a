import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { upstreamStreamHeaders } from '../src/proxy/http2/h2-headers.js';

const PSEUDO = [':method', 'GET', ':path', '/p', ':scheme', 'https', ':authority', 'svc.example'];

describe('upstreamStreamHeaders', () => {
  it('keeps the pseudo-headers but :scheme, repeated fields as lists, te and grpc-timeout; drops the proxy and activator fields', () => {
    const headers = upstreamStreamHeaders(
      [
        ...PSEUDO,
        'cookie',
        'a=1',
        'cookie',
        'b=2',
        'te',
        'trailers',
        'grpc-timeout',
        '5S',
        'proxy-authorization',
        'x',
        'expect',
        '100-continue',
        'knative-serving-namespace',
        'ns',
        'x-forwarded-proto',
        'https',
      ],
      '::ffff:10.1.2.3',
    );
    assert.deepEqual(
      { ...headers },
      {
        ':method': 'GET',
        ':path': '/p',
        ':authority': 'svc.example',
        cookie: ['a=1', 'b=2'],
        te: 'trailers',
        'grpc-timeout': '5S',
        forwarded: 'proto=https',
        'x-forwarded-for': '10.1.2.3',
        'x-forwarded-proto': 'http',
      },
    );
  });

  it('K-Original-Host: a non-empty first one becomes :authority (Host and every K-Original-Host go); an empty one changes nothing', () => {
    const moved = upstreamStreamHeaders([...PSEUDO, 'host', 'h', 'k-original-host', 'orig.example', 'k-original-host', 'second'], '127.0.0.1');
    assert.equal(moved[':authority'], 'orig.example');
    assert.equal(moved['host'], undefined);
    assert.equal(moved['k-original-host'], undefined);
    const kept = upstreamStreamHeaders([...PSEUDO, 'k-original-host', ''], '127.0.0.1');
    assert.deepEqual([kept[':authority'], kept['k-original-host']], ['svc.example', '']);
  });

  it('Forwarded: a blank first one is replaced by one built from X-Forwarded-*; a non-blank one passes; X-Forwarded-For lines merge before this hop', () => {
    const built = upstreamStreamHeaders([...PSEUDO, 'forwarded', ' ', 'x-forwarded-for', '1.1.1.1', 'x-forwarded-for', '2.2.2.2', 'x-forwarded-host', 'h.example'], '127.0.0.1');
    assert.equal(built['forwarded'], 'for=1.1.1.1;host=h.example');
    assert.equal(built['x-forwarded-for'], '1.1.1.1, 2.2.2.2, 127.0.0.1');
    const kept = upstreamStreamHeaders([...PSEUDO, 'forwarded', 'for=9.9.9.9', 'x-forwarded-for', '1.1.1.1'], undefined);
    assert.equal(kept['forwarded'], 'for=9.9.9.9');
    assert.equal(kept['x-forwarded-for'], '1.1.1.1, unknown');
  });

  it("lets `:authority` win over a `host` that disagrees, and makes a lone `host` the authority (as Go's server does)", () => {
    const both = upstreamStreamHeaders([...PSEUDO, 'host', 'elsewhere', 'x-a', 'b'], '127.0.0.1');
    assert.equal(both[':authority'], 'svc.example');
    assert.equal(both['host'], undefined);
    const hostOnly = upstreamStreamHeaders([':method', 'GET', ':path', '/', ':scheme', 'http', 'host', 'h.example', 'host', 'second'], '127.0.0.1');
    assert.equal(hostOnly[':authority'], 'h.example');
    assert.equal(hostOnly['host'], undefined);
  });
});
