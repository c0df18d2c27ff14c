import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { apiClient, eventually, startTestHub, type TestHub } from '../support/hub.js';
import { CARDS, openPaymentPage, payAtProcessor } from '../support/netopia-customer.js';

/**
 * `POST /v1/payments/{id}/cancel`: the console's cancel (`cancelMerchantPayment`) for API clients. A pending payment
 * is canceled (one `payment.canceled` event, the payment page no longer takes it); canceling it again answers it as
 * it is, without a second event; a paid payment is a 409 problem naming its state; another merchant's or an unknown
 * payment is 404 (the authorization matrix calls it with every kind of caller). Documented in the OpenAPI document.
 */

let hub: TestHub;
let api: ReturnType<typeof apiClient>;

const billing = { first_name: 'Ana', last_name: 'Pop', email: 'ana@example.ro' };
const newPayment = async (order: string) => {
  const r = await api('POST', '/v1/payments', { connection: 'netopia', order_id: order, amount: 2500, currency: 'RON', description: 'Ceai verde', billing });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body as { id: string; payment_url: string };
};
const eventsOf = async (paymentId: string, type: string) =>
  ((await api('GET', '/v1/events')).body.data as Array<{ type: string; data: { id: string } }>).filter((e) => e.type === type && e.data.id === paymentId);

before(async () => {
  hub = await startTestHub();
  const merchant = await apiClient(hub.url, hub.adminKey)('POST', '/v1/merchants', { name: 'Ceainăria SRL' });
  api = apiClient(hub.url, merchant.body.api_key);
  const c = await api('POST', '/v1/connections', { code: 'netopia', provider: 'netopia-v1', environment: 'emulator' });
  assert.equal(c.status, 201, JSON.stringify(c.body));
});
after(() => hub?.close());

describe('POST /v1/payments/{id}/cancel', () => {
  it('cancels a pending payment once; canceling it again answers it as it is, with no second event', async () => {
    const p = await newPayment('CANCEL-API-1');
    const first = await api('POST', `/v1/payments/${p.id}/cancel`);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(first.body.id, p.id);
    assert.equal(first.body.status, 'canceled');
    assert.ok(Array.isArray(first.body.attempts), 'the payment as GET /v1/payments/{id} shows it');
    assert.equal((await api('GET', `/v1/payments/${p.id}`)).body.status, 'canceled');
    assert.equal((await eventsOf(p.id, 'payment.canceled')).length, 1);
    const again = await api('POST', `/v1/payments/${p.id}/cancel`);
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.equal(again.body.status, 'canceled');
    assert.equal(again.body.updated_at, first.body.updated_at, 'nothing changed');
    assert.equal((await eventsOf(p.id, 'payment.canceled')).length, 1, 'no second event');
    // The payer can no longer pay it.
    const page = await openPaymentPage(p.payment_url);
    assert.equal(page.kind, 'status');
  });

  it('refuses to cancel a paid payment with a 409 problem naming its state; the payment stays paid', async () => {
    const p = await newPayment('CANCEL-API-PAID');
    const page = await openPaymentPage(p.payment_url);
    assert.equal(page.kind, 'handoff');
    if (page.kind !== 'handoff') return;
    await payAtProcessor(page.handoff, { pan: CARDS.approved });
    await eventually(async () => (await api('GET', `/v1/payments/${p.id}`)).body.status === 'paid', 15_000, 'paid');
    const refused = await api('POST', `/v1/payments/${p.id}/cancel`);
    assert.equal(refused.status, 409, JSON.stringify(refused.body));
    assert.match(refused.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.equal(refused.body.title, 'Conflict');
    assert.equal(refused.body.detail, 'only a pending payment can be canceled; this one is paid');
    assert.equal((await api('GET', `/v1/payments/${p.id}`)).body.status, 'paid');
    assert.equal((await eventsOf(p.id, 'payment.canceled')).length, 0);
  });

  it('answers 404 for a payment that does not exist', async () => {
    const r = await api('POST', '/v1/payments/pay_00000000000000000000000000/cancel');
    assert.equal(r.status, 404);
    assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/);
  });

  it('is in the OpenAPI document: tagged payments, with an example id, the payment and the conflict with an example', async () => {
    const doc = await (await fetch(`${hub.url}/openapi.json`)).json();
    const op = doc.paths['/v1/payments/{id}/cancel']?.post;
    assert.ok(op, 'documented');
    assert.deepEqual(op.tags, ['payments']);
    assert.ok(op.summary && op.description);
    const id = op.parameters.find((p: { name: string; in: string }) => p.name === 'id' && p.in === 'path');
    assert.match(JSON.stringify(id), /pay_01kc2v7q8m3j5n6p7r8s9t0vwx/);
    assert.ok(op.responses['200'], 'the payment');
    assert.match(JSON.stringify(op.responses['409']), /only a pending payment can be canceled; this one is paid/);
  });
});
