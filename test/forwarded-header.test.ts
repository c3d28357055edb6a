import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { forwardedFromXForwarded } from '../src/proxy/contract/forwarded-header.js';

describe('forwardedFromXForwarded', () => {
  const cases: Array<{ name: string; xff?: string; xfh?: string; xfp?: string; want: string }> = [
    { name: 'nothing forwarded: no header', want: '' },
    { name: 'blank values: no header', xff: ' ', xfh: '', xfp: ' ', want: '' },
    { name: 'one hop', xff: '1.2.3.4', want: 'for=1.2.3.4' },
    { name: 'one hop with host and proto', xff: '1.2.3.4', xfh: 'example.com', xfp: 'https', want: 'for=1.2.3.4;host=example.com;proto=https' },
    { name: 'host and proto without hops', xfh: 'example.com', xfp: 'https', want: 'host=example.com;proto=https' },
    { name: 'proto alone', xfp: 'https', want: 'proto=https' },
    { name: 'three hops: the later ones get an element each', xff: '1.2.3.4, 5.6.7.8,9.9.9.9', xfp: 'http', want: 'for=1.2.3.4;proto=http, for=5.6.7.8, for=9.9.9.9' },
    { name: 'IPv6 hops are quoted in brackets', xff: '2001:db8::1, ::1', want: 'for="[2001:db8::1]", for="[::1]"' },
    { name: 'an IPv4 address with a port counts as IPv6, as in Knative', xff: '1.2.3.4:80', want: 'for="[1.2.3.4:80]"' },
    { name: 'empty hops are kept', xff: 'a,,b', want: 'for=a, for=, for=b' },
    { name: 'an empty first hop leaves the first element without for=', xff: ', b', want: ', for=b' },
    { name: 'values are trimmed', xff: '  a  ', xfh: ' h ', xfp: ' p ', want: 'for=a;host=h;proto=p' },
  ];
  for (const { name, xff, xfh, xfp, want } of cases) {
    it(name, () => assert.equal(forwardedFromXForwarded(xff, xfh, xfp), want));
  }
});
