import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { firstRawHeaderValue, rawHeaderValue } from '../src/core/raw-headers.js';

const RAW = ['Host', 'x', 'ACCEPT', 'application/protobuf', 'Connection', 'keep-alive', 'accept', 'text/plain', 'connection', 'Upgrade'];

describe('firstRawHeaderValue', () => {
  it('is the first line of the name in any case, as Go’s Header.Get', () => {
    assert.equal(firstRawHeaderValue(RAW, 'accept'), 'application/protobuf');
    assert.equal(firstRawHeaderValue(RAW, 'host'), 'x');
  });

  it('is undefined when the name is absent, also for a value that spells it', () => {
    assert.equal(firstRawHeaderValue(RAW, 'upgrade'), undefined);
    assert.equal(firstRawHeaderValue([], 'accept'), undefined);
  });
});

describe('rawHeaderValue', () => {
  it('joins every line of the name with ", "', () => {
    assert.equal(rawHeaderValue(RAW, 'connection'), 'keep-alive, Upgrade');
    assert.equal(rawHeaderValue(RAW, 'accept'), 'application/protobuf, text/plain');
  });

  it('is undefined when the name is absent', () => {
    assert.equal(rawHeaderValue(RAW, 'upgrade'), undefined);
  });
});
