import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openTestStore } from '../../support/store.js';
import type { Store } from '../../../src/store/store.js';
import {
  createAccount,
  logIn,
  Merchant,
  operate,
  order,
  orderView,
  payOverHttp,
  postForm,
  PREFIX,
  sealOrder,
  startEmulator,
  type Account,
  type Emulator,
} from './harness.js';

const APPROVED = '9900004810225098';

let store: Store;
let emulator: Emulator;
let merchant: Merchant;
let preauth: Account;
let direct: Account;

before(async () => {
  store = await openTestStore();
  emulator = await startEmulator(store);
  merchant = await Merchant.start();
  preauth = await createAccount(emulator, { capture: 'manual' });
  direct = await createAccount(emulator, { capture: 'auto' });
  merchant.addKey(preauth.private_key);
  merchant.addKey(direct.private_key);
});

after(async () => {
  await emulator?.stop();
  await merchant?.close();
  await store?.close();
});

/** A paid order: preauthorised on the manual-capture account, confirmed on the other one. */
async function paidOrder(seller: Account, amount = '100.00', pan = APPROVED): Promise<{ purchase: string; orderId: string }> {
  const v1Order = order(seller, merchant, { invoice: { amount } });
  const { purchase } = await payOverHttp(emulator, sealOrder(seller, v1Order), pan);
  return { purchase, orderId: v1Order.id };
}

function lastIpn(orderId: string) {
  const received = merchant.ipnsFor(orderId);
  return received[received.length - 1]!.ipn.mobilpay;
}

describe("NETOPIA v1 emulator back office: capture, cancel and credit with NETOPIA's IPNs", () => {
  it('captures a preauthorised order in part: IPN confirmed with processed_amount = captured amount', async () => {
    const { purchase, orderId } = await paidOrder(preauth);
    assert.equal(lastIpn(orderId).action, 'paid');
    const result = await operate(emulator, purchase, 'capture', { amount: '60.00' });
    assert.equal(result.status, 200);
    assert.equal(result.json.ok, true);
    assert.equal(result.json.ipn, 'delivered', 'the IPN is sent before the operation answers');
    const m = lastIpn(orderId);
    assert.equal(m.action, 'confirmed');
    assert.equal(m.error.code, 0);
    assert.equal(m.original_amount, '100.00');
    assert.equal(m.processed_amount, '60.00');
    const view = await orderView(emulator, purchase);
    assert.equal(view.order.status, 'confirmed');
    assert.equal(view.order.captured_ron, '60.00');
  });

  it('cancels a preauthorised order: IPN canceled', async () => {
    const { purchase, orderId } = await paidOrder(preauth);
    assert.equal((await operate(emulator, purchase, 'cancel')).json.ok, true);
    const m = lastIpn(orderId);
    assert.equal(m.action, 'canceled');
    assert.equal(m.error.code, 0);
    assert.equal((await orderView(emulator, purchase)).order.status, 'canceled');
  });

  it('credits in parts: each credit IPN reports the cumulative credited amount (10.00, then 25.00)', async () => {
    const { purchase, orderId } = await paidOrder(direct);
    await operate(emulator, purchase, 'credit', { amount: '10' });
    const first = lastIpn(orderId);
    await operate(emulator, purchase, 'credit', { amount: 15 });
    const second = lastIpn(orderId);
    assert.deepEqual([first.action, first.processed_amount, first.original_amount], ['credit', '10.00', '100.00']);
    assert.deepEqual([second.action, second.processed_amount, second.original_amount], ['credit', '25.00', '100.00']);
    const view = await orderView(emulator, purchase);
    assert.equal(view.order.status, 'confirmed');
    assert.equal(view.order.credited_ron, '25.00');
  });

  it('a full credit has processed_amount == original_amount and leaves the order credited', async () => {
    const { purchase, orderId } = await paidOrder(direct, '42.50');
    assert.equal((await operate(emulator, purchase, 'credit')).json.ok, true);
    const m = lastIpn(orderId);
    assert.equal(m.action, 'credit');
    assert.equal(m.processed_amount, '42.50');
    assert.equal(m.original_amount, '42.50');
    assert.equal((await orderView(emulator, purchase)).order.status, 'credited');
  });

  it('resends the last IPN with a new crc', async () => {
    const { purchase, orderId } = await paidOrder(direct);
    const before = lastIpn(orderId);
    assert.equal((await operate(emulator, purchase, 'resend')).json.ok, true);
    const after = lastIpn(orderId);
    assert.equal(merchant.ipnsFor(orderId).length, 2);
    assert.equal(after.action, before.action);
    assert.equal(after.processed_amount, before.processed_amount);
    assert.notEqual(after.crc, before.crc);
    assert.equal((await orderView(emulator, purchase)).deliveries.length, 2);
  });
});

