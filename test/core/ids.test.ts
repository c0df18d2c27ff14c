import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newId } from '../../src/core/ids.js';

const CROCKFORD = '0123456789abcdefghjkmnpqrstvwxyz';

/** The identifier's 80 random bits as a BigInt, decoded from its 16 characters. */
function randomPart(id: string): bigint {
  let acc = 0n;
  for (const c of id.slice(-16)) acc = (acc << 5n) | BigInt(CROCKFORD.indexOf(c));
  return acc;
}

test('an id is the prefix, 10 characters of time and 16 of randomness, all Crockford base32', () => {
  const id = newId('pay', 1_733_000_000_000);
  assert.match(id, /^pay_[0-9a-hjkmnp-tv-z]{26}$/);
  let t = 0;
  for (const c of id.slice(4, 14)) t = t * 32 + CROCKFORD.indexOf(c);
  assert.equal(t, 1_733_000_000_000);
});

test('ids sort by creation time', () => {
  const ids = [1, 2, 33, 1024, 1_700_000_000_000, 1_800_000_000_000].map((t) => newId('att', t));
  assert.deepEqual([...ids].sort(), ids);
});

test('the random part uses every one of its 80 bits and never repeats', () => {
  const seen = new Set<string>();
  let ones = 0n;
  let zeros = 0n;
  const all = (1n << 80n) - 1n;
  for (let i = 0; i < 20_000; i++) {
    const id = newId('evt', 0);
    assert.ok(!seen.has(id), 'an id repeated');
    seen.add(id);
    const r = randomPart(id);
    ones |= r;
    zeros |= ~r & all;
  }
  // Each bit was seen both set and clear: no bit is stuck (a wrong shift or a lost half would leave bits stuck).
  assert.equal(ones, all);
  assert.equal(zeros, all);
});

test('the random bytes are not reused across the pool refill', () => {
  // More ids than one pool holds: two consecutive ids never share their random part.
  let previous = '';
  for (let i = 0; i < 2_000; i++) {
    const r = newId('x', 0).slice(-16);
    assert.notEqual(r, previous);
    previous = r;
  }
});
