import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson, hashRequest, isSameRequest } from '../../src/services/idempotency.js';

describe('the request hash of an Idempotency-Key is over a canonical form', () => {
  it('sorts object keys at every depth, keeps array order, and leaves out undefined as JSON does', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null }, u: undefined }), '{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}');
    assert.equal(canonicalJson([undefined, 'x']), '[null,"x"]');
    assert.equal(canonicalJson(undefined), 'null');
    assert.equal(canonicalJson('ș"\u0000'), JSON.stringify('ș"\u0000'));
    assert.equal(canonicalJson(JSON.parse('{"__proto__":{"x":1},"a":2}')), '{"__proto__":{"x":1},"a":2}', 'a parsed one is, and is hashed as data');
  });

  it('the same request in another key order has the same hash; another request does not', () => {
    const a = hashRequest('POST', '/v1/payments', { amount: 100, billing: { first_name: 'Ana', city: 'Iași' }, currency: 'RON' });
    const b = hashRequest('POST', '/v1/payments', { currency: 'RON', billing: { city: 'Iași', first_name: 'Ana' }, amount: 100 });
    assert.equal(a.hash, b.hash);
    assert.notEqual(a.legacyHash, b.legacyHash, 'the hash before the canonical form depended on the order');
    assert.notEqual(hashRequest('POST', '/v1/payments', { amount: 101, billing: { first_name: 'Ana', city: 'Iași' }, currency: 'RON' }).hash, a.hash);
    assert.notEqual(hashRequest('POST', '/v1/payments', { items: [1, 2] }).hash, hashRequest('POST', '/v1/payments', { items: [2, 1] }).hash);
    assert.notEqual(hashRequest('POST', '/v1/other', { amount: 100 }).hash, hashRequest('POST', '/v1/payments', { amount: 100 }).hash);
    assert.ok(isSameRequest(a.legacyHash, a) && isSameRequest(b.hash, a) && !isSameRequest(b.legacyHash, a));
  });
});
