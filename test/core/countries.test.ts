import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { COUNTRIES, countryByAlpha2, countryByAlpha3, countryByNumeric } from '../../src/core/countries.js';

describe('ISO 3166-1 table', () => {
  it('holds the 249 current entries, each code unique and well formed', () => {
    assert.equal(COUNTRIES.length, 249);
    assert.equal(new Set(COUNTRIES.map((c) => c.numeric)).size, 249);
    assert.equal(new Set(COUNTRIES.map((c) => c.alpha2)).size, 249);
    assert.equal(new Set(COUNTRIES.map((c) => c.alpha3)).size, 249);
    for (const c of COUNTRIES) {
      assert.ok(Number.isInteger(c.numeric) && c.numeric > 0 && c.numeric < 1000, `${c.alpha2} numeric ${c.numeric}`);
      assert.match(c.alpha2, /^[A-Z]{2}$/);
      assert.match(c.alpha3, /^[A-Z]{3}$/);
      assert.ok(c.name.length > 1);
    }
  });

  it('knows the codes NETOPIA and its neighbours use', () => {
    assert.deepEqual(countryByNumeric(642), { numeric: 642, alpha2: 'RO', alpha3: 'ROU', name: 'Romania' });
    assert.equal(countryByNumeric(498)?.alpha2, 'MD');
    assert.equal(countryByNumeric(826)?.alpha2, 'GB');
    assert.equal(countryByNumeric(840)?.alpha2, 'US');
    assert.equal(countryByNumeric(276)?.name, 'Germany');
    assert.equal(countryByNumeric(4)?.alpha2, 'AF');
    assert.equal(countryByAlpha2('RO')?.numeric, 642);
    assert.equal(countryByAlpha2('hu')?.numeric, 348);
    assert.equal(countryByAlpha3('BGR')?.numeric, 100);
  });

  it('reads numeric codes given as digit strings, with or without leading zeros', () => {
    assert.equal(countryByNumeric('642')?.alpha2, 'RO');
    assert.equal(countryByNumeric('040')?.alpha2, 'AT');
    assert.equal(countryByNumeric('40')?.alpha2, 'AT');
    assert.equal(countryByNumeric(' 642'), undefined);
    assert.equal(countryByNumeric('6420'), undefined);
    assert.equal(countryByNumeric('6.42e2'), undefined);
  });

  it('answers undefined for unknown or hostile input, never a prototype member', () => {
    for (const bad of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'XX', 'R', 'ROU', '', null, undefined, {}, [], 642.5, NaN, -642, 0, 999]) {
      assert.equal(countryByAlpha2(bad), undefined, `alpha2 ${String(bad)}`);
      assert.equal(countryByNumeric(bad), undefined, `numeric ${String(bad)}`);
    }
    assert.equal(countryByAlpha3('__proto__'), undefined);
  });

  it('cannot be changed by its users', () => {
    assert.throws(() => {
      (COUNTRIES as Array<unknown>).push({});
    });
    assert.throws(() => {
      (countryByAlpha2('RO') as { name: string }).name = 'X';
    });
  });
});
