import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  attemptCode,
  attemptCodeOf,
  legacyUniqueReferenceFor,
  orderPart,
  refundExternalReference,
  refundIdempotencyKey,
  refundTotalFrom,
  uniqueReferenceFor,
  uniqueReferenceMatches,
} from '../../../src/connectors/volt/references.js';

const ATTEMPT = 'att_01jd8w6f0q7c2mbm3x4y5z6a7b';
const ulidLike = (i: number) => `att_${i.toString(32).padStart(26, '0')}`;

describe('Volt uniqueReference: "≤18 alphanumeric characters", the merchant\'s order id and the attempt\'s code', () => {
  it("round trip: the order id the payer sees, then the attempt's 8-character code, read back from the end", () => {
    const unique = uniqueReferenceFor(ATTEMPT, 'SHOP-en-12');
    assert.match(unique, /^SHOPen12[A-Z2-7]{8}$/);
    assert.equal(unique.slice(-8), attemptCode(ATTEMPT));
    assert.equal(attemptCodeOf(unique), attemptCode(ATTEMPT));
    assert.equal(uniqueReferenceFor(ATTEMPT, 'SHOP-en-12'), unique, 'the same every time');
    assert.equal(uniqueReferenceMatches(ATTEMPT, unique), true);
    assert.equal(uniqueReferenceMatches('att_01jd8w6f0q7c2mbm3x4y5z6a7c', unique), false);
  });

  it('a long order id keeps its first 10 letters and digits: the whole reference stays within 18', () => {
    const unique = uniqueReferenceFor(ATTEMPT, 'ORDER-2026-000123456789-XYZ');
    assert.equal(unique.length, 18);
    assert.equal(unique, `ORDER20260${attemptCode(ATTEMPT)}`);
    assert.equal(uniqueReferenceMatches(ATTEMPT, unique), true);
  });

  it('odd order ids: accents dropped, punctuation and spaces removed, none at all leaves the code alone', () => {
    assert.equal(orderPart('Comandă nr. ș-42/B'), 'Comandanrs');
    assert.equal(orderPart('Ünïcödé 7'), 'Unicode7');
    for (const odd of ['', '---', '/ # *', '订单', '🎉🎉', ' \t\n', undefined]) {
      const unique = uniqueReferenceFor(ATTEMPT, odd);
      assert.equal(unique, attemptCode(ATTEMPT), String(odd));
      assert.match(unique, /^[A-Za-z0-9]{1,18}$/);
      assert.equal(uniqueReferenceMatches(ATTEMPT, unique), true, String(odd));
    }
  });

  it("an order id made of the code's own characters is still read back by position, not by search", () => {
    const code = attemptCode(ATTEMPT);
    const other = attemptCode('att_someotherattempt00000000');
    // The order id contains this attempt's code: another attempt's reference must not match this one.
    const tricky = uniqueReferenceFor('att_someotherattempt00000000', `${code}XY`);
    assert.ok(tricky.includes(code));
    assert.equal(uniqueReferenceMatches(ATTEMPT, tricky), false);
    assert.equal(uniqueReferenceMatches('att_someotherattempt00000000', tricky), true);
    // And an order id that is another attempt's code does not confuse this one.
    const mine = uniqueReferenceFor(ATTEMPT, other);
    assert.equal(uniqueReferenceMatches(ATTEMPT, mine), true);
    assert.equal(uniqueReferenceMatches('att_someotherattempt00000000', mine), false);
  });

  it('two attempts of one payment (same order id) get different references', () => {
    const first = uniqueReferenceFor(ulidLike(1), 'SHOP-1');
    const second = uniqueReferenceFor(ulidLike(2), 'SHOP-1');
    assert.notEqual(first, second);
    assert.equal(first.slice(0, 5), 'SHOP1');
    assert.equal(uniqueReferenceMatches(ulidLike(1), second), false);
  });

  it('collisions: 20 000 attempts of one order id give 20 000 distinct references', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 20_000; i++) seen.add(uniqueReferenceFor(ulidLike(i), 'SAME-ORDER'));
    assert.equal(seen.size, 20_000);
  });

  it('what the hub cannot have made is no match: too short, not alphanumeric, too long, not a string', () => {
    for (const bad of ['', 'ABC', `${attemptCode(ATTEMPT)}-`, `x_${attemptCode(ATTEMPT)}`, `A${'B'.repeat(17)}${attemptCode(ATTEMPT)}`, null, 42, undefined]) {
      assert.equal(uniqueReferenceMatches(ATTEMPT, bad), false, String(bad));
    }
    assert.equal(attemptCodeOf('SHOP-1ABCDEFGH'), undefined);
  });

  it('attempts opened before the order id was shown (the 18-character digest of the attempt id) still match', () => {
    const legacy = legacyUniqueReferenceFor(ATTEMPT);
    assert.match(legacy, /^[A-Z2-7]{18}$/);
    assert.notEqual(legacy.slice(-8), attemptCode(ATTEMPT));
    assert.equal(uniqueReferenceMatches(ATTEMPT, legacy), true);
    assert.equal(uniqueReferenceMatches('att_01jd8w6f0q7c2mbm3x4y5z6a7c', legacy), false);
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
