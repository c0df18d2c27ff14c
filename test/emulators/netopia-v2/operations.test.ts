import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openTestStore } from '../../support/store.js';
import type { Store } from '../../../src/store/store.js';
import { api, card, createAccount, Merchant, newOrderId, startBody, startEmulator, type Account, type Emulator } from './harness.js';

let store: Store;
let emulator: Emulator;
let merchant: Merchant;
let account: Account;
let other: Account;

before(async () => {
  store = await openTestStore();
  emulator = await startEmulator(store);
  merchant = await Merchant.start();
  account = await createAccount(emulator);
  other = await createAccount(emulator);
  merchant.trust(account.notify_public_key_pem, account.pos_signature);
});

after(async () => {
  await emulator?.stop();
  await merchant?.close();
  await store?.close();
});

const call = (path: string, body: unknown, key = account.api_key) => api(emulator, path, body, key);

async function paidOrder(amount = 25): Promise<{ orderId: string; ntpID: string }> {
  const orderId = newOrderId('paid');
  const answer = await call('/payment/card/start', startBody(account, merchant, { orderId, amount, card: card('9900004810225098'), data: { invoice: 'F-1' } }));
  assert.equal(answer.json.error.code, '00', answer.text);
  await merchant.waitForIpns(orderId, 1);
  return { orderId, ntpID: answer.json.payment.ntpID };
}

describe('NETOPIA v2 emulator: POST /operation/status {posID, ntpID, orderID} — the authoritative status', () => {
  it('a paid order: error "00", payment {amount, currency, data, ntpID, status 3, token}, customerAction {}', async () => {
    const { orderId, ntpID } = await paidOrder();
    const answer = await call('/operation/status', { posID: account.pos_signature, ntpID, orderID: orderId });
    assert.equal(answer.status, 200, answer.text);
    assert.deepEqual(answer.json.customerAction, {});
    assert.deepEqual(answer.json.error, { code: '00', message: 'Approved' });
    const payment = answer.json.payment;
    assert.deepEqual([payment.amount, payment.currency, payment.ntpID, payment.status], [25, 'RON', ntpID, 3]);
    assert.deepEqual(Object.keys(payment.data).sort(), ['AuthCode', 'BIN', 'ISSUER', 'ISSUER_COUNTRY', 'RRN']);
    assert.equal(typeof payment.token, 'string');
    assert.equal(answer.json.order.orderID, orderId);
    assert.deepEqual(answer.json.order.data, { invoice: 'F-1' });
  });

  it('a hosted order waiting for its card: status 1 with its paymentURL; found by orderID alone too', async () => {
    const orderId = newOrderId('waiting');
    const start = await call('/payment/card/start', startBody(account, merchant, { orderId }));
    const answer = await call('/operation/status', { posID: account.pos_signature, orderID: orderId });
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.json.error.code, '101');
    assert.equal(answer.json.payment.status, 1);
    assert.equal(answer.json.payment.ntpID, start.json.payment.ntpID);
    assert.equal(answer.json.payment.paymentURL, start.json.payment.paymentURL);
  });

  it('a 3-D Secure order driven by the merchant: status 15 with the customerAction to resume', async () => {
    const start = await call('/payment/card/start', startBody(account, merchant, { card: card('9900009184214768') }));
    const answer = await call('/operation/status', { posID: account.pos_signature, ntpID: start.json.payment.ntpID });
    assert.equal(answer.json.payment.status, 15);
    assert.deepEqual(answer.json.customerAction, start.json.customerAction);
  });

  it("unknown orders, another POS's orders and a wrong posID get NETOPIA errors, not data", async () => {
    const { orderId, ntpID } = await paidOrder();
    const unknown = await call('/operation/status', { posID: account.pos_signature, ntpID: '999999999', orderID: 'nope' });
    assert.equal(unknown.status, 404, unknown.text);
    assert.equal(unknown.json.error.code, '48');
    const mismatch = await call('/operation/status', { posID: account.pos_signature, ntpID, orderID: 'another-order' });
    assert.equal(mismatch.status, 404);
    const foreign = await call('/operation/status', { posID: other.pos_signature, ntpID, orderID: orderId }, other.api_key);
    assert.equal(foreign.status, 404);
    const wrongPos = await call('/operation/status', { posID: other.pos_signature, ntpID, orderID: orderId });
    assert.equal(wrongPos.status, 400);
    assert.equal(wrongPos.json.error.details[0].field, 'posID');
    const empty = await call('/operation/status', {});
    assert.equal(empty.status, 400);
    const noKey = await api(emulator, '/operation/status', { posID: account.pos_signature, ntpID }, undefined);
    assert.equal(noKey.status, 401);
  });
});

