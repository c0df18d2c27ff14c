import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { openTestStore } from '../../support/store.js';
import type { Store } from '../../../src/store/store.js';
import { accessToken, createAccount, Merchant, openPayment, startEmulator, type Account, type Emulator } from './harness.js';

let store: Store;
let emulator: Emulator;
let merchant: Merchant;
let account: Account;
let token: string;
let payment: { id: string; checkoutUrl: string };

before(async () => {
  store = await openTestStore();
  emulator = await startEmulator(store);
  merchant = await Merchant.start();
  account = await createAccount(emulator);
  merchant.trust(emulator, account);
  token = await accessToken(emulator, account);
  payment = await openPayment(emulator, account, merchant, token);
});

after(async () => {
  await emulator?.stop();
  await merchant?.close();
  await store?.close();
});

const CONTENT_TYPES = ['application/json', 'application/x-www-form-urlencoded', 'text/plain', 'application/xml', 'multipart/form-data; boundary=x', ''];

describe("Volt emulator: hostile input gets Volt's error shape, never a 500", () => {
  it('random bodies and content types on every API route', async () => {
    const routes = ['/oauth', '/accounts', '/v2/payments', `/payments/${'00000000-0000-0000-0000-000000000000'}/request-refund`, '/notifications/test'];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...routes),
        fc.constantFrom(...CONTENT_TYPES),
        fc.oneof(fc.string({ maxLength: 300 }), fc.json({ maxDepth: 4 })),
        fc.boolean(),
        async (route, type, body, authed) => {
          const res = await fetch(`${emulator.base}${route}`, {
            method: 'POST',
            headers: { ...(type ? { 'content-type': type } : {}), ...(authed ? { authorization: `Bearer ${token}` } : {}) },
            body,
          });
          assert.ok(res.status < 500, `${route} ${type} → ${res.status}`);
          const json = (await res.json()) as Record<string, unknown>;
          assert.ok(typeof json === 'object' && json !== null);
        },
      ),
      { numRuns: 120 },
    );
  });

  it('random forms on the checkout and bank pages', async () => {
    const url = new URL(payment.checkoutUrl);
    const auth = url.searchParams.get('auth')!;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(`/checkout/${payment.id}`, `/checkout/${payment.id}/cancel`, `/bank/${payment.id}`, '/checkout/nope', '/bank/%00'),
        fc.dictionary(fc.constantFrom('auth', 'bank', 'decision', 'x'), fc.oneof(fc.string({ maxLength: 50 }), fc.constant(auth))),
        async (path, form) => {
          // Never a valid auth together with a valid decision: the payment must stay open for the next run.
          if (form.auth === auth && (form.bank !== undefined || path.endsWith('/cancel'))) delete form.auth;
          const res = await fetch(`${emulator.base}${path}`, {
            method: 'POST',
            redirect: 'manual',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams(form).toString(),
          });
          assert.ok(res.status < 500, `${path} → ${res.status}`);
          if (res.status !== 303) assert.match(res.headers.get('content-type') ?? '', /text\/html/);
        },
      ),
      { numRuns: 80 },
    );
  });

  it('an oversized body is refused with 413 in the exception shape', async () => {
    const res = await fetch(`${emulator.base}/v2/payments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ pad: 'x'.repeat(1024 * 1024 + 10) }),
    });
    assert.equal(res.status, 413);
    assert.equal(((await res.json()) as { exception: { code: number } }).exception.code, 413);
  });
});
