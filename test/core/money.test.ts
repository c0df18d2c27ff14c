import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseDecimalString, toDecimalString, MoneyError, money } from '../../src/core/money.js';

describe('Money is integer minor units plus an ISO 4217 currency', () => {
  it('formats minor units with exactly the currency decimals', () => {
    assert.equal(toDecimalString(1234, 'RON'), '12.34');
    assert.equal(toDecimalString(5, 'EUR'), '0.05');
    assert.equal(toDecimalString(0, 'RON'), '0.00');
    assert.equal(toDecimalString(500, 'JPY'), '500');
    assert.equal(toDecimalString(1001, 'KWD'), '1.001');
  });
  it('parses decimal strings without floating point error', () => {
    assert.equal(parseDecimalString('0.1', 'RON') + parseDecimalString('0.2', 'RON'), 30);
    assert.equal(parseDecimalString('12.34', 'RON'), 1234);
    assert.equal(parseDecimalString('12', 'RON'), 1200);
    assert.equal(parseDecimalString('12.340', 'RON'), 1234);
    assert.equal(parseDecimalString('99999.99', 'RON'), 9999999);
  });
  it('rejects what is not an amount in that currency', () => {
    for (const bad of ['', '-1', '1e3', '12.345', '1,00', 'abc', '.5', '1.', '0x10', 'NaN', 'Infinity']) {
      assert.throws(() => parseDecimalString(bad, 'RON'), MoneyError, bad);
    }
    assert.throws(() => parseDecimalString('1.5', 'JPY'), MoneyError);
    assert.throws(() => toDecimalString(1, 'XXX'), MoneyError);
    assert.throws(() => money(1.5, 'RON'), MoneyError);
    assert.throws(() => money(-1, 'RON'), MoneyError);
  });
});
