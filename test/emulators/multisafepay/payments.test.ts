import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MSP_TEXT } from '../../../emulators/multisafepay/page-text.js';
// The harness's orders carry customer.locale it_IT: the pages speak Italian.
const IT = MSP_TEXT.it;
import { sql } from 'kysely';
import type { VerifiedNotification } from '../../../src/connectors/types.js';
import type { Store } from '../../../src/store/store.js';
import { openTestStore } from '../../support/store.js';
import { api, createAccount, createOrder, eventually, Merchant, orderBody, pay, postForm, startEmulator, type Emulator } from './harness.js';

let store: Store;
let emulator: Emulator;
let merchant: Merchant;
let apiKey: string;

before(async () => {
  store = await openTestStore();
  emulator = await startEmulator(store);
  merchant = await Merchant.start();
  apiKey = (await createAccount(emulator, 'Bar Centrale')).api_key;
  merchant.addKey(apiKey);
});

after(async () => {
  await merchant?.close();
  await emulator?.stop();
  await store?.close();
});

async function newLink(overrides: Record<string, unknown> = {}) {
  const body = orderBody(merchant, overrides);
  const created = await createOrder(emulator, apiKey, body);
  return { orderId: body.order_id as string, paymentUrl: created.payment_url, page: created.payment_url.replace(/\?.*$/, '') };
}

const lastVerified = (orderId: string): VerifiedNotification => {
  const all = merchant.verified(orderId);
  assert.ok(all.length > 0, `a verified notification for ${orderId}`);
  return all.at(-1)!;
};

