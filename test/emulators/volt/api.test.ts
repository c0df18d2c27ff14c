import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { volt } from '../../../src/connectors/volt/connector.js';
import { uniqueReferenceFor } from '../../../src/connectors/volt/references.js';
import { SANDBOX_BANKS } from '../../../emulators/volt/banks.js';
import { openTestStore } from '../../support/store.js';
import type { Store } from '../../../src/store/store.js';
import {
  accessToken,
  api,
  connection,
  createAccount,
  Merchant,
  newReference,
  openPayment,
  payOverHttp,
  startEmulator,
  type Account,
  type Emulator,
} from './harness.js';

let store: Store;
let emulator: Emulator;
let merchant: Merchant;
let account: Account;
let token: string;

before(async () => {
  store = await openTestStore();
  emulator = await startEmulator(store);
  merchant = await Merchant.start();
  account = await createAccount(emulator, { name: 'Ceramiche Rossi' });
  merchant.trust(emulator, account);
  token = await accessToken(emulator, account);
});

after(async () => {
  await emulator?.stop();
  await merchant?.close();
  await store?.close();
});

describe('Volt emulator: sandbox accounts (POST /accounts)', () => {
  it('hands out an application and its API user: client_id, client_secret, username, password, notification_secret', () => {
    assert.match(account.client_id, /^[0-9a-f-]{36}$/);
    for (const field of ['client_secret', 'username', 'password', 'notification_secret'] as const) assert.ok(account[field].length >= 16, field);
    assert.notEqual(account.notification_secret, account.client_secret);
    assert.equal(account.api_url, emulator.base);
    assert.deepEqual(Object.keys(volt.emulator!.credentialsFrom(account)).sort(), [
      'client_id',
      'client_secret',
      'notification_secret',
      'password',
      'username',
    ]);
  });
  it("refuses a bad name in Volt's error shape", async () => {
    const res = await api(emulator, 'POST', '/accounts', { body: { name: '' } });
    assert.equal(res.status, 400);
    assert.equal(res.json.exception.code, 400);
  });
});

describe('Volt emulator: POST /oauth (password grant)', () => {
  const grant = (overrides: Record<string, string> = {}) => ({
    grant_type: 'password',
    client_id: account.client_id,
    client_secret: account.client_secret,
    username: account.username,
    password: account.password,
    ...overrides,
  });

  it('form-urlencoded, as the Payments API documents it: access_token, token_type bearer, expires_in 3600, refresh_token', async () => {
    const res = await fetch(`${emulator.base}/oauth`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded;charset=UTF-8' },
      body: new URLSearchParams(grant()).toString(),
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).sort(), ['access_token', 'expires_in', 'refresh_token', 'token_type']);
    assert.equal(body.token_type, 'bearer');
    assert.equal(body.expires_in, 3600);
  });

  it('JSON too, as the newer guides send it; the refresh token works once', async () => {
    const first = await api(emulator, 'POST', '/oauth', { body: grant() });
    assert.equal(first.status, 200);
    const refreshed = await api(emulator, 'POST', '/oauth', {
      body: { grant_type: 'refresh_token', client_id: account.client_id, client_secret: account.client_secret, refresh_token: first.json.refresh_token },
    });
    assert.equal(refreshed.status, 200);
    assert.notEqual(refreshed.json.access_token, first.json.access_token);
    const again = await api(emulator, 'POST', '/oauth', {
      body: { grant_type: 'refresh_token', client_id: account.client_id, client_secret: account.client_secret, refresh_token: first.json.refresh_token },
    });
    assert.equal(again.status, 400);
  });

  it("wrong credentials answer Volt's {code, message} 401, which the connector reads as a refusal", async () => {
    for (const wrong of [{ password: 'nope' }, { username: 'someone@else' }, { client_secret: 'nope' }, { client_id: 'nope' }] as Array<
      Record<string, string>
    >) {
      const res = await api(emulator, 'POST', '/oauth', { body: grant(wrong) });
      assert.equal(res.status, 401, JSON.stringify(wrong));
      assert.deepEqual(Object.keys(res.json).sort(), ['code', 'message']);
      assert.equal(res.json.code, 401);
      const read = volt.authenticate!.response(connection(emulator, account), { status: res.status, headers: {}, body: res.text }, new Date());
      assert.equal('kind' in read && read.failure, 'refused');
    }
    const other = await createAccount(emulator);
    const crossed = await api(emulator, 'POST', '/oauth', { body: grant({ username: other.username, password: other.password }) });
    assert.equal(crossed.status, 401, "another account's API user");
  });

  it('a missing or unknown grant_type is a 400', async () => {
    assert.equal((await api(emulator, 'POST', '/oauth', { body: grant({ grant_type: 'client_credentials' }) })).status, 400);
    assert.equal((await api(emulator, 'POST', '/oauth', { body: 'not json at all' })).status, 400);
  });
});

