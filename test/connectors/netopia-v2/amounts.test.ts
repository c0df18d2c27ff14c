import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MoneyError } from '../../../src/core/money.js';
import { majorToMinor, minorToMajor } from '../../../src/connectors/netopia-v2/amounts.js';

describe('amount in major units (float, e.g. 159.9): minor units to the JSON number', () => {
  it('writes the exact decimal, never a float artefact', () => {
    assert.equal(JSON.stringify({ amount: minorToMajor(15990, 'RON') }), '{"amount":159.9}');
    assert.equal(JSON.stringify({ amount: minorToMajor(30, 'RON') }), '{"amount":0.3}');
    assert.equal(JSON.stringify({ amount: minorToMajor(20000, 'RON') }), '{"amount":200}');
    assert.equal(JSON.stringify({ amount: minorToMajor(1, 'EUR') }), '{"amount":0.01}');
    assert.equal(JSON.stringify({ amount: minorToMajor(0, 'RON') }), '{"amount":0}');
    assert.equal(JSON.stringify({ amount: minorToMajor(12580, 'RON') }), '{"amount":125.8}');
    assert.equal(minorToMajor(100, 'JPY'), 100);
    assert.equal(minorToMajor(1234, 'KWD'), 1.234);
  });

  it('refuses amounts a JSON number cannot carry exactly, and non-integers', () => {
    assert.throws(() => minorToMajor(Number.MAX_SAFE_INTEGER, 'RON'), MoneyError);
    assert.throws(() => minorToMajor(1.5, 'RON'), MoneyError);
    assert.throws(() => minorToMajor(-1, 'RON'), MoneyError);
    assert.throws(() => minorToMajor(100, 'XYZ'), MoneyError);
    assert.equal(minorToMajor(999_999_999_999_999, 'RON'), 9_999_999_999_999.99);
  });

  it('round-trips every amount of up to 15 digits', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 999_999_999_999_999 }), fc.constantFrom('RON', 'EUR', 'JPY', 'KWD'), (minor, currency) => {
        const major = minorToMajor(minor, currency);
        assert.equal(majorToMinor(JSON.parse(JSON.stringify(major)), currency), minor);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('amount in major units: the wire JSON number to exact minor units', () => {
  it('reads the shortest decimal of the number', () => {
    assert.equal(majorToMinor(159.9, 'RON'), 15990);
    assert.equal(majorToMinor(JSON.parse('159.90'), 'RON'), 15990);
    assert.equal(majorToMinor(200, 'RON'), 20000);
    assert.equal(majorToMinor(0.3, 'RON'), 30);
    assert.equal(majorToMinor(1.5, 'RON'), 150);
    assert.equal(majorToMinor(0, 'RON'), 0);
    assert.equal(majorToMinor(0.01, 'EUR'), 1);
    assert.equal(majorToMinor(100, 'JPY'), 100);
  });

  it('refuses float sums such as 0.1 + 0.2 (0.30000000000000004)', () => {
    assert.throws(() => majorToMinor(0.1 + 0.2, 'RON'), MoneyError);
    assert.throws(() => majorToMinor(JSON.parse('0.30000000000000004'), 'RON'), MoneyError);
  });

  it('refuses more decimals than the currency has (1.005 RON, 1.5 JPY)', () => {
    assert.throws(() => majorToMinor(1.005, 'RON'), /more than 2 decimals/);
    assert.throws(() => majorToMinor(1.5, 'JPY'), MoneyError);
  });

  it('refuses exponents, negatives, -0, NaN, infinities and non-numbers', () => {
    for (const bad of [1e21, 1e-7, 5e-324, -1, -0.01, -0, NaN, Infinity, -Infinity, '159.9', null, undefined, {}, [159.9], true]) {
      assert.throws(() => majorToMinor(bad, 'RON'), MoneyError, `accepted ${String(bad)}`);
    }
  });

  it('refuses unknown currencies', () => {
    assert.throws(() => majorToMinor(1, 'XXX'), MoneyError);
  });
});