describe('MultiSafepay emulator: paying on the hosted page (test cards)', () => {
  it('a completed Mastercard payment: the signed notification arrives first, then the browser goes to redirect_url?transactionid=', async () => {
    const { orderId, paymentUrl } = await newLink();
    const page = await fetch(paymentUrl);
    assert.equal(page.status, 200);
    const html = await page.text();
    for (const label of [IT.cardBrand, IT.cardNumber, IT.expiryDate, IT.cvvLabel, IT.letExpire]) assert.ok(html.includes(label), label);
    const paid = await pay(paymentUrl, 'MASTERCARD', '5500000000000004');
    assert.equal(paid.status, 303);
    assert.equal(paid.headers.get('location'), `${merchant.url}/return?transactionid=${orderId}`);
    const [received] = merchant.for(orderId);
    assert.ok(received, 'notified before the redirect');
    assert.equal(received.method, 'POST');
    assert.match(received.query.get('timestamp') ?? '', /^\d{10}$/);
    assert.equal(Buffer.from(received.auth!, 'base64').toString().split(':')[0], received.query.get('timestamp'), 'the Auth timestamp is the URL timestamp');
    const verdict = lastVerified(orderId);
    assert.deepEqual(verdict.outcome, { kind: 'captured', amount: 2500 });
    assert.equal(verdict.reference, orderId);
    assert.equal(verdict.summary.payment_method, 'MASTERCARD');
    assert.equal(verdict.summary.pan_masked, '****0004');
    const order = (await api(emulator, 'GET', `/orders/${orderId}`, apiKey)).json.data;
    assert.deepEqual(
      [order.status, order.financial_status, order.payment_details.type, order.payment_details.last4],
      ['completed', 'completed', 'MASTERCARD', '0004'],
    );
    assert.match(order.completed, /^\d{4}-/);
    assert.equal((await fetch(paymentUrl)).status, 200, 'the paid link shows that it is paid');
    assert.equal((await pay(paymentUrl, 'MASTERCARD', '5500000000000004')).status, 200, 'and takes no second payment');
    assert.equal(merchant.for(orderId).length, 1);
  });

  it('a declined card (AMEX 374200000000004) is reported; the customer tries again and pays with another card: a new transaction', async () => {
    const { orderId, paymentUrl } = await newLink();
    const declined = await pay(paymentUrl, 'AMEX', '374200000000004');
    assert.equal(declined.status, 200);
    assert.match(await declined.text(), /role="alert"><p>Il suo pagamento è stato rifiutato: Do not honor/);
    const failed = lastVerified(orderId);
    assert.deepEqual(failed.outcome, { kind: 'failed', code: '05', message: 'Do not honor' });
    assert.equal(failed.summary.payment_method, 'AMEX');
    const paid = await pay(paymentUrl, 'VISA', '4012001038443335');
    assert.equal(paid.status, 303);
    const captured = lastVerified(orderId);
    assert.deepEqual(captured.outcome, { kind: 'captured', amount: 2500 });
    assert.equal(captured.summary.payment_method, 'VISA');
    assert.notEqual(captured.summary.transaction_id, failed.summary.transaction_id);
    assert.notEqual(captured.dedupeKey, failed.dedupeKey);
  });

  it('3-D Secure: Visa 4111111111111111 asks for authentication; "Not authenticated (N)" declines, "Authenticated (Y)" completes', async () => {
    const { orderId, paymentUrl, page } = await newLink();
    const first = await pay(paymentUrl, 'VISA', '4111111111111111');
    assert.deepEqual([first.status, first.headers.get('location')], [303, `${page}3ds`]);
    assert.match(await (await fetch(`${page}3ds`)).text(), new RegExp(IT.authResult.replace("'", '&#39;')));
    assert.equal(merchant.for(orderId).length, 0, 'nothing is decided before the authentication');
    const refused = await postForm(`${page}3ds`, { authentication: 'N' });
    assert.equal(refused.status, 200);
    assert.deepEqual(lastVerified(orderId).outcome, { kind: 'failed', code: '3001', message: '3DS Authentication Failed / Card authentication failed' });
    await pay(paymentUrl, 'VISA', '4111111111111111');
    const accepted = await postForm(`${page}3ds`, { authentication: 'Y' });
    assert.equal(accepted.status, 303);
    assert.deepEqual(lastVerified(orderId).outcome, { kind: 'captured', amount: 2500 });
  });

  it('Visa 4012001038488884: authenticated, then declined for insufficient funds', async () => {
    const { orderId, paymentUrl, page } = await newLink();
    await pay(paymentUrl, 'VISA', '4012001038488884');
    await postForm(`${page}3ds`, { authentication: 'Y' });
    assert.deepEqual(lastVerified(orderId).outcome, { kind: 'failed', code: '51', message: 'Insufficient funds' });
  });

  it('uncleared cards: 4462000000000003 is reviewed and completed, 4917300000000008 is reviewed and voided (a failed attempt)', async () => {
    const good = await newLink();
    const bad = await newLink();
    assert.equal((await pay(good.paymentUrl, 'VISA', '4462000000000003')).status, 303);
    assert.equal((await pay(bad.paymentUrl, 'VISA', '4917300000000008')).status, 303);
    await merchant.waitFor(good.orderId, 2);
    await merchant.waitFor(bad.orderId, 2);
    assert.deepEqual(
      merchant.verified(good.orderId).map((v) => v.outcome),
      [{ kind: 'pending_review' }, { kind: 'captured', amount: 2500 }],
    );
    assert.deepEqual(
      merchant.verified(bad.orderId).map((v) => v.outcome),
      [{ kind: 'pending_review' }, { kind: 'failed', code: 'void', message: 'Declined after manual review' }],
    );
    assert.deepEqual(lastVerified(bad.orderId).summary.financial_status, 'void');
  });

  it('form errors: a card number of another brand, a past expiry, a short CVV — answered on the page with 400, nothing sent', async () => {
    const { orderId, paymentUrl } = await newLink();
    const wrongBrand = await pay(paymentUrl, 'MASTERCARD', '4012001038443335');
    assert.equal(wrongBrand.status, 400);
    assert.match(await wrongBrand.text(), new RegExp(IT.card_number));
    assert.equal((await pay(paymentUrl, 'VISA', '4012001038443335', { expiry: '01/20' })).status, 400);
    assert.equal((await pay(paymentUrl, 'VISA', '4012001038443335', { cvv: '12' })).status, 400);
    assert.equal((await pay(paymentUrl, 'DINERS', '4012001038443335')).status, 400);
    assert.equal(merchant.for(orderId).length, 0);
  });

  it("an order's gateway limits the brands offered (gateway VISA)", async () => {
    const { paymentUrl } = await newLink({ gateway: 'VISA' });
    const html = await (await fetch(paymentUrl)).text();
    assert.ok(html.includes('value="VISA"'));
    assert.equal(html.includes('value="MASTERCARD"'), false);
    assert.equal((await pay(paymentUrl, 'MASTERCARD', '5500000000000004')).status, 400);
  });

  it('Cancel sends the customer to cancel_url?transactionid= and leaves the link open', async () => {
    const { orderId, page, paymentUrl } = await newLink();
    const cancelled = await postForm(`${page}cancel`, {});
    assert.deepEqual([cancelled.status, cancelled.headers.get('location')], [303, `${merchant.url}/cancel?transactionid=${orderId}`]);
    assert.equal(merchant.for(orderId).length, 0);
    assert.equal((await pay(paymentUrl, 'MASTERCARD', '5500000000000004')).status, 303);
  });

  it('an unknown session is a 404 page', async () => {
    assert.equal((await fetch(`${emulator.base}/connect/nosuchsession000000000000000000000/`)).status, 404);
  });
});