describe('NETOPIA v2 emulator: POST /operation/credit {ntpID, amount} — full or partial refunds, status 8 + an IPN', () => {
  it('partial credits accumulate: payment.amount is the TOTAL credited so far, in the answer, the status and the IPN', async () => {
    const { orderId, ntpID } = await paidOrder(25);
    const first = await call('/operation/credit', { ntpID, amount: 10 });
    assert.equal(first.status, 200, first.text);
    assert.deepEqual(first.json.error, { code: '00', message: 'Approved' });
    assert.deepEqual([first.json.payment.status, first.json.payment.amount], [8, 10]);
    const second = await call('/operation/credit', { ntpID, amount: 15 });
    assert.deepEqual([second.json.payment.status, second.json.payment.amount], [8, 25]);
    // Sent as each call returns, the two credit IPNs may arrive in either order: each carries its running total.
    const ipns = await merchant.waitForIpns(orderId, 3);
    const seen = ipns.map((i) => [i.body.payment.status, i.body.payment.amount] as [number, number]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    assert.deepEqual(seen, [
      [3, 25],
      [8, 10],
      [8, 25],
    ]);
    const status = await call('/operation/status', { posID: account.pos_signature, ntpID });
    assert.deepEqual([status.json.payment.status, status.json.payment.amount], [8, 25]);
    // Nothing is left: even a cent more is refused.
    const over = await call('/operation/credit', { ntpID, amount: 0.01 });
    assert.equal(over.status, 400);
    assert.equal(over.json.error.code, '54');
    assert.equal(over.json.payment.amount, 25);
  });

  it('a full credit in one go; more than remains is refused with 54 and changes nothing', async () => {
    const { orderId, ntpID } = await paidOrder(49.9);
    const over = await call('/operation/credit', { ntpID, amount: 49.91 });
    assert.equal(over.status, 400, over.text);
    assert.equal(over.json.error.code, '54');
    assert.equal(over.json.payment.status, 3);
    const full = await call('/operation/credit', { ntpID, amount: 49.9 });
    assert.deepEqual([full.json.payment.status, full.json.payment.amount], [8, 49.9]);
    const ipns = await merchant.waitForIpns(orderId, 2);
    assert.equal(ipns[1]!.body.payment.amount, 49.9);
    assert.equal(ipns[1]!.verified.ok, true);
  });

  it('an order that was never paid cannot be credited (53); bad amounts and unknown orders are refused', async () => {
    const open = await call('/payment/card/start', startBody(account, merchant));
    const unpaid = await call('/operation/credit', { ntpID: open.json.payment.ntpID, amount: 1 });
    assert.equal(unpaid.status, 400, unpaid.text);
    assert.equal(unpaid.json.error.code, '53');
    const declined = await call('/payment/card/start', startBody(account, merchant, { card: card('9900518572831942') }));
    const notPaid = await call('/operation/credit', { ntpID: declined.json.payment.ntpID, amount: 1 });
    assert.equal(notPaid.json.error.code, '53');
    const { ntpID } = await paidOrder();
    for (const amount of [0, -1, 1.001, '5', 0.1 + 0.2, undefined]) {
      const bad = await call('/operation/credit', { ntpID, amount });
      assert.equal(bad.status, 400, `${amount}: ${bad.text}`);
      assert.equal(bad.json.error.details[0].field, 'amount');
    }
    const unknown = await call('/operation/credit', { ntpID: '999999999', amount: 1 });
    assert.equal(unknown.status, 404);
    const foreign = await call('/operation/credit', { ntpID, amount: 1 }, other.api_key);
    assert.equal(foreign.status, 404);
  });
});
