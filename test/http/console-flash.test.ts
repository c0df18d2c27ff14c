import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyRequest } from 'fastify';
import { createFlash } from '../../src/http/console/flash.js';

/** The console's shown-once store: a value is taken once, by the session that put it, within its lifetime. */

const sessionRequest = (csrfToken: string) => ({ console: { session: { csrfToken }, language: 'en', nav: [] } }) as unknown as FastifyRequest;

describe('the console flash', () => {
  it('gives a value once, to the session that put it', () => {
    const flash = createFlash<string>();
    const mine = sessionRequest('token-of-one-session');
    const other = sessionRequest('token-of-another-session');
    const id = flash.put(mine, 'sk_secret');
    assert.match(id, /^[A-Za-z0-9_-]{22}$/);
    assert.equal(flash.take(other, id), undefined, 'another session gets nothing');
    assert.equal(flash.take(mine, id), 'sk_secret');
    assert.equal(flash.take(mine, id), undefined, 'taken once');
    assert.equal(flash.take(mine, 'not an id'), undefined);
    assert.equal(flash.take(mine, ['x']), undefined);
  });

  it('forgets a value after its lifetime', () => {
    let now = 1_000_000;
    const flash = createFlash<string>({ ttlMs: 60_000, now: () => now });
    const request = sessionRequest('token');
    const id = flash.put(request, 'whsec_x');
    now += 60_001;
    assert.equal(flash.take(request, id), undefined);
    const fresh = flash.put(request, 'whsec_y');
    now += 59_000;
    assert.equal(flash.take(request, fresh), 'whsec_y');
  });
});