describe('MultiSafepay emulator: link expiry', () => {
  it('"Let the link expire" ends the link now: expired notification, then the link answers 410', async () => {
    const { orderId, page, paymentUrl } = await newLink();
    const expired = await postForm(`${page}expire`, {});
    assert.equal(expired.status, 200);
    assert.match(await expired.text(), new RegExp(IT.expiredTitle));
    const verdict = lastVerified(orderId);
    assert.deepEqual(verdict.outcome, { kind: 'failed', code: 'expired', message: 'The payment link expired before it was paid' });
    assert.equal(verdict.summary.processor_status, 'expired');
    assert.equal((await fetch(paymentUrl)).status, 410);
    assert.equal((await pay(paymentUrl, 'MASTERCARD', '5500000000000004')).status, 410);
  });

  it('seconds_active passing expires the link by itself (with its notification)', async () => {
    const { orderId, paymentUrl } = await newLink({ seconds_active: 1 });
    const [received] = await merchant.waitFor(orderId, 1, 10_000);
    assert.equal(received!.verdict?.ok && received!.verdict.summary.processor_status, 'expired');
    assert.equal((await fetch(paymentUrl)).status, 410);
    assert.equal((await api(emulator, 'GET', `/orders/${orderId}`, apiKey)).json.data.status, 'expired');
  });

  it('PATCH /orders/{id} {status: cancelled} cancels an unpaid link (void/cancelled); a paid order cannot be cancelled', async () => {
    const { orderId, paymentUrl } = await newLink();
    const answer = await api(emulator, 'PATCH', `/orders/${orderId}`, apiKey, { status: 'cancelled', exclude_order: true });
    assert.deepEqual([answer.status, answer.json.success], [200, true]);
    await merchant.waitFor(orderId, 1);
    assert.deepEqual(lastVerified(orderId).outcome, { kind: 'canceled' });
    assert.equal(lastVerified(orderId).summary.financial_status, 'cancelled');
    assert.equal((await fetch(paymentUrl)).status, 410);
    const paid = await newLink();
    await pay(paid.paymentUrl, 'MASTERCARD', '5500000000000004');
    assert.equal((await api(emulator, 'PATCH', `/orders/${paid.orderId}`, apiKey, { status: 'cancelled' })).status, 400);
  });
});

