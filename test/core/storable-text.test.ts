import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isStorableText, isStorableValue, toStorable } from '../../src/core/storable-text.js';

describe('text a database can hold', () => {
  it('refuses U+0000 and lone surrogates, accepts paired surrogates', () => {
    assert.equal(isStorableText('Plată 😀'), true);
    for (const bad of ['a\u0000b', '\uD800', 'x\uDC00', '\uDC00\uD800']) assert.equal(isStorableText(bad), false, JSON.stringify(bad));
  });

  it('toStorable replaces each unstorable character by U+FFFD, deep in values and keys, and keeps what is fine', () => {
    const fine = { a: ['ok', 1, null, true], b: { c: 'Plată 😀' } };
    assert.equal(toStorable(fine), fine, 'a storable value is returned as it is');
    const fixed = toStorable({ 'k\u0000': ['a\u0000\u0000b', { m: 'x\uD800y\uDC00' }], n: 5, d: null });
    assert.deepEqual(fixed, { 'k\uFFFD': ['a\uFFFD\uFFFDb', { m: 'x\uFFFDy\uFFFD' }], n: 5, d: null });
    assert.equal(isStorableValue(fixed), true);
    assert.equal(toStorable('\uD83D\uDE00\uD83D'), '\uD83D\uDE00\uFFFD');
  });
});
