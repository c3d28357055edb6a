import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { frameHealthCheckRequest, isServingResponse } from '../src/proxy/admin/grpc-health-messages.js';

describe('frameHealthCheckRequest', () => {
  it('prefixes the message with flag 0 and its big-endian length', () => {
    assert.deepEqual([...frameHealthCheckRequest('shop.Cart')], [0, 0, 0, 0, 11, 0x0a, 9, ...Buffer.from('shop.Cart')]);
  });

  it('writes the empty service as a present, empty field, which a proto3 reader takes as the default', () => {
    assert.deepEqual([...frameHealthCheckRequest('')], [0, 0, 0, 0, 2, 0x0a, 0]);
  });

  it('writes a length past one byte across the four', () => {
    const framed = frameHealthCheckRequest('s'.repeat(300));
    assert.deepEqual([...framed.subarray(0, 8)], [0, 0, 0, 0x01, 0x2f, 0x0a, 0xac, 0x02]);
    assert.equal(framed.length, 5 + 303);
  });
});

describe('isServingResponse', () => {
  const cases: [string, number[], boolean][] = [
    ['SERVING', [0, 0, 0, 0, 2, 0x08, 1], true],
    ['NOT_SERVING', [0, 0, 0, 0, 2, 0x08, 2], false],
    ['SERVICE_UNKNOWN', [0, 0, 0, 0, 2, 0x08, 3], false],
    ['an empty message: UNKNOWN', [0, 0, 0, 0, 0], false],
    ['a status this enum does not name', [0, 0, 0, 0, 2, 0x08, 9], false],
    ['SERVING with an unknown field after it', [0, 0, 0, 0, 4, 0x08, 1, 0x10, 5], true],
    ['no body', [], false],
    ['a prefix cut short', [0, 0, 0], false],
    ['the compressed flag', [1, 0, 0, 0, 2, 0x08, 1], false],
    ['a length past the body', [0, 0, 0, 0, 3, 0x08, 1], false],
    ['bytes past the message (a second message)', [0, 0, 0, 0, 2, 0x08, 1, 0, 0, 0, 0, 0], false],
    ['a message protobufjs cannot decode', [0, 0, 0, 0, 1, 0x08], false],
  ];
  for (const [name, bytes, serving] of cases) {
    it(`${name}: ${serving}`, () => assert.equal(isServingResponse(Uint8Array.from(bytes)), serving));
  }

  it('reads a body that starts inside a larger buffer', () => {
    const pool = Buffer.from([9, 9, 9, 0, 0, 0, 0, 2, 0x08, 1]);
    assert.equal(isServingResponse(pool.subarray(3)), true);
  });
});