describe('MultiSafepay emulator: refunds (POST /orders/{order_id}/refunds)', () => {
  it('a partial then the remaining refund: partial_refunded then refunded, each notified with amount_refunded', async () => {
    const { orderId, paymentUrl } = await newLink({ amount: 10_000 });
    await pay(paymentUrl, 'MASTERCARD', '5500000000000004');
    const first = await api(emulator, 'POST', `/orders/${orderId}/refunds`, apiKey, {
      currency: 'EUR',
      amount: 2500,
      description: 'one item back',
      refund_order_id: `${orderId}-r1`,
    });
    assert.equal(first.status, 200);
    assert.equal(typeof first.json.data.transaction_id, 'number');
    assert.equal(typeof first.json.data.refund_id, 'number');
    await merchant.waitFor(orderId, 2);
    assert.deepEqual(lastVerified(orderId).outcome, { kind: 'refunded', totalRefunded: 2500 });
    assert.equal(lastVerified(orderId).summary.processor_status, 'partial_refunded');
    // "A full refund will be processed if the amount parameter is omitted, left empty, or set to 0."
    assert.equal((await api(emulator, 'POST', `/orders/${orderId}/refunds`, apiKey, { currency: 'EUR' })).status, 200);
    await merchant.waitFor(orderId, 3);
    assert.deepEqual(lastVerified(orderId).outcome, { kind: 'refunded', totalRefunded: 10_000 });
    const order = (await api(emulator, 'GET', `/orders/${orderId}`, apiKey)).json.data;
    assert.deepEqual([order.status, order.financial_status, order.amount_refunded], ['refunded', 'completed', 10_000]);
  });

  it('refuses what cannot be refunded: more than is left or an unpaid order (1034), another currency (1002), a reused refund_order_id (1006), an unknown order (404 1006)', async () => {
    const { orderId, paymentUrl } = await newLink();
    const unpaid = await api(emulator, 'POST', `/orders/${orderId}/refunds`, apiKey, { currency: 'EUR', amount: 100 });
    assert.deepEqual([unpaid.status, unpaid.json.error_code], [400, 1034]);
    await pay(paymentUrl, 'MASTERCARD', '5500000000000004');
    assert.equal((await api(emulator, 'POST', `/orders/${orderId}/refunds`, apiKey, { currency: 'EUR', amount: 2501 })).json.error_code, 1034);
    assert.equal((await api(emulator, 'POST', `/orders/${orderId}/refunds`, apiKey, { currency: 'GBP', amount: 100 })).json.error_code, 1002);
    assert.equal((await api(emulator, 'POST', `/orders/${orderId}/refunds`, apiKey, { currency: 'EUR', amount: 1.5 })).json.error_code, 1001);
    assert.equal(
      (await api(emulator, 'POST', `/orders/${orderId}/refunds`, apiKey, { currency: 'EUR', amount: 100, refund_order_id: `${orderId}-x` })).status,
      200,
    );
    assert.equal(
      (await api(emulator, 'POST', `/orders/${orderId}/refunds`, apiKey, { currency: 'EUR', amount: 100, refund_order_id: `${orderId}-x` })).json.error_code,
      1006,
    );
    const unknown = await api(emulator, 'POST', '/orders/none/refunds', apiKey, { currency: 'EUR', amount: 100 });
    assert.deepEqual([unknown.status, unknown.json.error_code], [404, 1006]);
  });
});