describe("NETOPIA v1 emulator back office: refused operations use NETOPIA's codes 51–55", () => {
  const refusal = async (purchase: string, operation: string, body: Record<string, unknown> = {}) => {
    const { status, json } = await operate(emulator, purchase, operation, body);
    assert.equal(json.ok, false);
    return { status, code: json.error!.code, message: json.error!.message };
  };

  it('51: only a preauthorised order can be cancelled', async () => {
    const { purchase } = await paidOrder(direct);
    assert.deepEqual(await refusal(purchase, 'cancel'), { status: 409, code: 51, message: 'Can only CANCEL preauth' });
  });

  it('52: only a preauthorised order can be captured', async () => {
    const { purchase } = await paidOrder(direct);
    assert.deepEqual(await refusal(purchase, 'capture'), { status: 409, code: 52, message: 'Can only CONFIRM preauth' });
    const declined = await paidOrder(preauth, '10.00', '9900518572831942');
    assert.equal((await refusal(declined.purchase, 'capture')).code, 52);
  });

  it('53: only a confirmed order can be credited', async () => {
    const { purchase } = await paidOrder(preauth);
    assert.deepEqual(await refusal(purchase, 'credit'), { status: 409, code: 53, message: 'Can only CREDIT confirmed order' });
  });

  it('54: a credit cannot exceed what is left of the captured amount', async () => {
    const { purchase } = await paidOrder(direct, '30.00');
    assert.equal((await refusal(purchase, 'credit', { amount: '30.01' })).code, 54);
    await operate(emulator, purchase, 'credit', { amount: '20.00' });
    assert.equal((await refusal(purchase, 'credit', { amount: '10.01' })).code, 54);
    await operate(emulator, purchase, 'credit', { amount: '10.00' });
    assert.equal((await refusal(purchase, 'credit')).code, 54);
  });

  it('55: a capture cannot exceed the preauthorised amount', async () => {
    const { purchase } = await paidOrder(preauth, '50.00');
    assert.deepEqual(await refusal(purchase, 'capture', { amount: '50.01' }), { status: 409, code: 55, message: 'Capture amount exceeds preauth' });
  });

  it('an unreadable amount is an invalid request (48); an unknown order or operation is 404', async () => {
    const { purchase } = await paidOrder(preauth);
    assert.deepEqual(await refusal(purchase, 'capture', { amount: '12,50' }), {
      status: 400,
      code: 48,
      message: 'Invalid request: the amount must be a decimal number such as 12.50',
    });
    assert.equal((await refusal(purchase, 'capture', { amount: '0' })).code, 32);
    assert.equal((await operate(emulator, '999999999', 'capture', {}, preauth)).status, 404);
    assert.equal((await operate(emulator, purchase, 'refund')).status, 404);
    assert.equal((await operate(emulator, 'abc', 'capture', {}, preauth)).status, 404);
  });
});

describe('NETOPIA v1 emulator back office: HTML pages for the tester', () => {
  it("lists the account's orders newest first with links, and shows an order with its IPN delivery log", async () => {
    const older = await paidOrder(preauth);
    const newer = await paidOrder(preauth);
    const elsewhere = await paidOrder(direct);
    const office = await logIn(emulator, preauth);
    const list = await office.get('/orders');
    assert.equal(list.status, 200);
    assert.match(list.headers.get('content-type') ?? '', /text\/html/);
    const listHtml = await list.text();
    assert.match(listHtml, /NETOPIA Payments emulator/);
    const newerAt = listHtml.indexOf(`href="${emulator.base}/orders/${newer.purchase}"`);
    const olderAt = listHtml.indexOf(`href="${emulator.base}/orders/${older.purchase}"`);
    assert.ok(newerAt !== -1 && olderAt !== -1 && newerAt < olderAt, 'newest first');
    assert.equal(listHtml.indexOf(`/orders/${elsewhere.purchase}"`), -1, "another account's order is not listed");

    const page = await (await office.get(`/orders/${newer.purchase}`)).text();
    for (const button of ['Capture', 'Cancel', 'Credit', 'Resend IPN']) assert.match(page, new RegExp(`<button type="submit">${button}</button>`));
    assert.equal(page.match(new RegExp(`name="_csrf" value="${office.csrf}"`, 'g'))?.length, 5, 'every form (four operations, log out) carries the CSRF token');
    assert.match(page, /IPN #\d+: paid, error 0/);
    assert.match(page, /<td>delivered<\/td>/);
  });

  it('form posts redirect back to the order page with a flash message', async () => {
    const { purchase } = await paidOrder(direct);
    const office = await logIn(emulator, direct);
    const refused = await office.post(`/orders/${purchase}/cancel`, {});
    assert.equal(refused.status, 303);
    const back = new URL(refused.headers.get('location')!, emulator.origin);
    const refusedPage = await (await office.get(back.pathname.slice(PREFIX.length) + back.search)).text();
    assert.match(refusedPage, /role="alert">Refused: Can only CANCEL preauth \(51\)/);

    const done = await office.post(`/orders/${purchase}/credit`, { amount: '5.00' });
    assert.equal(done.status, 303);
    const location = new URL(done.headers.get('location')!, emulator.origin);
    const donePage = await (await office.get(location.pathname.slice(PREFIX.length) + location.search)).text();
    assert.match(donePage, /Credit done; the merchant acknowledged the IPN\./);
  });

  it('escapes everything it shows: a flash parameter or merchant data cannot inject markup', async () => {
    const v1Order = order(direct, merchant, { invoice: { details: '<script>alert(1)</script>' } });
    const { purchase } = await payOverHttp(emulator, sealOrder(direct, v1Order), APPROVED);
    const office = await logIn(emulator, direct);
    const page = await (await office.get(`/orders/${purchase}?done=<b>x</b>&refused=<i>`)).text();
    assert.ok(!page.includes('<script>alert(1)</script>'));
    assert.match(page, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    assert.ok(!page.includes('<b>x</b>') && !page.includes('<i>'));
  });
});
