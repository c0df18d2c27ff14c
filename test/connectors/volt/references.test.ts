import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  refundExternalReference,
  refundIdempotencyKey,
  refundTotalFrom,
  uniqueReferenceFor,
  uniqueReferenceMatches,
} from '../../../src/connectors/volt/references.js';

describe('Volt uniqueReference: "≤18 alphanumeric characters", derived from the hub reference', () => {
  it("the hub's attempt ids (30 characters, with an underscore) become 18 alphanumerics, the same every time", () => {
    const ref = 'att_01jd8w6f0q7c2mbm3x4y5z6a7b';
    const unique = uniqueReferenceFor(ref);
    assert.match(unique, /^[A-Za-z0-9]{18}$/);
    assert.equal(uniqueReferenceFor(ref), unique);
    assert.notEqual(uniqueReferenceFor('att_01jd8w6f0q7c2mbm3x4y5z6a7c'), unique);
    assert.equal(uniqueReferenceMatches(ref, unique), true);
    assert.equal(uniqueReferenceMatches('att_other', unique), false);
  });
  it('a reference that already fits is sent as it is', () => {
    assert.equal(uniqueReferenceFor('EXAMPLE123'), 'EXAMPLE123');
    assert.equal(uniqueReferenceFor('A'.repeat(18)), 'A'.repeat(18));
    assert.notEqual(uniqueReferenceFor('A'.repeat(19)), 'A'.repeat(19));
    assert.match(uniqueReferenceFor('A'.repeat(19)), /^[A-Z2-7]{18}$/);
  });
  it('10 000 attempt-like references give 10 000 distinct uniqueReferences', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 10_000; i++) seen.add(uniqueReferenceFor(`att_${i.toString(36).padStart(26, '0')}`));
    assert.equal(seen.size, 10_000);
  });
});

describe('Volt refund externalReference (alphanumeric) carries the refunded total', () => {
  it('round trip', () => {
    const ref = refundExternalReference('rfd_01jd8w6f0q7c2mbm3x4y5z6a7b', 12345);
    assert.match(ref, /^[A-Za-z0-9]+$/);
    assert.equal(refundTotalFrom(ref), 12345);
  });
  it('references the hub did not make say nothing', () => {
    for (const other of [null, undefined, '', 'T12R', 'refund-42', 'T1RABCDEFGHIJKLMNOP0', 12]) assert.equal(refundTotalFrom(other), undefined, String(other));
  });
  it('the idempotency key is a stable version-5 UUID of the refund id', () => {
    const key = refundIdempotencyKey('rfd_1');
    assert.match(key, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(refundIdempotencyKey('rfd_1'), key);
    assert.notEqual(refundIdempotencyKey('rfd_2'), key);
  });
});