describe('MultiSafepay emulator: notification delivery and retries', () => {
  it('until the merchant answers 200 with OK: HTTP 500, then 200 without OK, then OK — each attempt freshly signed', async () => {
    const { orderId, paymentUrl } = await newLink();
    merchant.script(orderId, ['http500', 'not_ok', 'ok']);
    await pay(paymentUrl, 'MASTERCARD', '5500000000000004');
    const received = await merchant.waitFor(orderId, 3);
    assert.deepEqual(
      received.map((r) => r.reply),
      ['http500', 'not_ok', 'ok'],
    );
    assert.ok(
      received.every((r) => r.verdict?.ok),
      'every attempt verifies',
    );
    assert.equal(new Set(received.map((r) => r.body)).size, 1, 'the same order object each time');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(merchant.for(orderId).length, 3, 'nothing after OK');
  });

  it('MULTISAFEPAY_OK anywhere in the first 100 characters counts as OK', async () => {
    const { orderId, paymentUrl } = await newLink();
    merchant.script(orderId, ['multisafepay_ok']);
    await pay(paymentUrl, 'MASTERCARD', '5500000000000004');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(merchant.for(orderId).length, 1);
  });

  it('gives up after the first attempt and 3 retries (maxAttempts 4)', async () => {
    const { orderId, paymentUrl } = await newLink();
    merchant.script(orderId, Array(10).fill('http500'));
    await pay(paymentUrl, 'MASTERCARD', '5500000000000004');
    await merchant.waitFor(orderId, 4);
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.equal(merchant.for(orderId).length, 4);
  });

  it('a merchant that never answers is retried after the deadline', async () => {
    const { orderId, paymentUrl } = await newLink();
    merchant.script(orderId, ['hang', 'ok']);
    const started = Date.now();
    await pay(paymentUrl, 'MASTERCARD', '5500000000000004');
    await merchant.waitFor(orderId, 2, 15_000);
    assert.ok(Date.now() - started >= 1900, "the redirect waited for the first attempt's deadline");
  });

  it('notification_method GET: a GET to {url}?transactionid=&timestamp= without a body or Auth header', async () => {
    const { orderId, paymentUrl } = await newLink({ payment_options: { ...orderBody(merchant).payment_options, notification_method: 'GET' } });
    await pay(paymentUrl, 'MASTERCARD', '5500000000000004');
    const [received] = merchant.for(orderId);
    assert.equal(received?.method, 'GET');
    assert.equal(received!.body, '');
    assert.equal(received!.auth, undefined);
    assert.match(received!.query.get('timestamp') ?? '', /^\d{10}$/);
  });

  it('survives a restart: retries queued by one emulator process are sent by the next one', async () => {
    const { orderId, paymentUrl } = await newLink();
    merchant.script(orderId, ['http500', 'http500', 'http500']);
    const slow = await startEmulator(store, { notificationRetry: { baseDelayMs: 60_000, backoffFactor: 1, pollMs: 20, timeoutMs: 2000, maxAttempts: 4 } });
    try {
      const viaSlow = paymentUrl.replace(emulator.base, slow.base);
      await pay(viaSlow, 'MASTERCARD', '5500000000000004');
      assert.equal(merchant.for(orderId).length, 1);
    } finally {
      await slow.stop();
    }
    // The retry is an hour-scale wait for the stopped process; move it due, as time passing would.
    await sql`UPDATE emu_multisafepay_notifications SET next_attempt_at = now()
      WHERE status = 'pending' AND order_pk = (SELECT id FROM emu_multisafepay_orders WHERE order_id = ${orderId})`.execute(store.db);
    await eventually(async () => (merchant.for(orderId).length >= 2 ? true : undefined), 10_000, 'the retry by the other process');
  });
});

describe("MultiSafepay emulator: refunds act only for the website that holds the order's API key", () => {
  it("no key, a wrong key or another website's key cannot refund a paid order (401/404); nothing is notified", async () => {
    const { orderId, paymentUrl } = await newLink({ amount: 3000 });
    await pay(paymentUrl, 'MASTERCARD', '5500000000000004');
    await merchant.waitFor(orderId, 1);
    const otherKey = (await createAccount(emulator, 'Another shop')).api_key;
    const anonymous = await fetch(`${emulator.api}/orders/${orderId}/refunds`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"currency":"EUR","amount":3000}',
    });
    assert.equal(anonymous.status, 401);
    assert.equal(
      (await api(emulator, 'POST', `/orders/${orderId}/refunds`, 'wrong-key-000000000000000000000000000000', { currency: 'EUR', amount: 3000 })).status,
      401,
    );
    const foreign = await api(emulator, 'POST', `/orders/${orderId}/refunds`, otherKey, { currency: 'EUR', amount: 3000 });
    assert.equal(foreign.status, 404);
    assert.equal((await api(emulator, 'GET', `/orders/${orderId}`, otherKey)).status, 404);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(merchant.for(orderId).length, 1, 'only the payment was notified');
    assert.equal((await api(emulator, 'GET', `/orders/${orderId}`, apiKey)).json.data.status, 'completed');
  });
});