describe('Volt emulator: bearer tokens on the API', () => {
  it('no token, an unknown token → 401 in the exception shape', async () => {
    for (const t of [undefined, 'made-up-token']) {
      const res = await api(emulator, 'GET', '/payments', { token: t });
      assert.equal(res.status, 401);
      assert.equal(res.json.exception.code, 401);
    }
  });

  it('an expired token → 401 (token lifetime 1 s on this instance)', async () => {
    const shortLived = await startEmulator(store, { tokenTtlSeconds: 1 });
    try {
      const t = await accessToken(shortLived, account);
      assert.equal((await api(shortLived, 'GET', '/payments', { token: t })).status, 200);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const res = await api(shortLived, 'GET', '/payments', { token: t });
      assert.equal(res.status, 401);
      assert.match(res.json.exception.message, /expired/);
    } finally {
      await shortLived.stop();
    }
  });
});

describe('Volt emulator: POST /v2/payments', () => {
  it('201 {id, checkoutUrl}; the connector reads it as a redirect to the checkout', async () => {
    const created = await openPayment(emulator, account, merchant, token);
    assert.match(created.id, /^[0-9a-f-]{36}$/);
    assert.ok(created.checkoutUrl.startsWith(`${emulator.base}/checkout/${created.id}?auth=`));
    const page = await fetch(created.checkoutUrl);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /Choose your bank/);
  });

  it('validation errors come back as {exception: {code, message, errorList: [{property, message}]}}', async () => {
    const res = await api(emulator, 'POST', '/v2/payments', {
      token,
      body: {
        currencyCode: 'XYZ',
        amount: 12.5,
        type: 'CARD',
        uniqueReference: 'has spaces!',
        shopper: { email: 'not-an-email' },
        paymentSuccessUrl: 'javascript:alert(1)',
      },
    });
    assert.equal(res.status, 400);
    assert.equal(res.json.exception.code, 400);
    assert.equal(res.json.exception.message, 'Validation exception');
    assert.deepEqual(res.json.exception.errorList.map((e: { property: string }) => e.property).sort(), [
      'amount',
      'currencyCode',
      'paymentSuccessUrl',
      'shopper.email',
      'shopper.reference',
      'type',
      'uniqueReference',
    ]);
    const read = volt.start!.response(connection(emulator, account), {} as never, { status: res.status, headers: {}, body: res.text });
    assert.equal(read.kind, 'error');
    assert.match((read as { message: string }).message, /shopper\.email: This value is not a valid email address/);
  });

  it('a uniqueReference already used by this account is refused', async () => {
    const reference = newReference();
    await openPayment(emulator, account, merchant, token, { reference });
    await assert.rejects(openPayment(emulator, account, merchant, token, { reference }), /uniqueReference/);
  });

  it("bodies that are not JSON objects, wrong content types, unknown paths: Volt's error shape, never a 500", async () => {
    for (const body of ['[]', 'null', '{"amount":', '"text"']) {
      const res = await api(emulator, 'POST', '/v2/payments', { token, body });
      assert.equal(res.status, 400, body);
      assert.equal(res.json.exception.code, 400, body);
    }
    const xml = await fetch(`${emulator.base}/v2/payments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/xml' },
      body: '<a/>',
    });
    assert.equal(xml.status, 400);
    assert.equal(((await xml.json()) as { exception: { code: number } }).exception.code, 400);
    assert.equal((await api(emulator, 'GET', '/nowhere')).json.exception.code, 404);
  });
});

describe('Volt emulator: GET /payments/{id} answers from the same state as the checkout', () => {
  it('NEW_PAYMENT, then COMPLETED with the bank chosen; the connector reports it', async () => {
    const created = await openPayment(emulator, account, merchant, token, { amount: 4321 });
    const before = await api(emulator, 'GET', `/payments/${created.id}`, { token });
    assert.equal(before.status, 200);
    assert.equal(before.json.status, 'NEW_PAYMENT');
    assert.deepEqual(before.json.currency, { id: 'EUR', name: 'Euro', decimal: 2, active: true });
    assert.equal(before.json.uniqueReference, uniqueReferenceFor(created.reference));
    assert.equal(before.json.merchantInternalReference, created.reference);

    await payOverHttp(created.checkoutUrl, SANDBOX_BANKS[1]!.id, 'authorise');
    const after = await api(emulator, 'GET', `/payments/${created.id}`, { token });
    assert.equal(after.json.status, 'COMPLETED');
    assert.equal(after.json.bank.name, 'Sandbox Sparkasse');
    assert.deepEqual(
      after.json.statusUpdates.map((u: { newStatus: string }) => u.newStatus),
      ['NEW_PAYMENT', 'BANK_REDIRECT', 'COMPLETED'],
    );

    const attempt = { reference: created.reference, processorReference: created.id, amount: 4321, currency: 'EUR' };
    const report = volt.statusCheck!.response(connection(emulator, account), attempt, { status: after.status, headers: {}, body: after.text });
    assert.deepEqual((report as { outcome: unknown }).outcome, { kind: 'captured', amount: 4321 });
    assert.equal((report as unknown as { summary: { payment_method: string } }).summary.payment_method, 'Sandbox Sparkasse');

    const listed = await api(emulator, 'GET', `/payments?uniqueReference=${uniqueReferenceFor(created.reference)}`, { token });
    assert.equal(listed.json.length, 1);
    assert.equal(listed.json[0].id, created.id);
  });

  it("another account's payment, or no such payment, is a 404", async () => {
    const created = await openPayment(emulator, account, merchant, token);
    const other = await createAccount(emulator);
    assert.equal((await api(emulator, 'GET', `/payments/${created.id}`, { token: await accessToken(emulator, other) })).status, 404);
    assert.equal((await api(emulator, 'GET', '/payments/00000000-0000-0000-0000-000000000000', { token })).status, 404);
    assert.equal((await api(emulator, 'GET', '/payments/not-a-uuid', { token })).status, 404);
  });
});

describe('Volt emulator: POST /payments/{id}/request-refund', () => {
  it("no token or another account's token cannot refund a completed payment (401/404)", async () => {
    const created = await openPayment(emulator, account, merchant, token, { amount: 500 });
    await payOverHttp(created.checkoutUrl, SANDBOX_BANKS[0]!.id, 'authorise');
    const anonymous = await fetch(`${emulator.base}/payments/${created.id}/request-refund`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"amount":500}',
    });
    assert.equal(anonymous.status, 401);
    const other = await createAccount(emulator);
    assert.equal(
      (await api(emulator, 'POST', `/payments/${created.id}/request-refund`, { token: await accessToken(emulator, other), body: { amount: 500 } })).status,
      404,
    );
    const after = await api(emulator, 'GET', `/payments/${created.id}`, { token });
    assert.notEqual(after.json.status, 'REFUND_CONFIRMED');
    assert.equal((await api(emulator, 'POST', `/payments/${created.id}/request-refund`, { token, body: { amount: 500 } })).status, 201, 'the owner still can');
  });

  it('a completed payment refunds in parts, up to its amount; an idempotency key cannot be used twice', async () => {
    const created = await openPayment(emulator, account, merchant, token, { amount: 1000 });
    const notYet = await api(emulator, 'POST', `/payments/${created.id}/request-refund`, { token, body: { amount: 100 } });
    assert.equal(notYet.status, 422, 'not completed yet');
    await payOverHttp(created.checkoutUrl, SANDBOX_BANKS[0]!.id, 'authorise');

    const config = connection(emulator, account);
    const refund = {
      reference: created.reference,
      processorReference: created.id,
      amount: 1000,
      currency: 'EUR',
      refundId: `rfd_${created.reference}`,
      refundAmount: 400,
      refundedBefore: 0,
      now: new Date(),
    };
    const request = volt.refund!.request(config, refund, token);
    const first = await fetch(request.url, { method: request.method, headers: request.headers, body: request.body });
    assert.equal(first.status, 201);
    const report = volt.refund!.response(config, refund, { status: first.status, headers: {}, body: await first.text() });
    assert.match(String((report as unknown as { summary: { volt_refund_id: string } }).summary.volt_refund_id), /^[0-9a-f-]{36}$/);

    const repeated = await fetch(request.url, { method: request.method, headers: request.headers, body: request.body });
    assert.equal(repeated.status, 403);
    const repeatReport = volt.refund!.response(config, refund, { status: repeated.status, headers: {}, body: await repeated.text() });
    assert.equal((repeatReport as { dedupeKey: string }).dedupeKey, (report as { dedupeKey: string }).dedupeKey);

    const tooMuch = await api(emulator, 'POST', `/payments/${created.id}/request-refund`, { token, body: { amount: 601 } });
    assert.equal(tooMuch.status, 422);
    assert.equal(tooMuch.json.exception.errorList[0].property, 'amount');
    const rest = await api(emulator, 'POST', `/payments/${created.id}/request-refund`, { token, body: {} });
    assert.equal(rest.status, 201, 'no amount: the rest');
    assert.equal((await api(emulator, 'GET', `/payments/${created.id}`, { token })).json.refundedAmount, 1000);
    assert.equal((await api(emulator, 'POST', `/payments/${created.id}/request-refund`, { token, body: {} })).status, 422, 'fully refunded');
  });

  it("bad refund input in Volt's shape", async () => {
    const created = await openPayment(emulator, account, merchant, token);
    const res = await api(emulator, 'POST', `/payments/${created.id}/request-refund`, {
      token,
      body: { amount: -5, externalReference: 'has spaces' },
      headers: { 'idempotency-key': 'nope' },
    });
    assert.equal(res.status, 400);
    assert.deepEqual(
      res.json.exception.errorList.map((e: { property: string }) => e.property),
      ['amount', 'externalReference', 'idempotency-key'],
    );
  });
});
