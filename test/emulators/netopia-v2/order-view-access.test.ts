import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openTestStore } from '../../support/store.js';
import type { Store } from '../../../src/store/store.js';
import { api, card, createAccount, Merchant, newOrderId, orderView, startBody, startEmulator, type Account, type Emulator } from './harness.js';

/**
 * `GET /orders/{ntpID}`, the sandbox admin's view of an order and its IPN log, is the account's own: it takes the
 * account's API key like the rest of the API, another account's order is not found whatever its (sequential)
 * ntpID, and the card token is never shown, not even inside the logged IPN bodies.
 */

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

async function paidOrder(): Promise<{ orderId: string; ntpID: string; token: string }> {
  const orderId = newOrderId('view');
  const answer = await api(emulator, '/payment/card/start', startBody(account, merchant, { orderId, card: card('9900004810225098') }), account.api_key);
  assert.equal(answer.json.error.code, '00', answer.text);
  await merchant.waitForIpns(orderId, 1);
  const token = answer.json.payment.token as string;
  assert.equal(typeof token, 'string');
  return { orderId, ntpID: answer.json.payment.ntpID, token };
}

describe("NETOPIA v2 emulator: the order view is the account's own and shows no card token", () => {
  it('anonymous requests and wrong keys are 401, without the order', async () => {
    const { ntpID, orderId } = await paidOrder();
    for (const headers of [{}, { authorization: 'not-a-key-0000000000000000' }, { authorization: `Bearer ${account.api_key}` }] as Array<
      Record<string, string>
    >) {
      const response = await fetch(`${emulator.base}/orders/${ntpID}`, { headers });
      assert.equal(response.status, 401, JSON.stringify(headers));
      assert.equal((await response.text()).includes(orderId), false);
    }
  });

  it("another account's key does not see the order (404), nor the neighbouring sequential ids", async () => {
    const { ntpID } = await paidOrder();
    const foreign = await fetch(`${emulator.base}/orders/${ntpID}`, { headers: { authorization: other.api_key } });
    assert.equal(foreign.status, 404);
    for (const id of [Number(ntpID) - 1, Number(ntpID), Number(ntpID) + 1]) {
      assert.notEqual((await fetch(`${emulator.base}/orders/${id}`, { headers: { authorization: other.api_key } })).status, 200, String(id));
    }
  });

  it('the owner sees the order and its IPN log, and the card token appears nowhere in the answer', async () => {
    const { ntpID, orderId, token } = await paidOrder();
    const response = await fetch(`${emulator.base}/orders/${ntpID}`, { headers: { authorization: account.api_key } });
    assert.equal(response.status, 200);
    const text = await response.text();
    assert.equal(text.includes(token), false, 'the card token is shown');
    const view = await orderView(emulator, ntpID, account.api_key);
    assert.equal(view.order.orderID, orderId);
    assert.equal(view.deliveries.length, 1);
    const ipn = JSON.parse(view.deliveries[0]!.body);
    assert.equal(ipn.payment.token, '(hidden)');
    assert.equal(ipn.payment.binding.token, '(hidden)');
    assert.equal(ipn.payment.status, 3, 'the rest of the IPN is shown as sent');
    // The merchant itself received the token in the IPN: hiding it is the view's doing only.
    assert.equal(merchant.ipnsFor(orderId)[0]!.body.payment.token, token);
  });
});
