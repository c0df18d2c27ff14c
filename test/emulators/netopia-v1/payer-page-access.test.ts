// The NETOPIA v1 emulator's payer pages (card form, 3-D Secure step) are reached only through the link the
// payment request redirects to. Purchase ids are sequential, so a page found by its purchase id alone would let
// anyone decline, pay or walk through 3-D Secure for another merchant's open order (issue 14, finding 3: strangers
// act on other accounts' orders), and read its amount, merchant and details.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openTestStore } from '../../support/store.js';
import type { Store } from '../../../src/store/store.js';
import { createAccount, futureExpiry, Merchant, order, orderView, postForm, sealOrder, startEmulator, type Account, type Emulator } from './harness.js';

let store: Store;
let emulator: Emulator;
let merchant: Merchant;
let account: Account;

before(async () => {
  store = await openTestStore();
  emulator = await startEmulator(store);
  merchant = await Merchant.start();
  account = await createAccount(emulator);
  merchant.addKey(account.private_key);
});

after(async () => {
  await emulator?.stop();
  await merchant?.close();
  await store?.close();
});

/** Posts a sealed order as the merchant's page does; returns the card page link and the purchase id. */
async function openOrder(): Promise<{ cardUrl: string; purchase: string }> {
  const start = await postForm(emulator.base + '/', sealOrder(account, order(account, merchant)));
  assert.equal(start.status, 303);
  const cardUrl = start.headers.get('location')!;
  const purchase = /\/card\/(\d+)(\?|$)/.exec(cardUrl)?.[1];
  assert.ok(purchase, cardUrl);
  return { cardUrl, purchase };
}

const DECLINED = { card_number: '9900541631437790', expiry: futureExpiry(), cvv: '111' };
const THREE_DS = { card_number: '9900009184214768', expiry: futureExpiry(), cvv: '111' };

describe("NETOPIA v1 emulator: a payer page is the order's own link, not its sequential purchase id", () => {
  it('a stranger who knows only the purchase id cannot see, decline, pay or cancel the order', async () => {
    const { cardUrl, purchase } = await openOrder();
    const bare = `${emulator.base}/card/${purchase}`;
    const wrong = `${bare}?t=${'A'.repeat(43)}`;

    for (const url of [bare, wrong, `${bare}?t=`, `${bare}?t=${encodeURIComponent('x'.repeat(5000))}`]) {
      const page = await fetch(url);
      const text = await page.text();
      assert.equal(page.status, 404, url);
      assert.ok(!text.includes('25.00') && !text.includes(account.name), 'nothing of the order shows');
      assert.equal((await postForm(url, DECLINED)).status, 404, url);
      assert.equal((await postForm(url.replace(`/card/${purchase}`, `/card/${purchase}/cancel`), {})).status, 404, url);
      assert.equal((await postForm(url.replace('/card/', '/3ds/'), { result: 'fail' })).status, 404, url);
    }
    const view = await orderView(emulator, purchase);
    assert.equal(view.order.status, 'open', 'the order is still waiting for its payer');
    assert.equal(view.deliveries.length, 0, 'no IPN was sent');
    assert.equal(merchant.received.length, 0);
    assert.notEqual(cardUrl, bare, 'the link carries more than the purchase id');
  });

  it("the order's own link works: card form, 3-D Secure step and the payment", async () => {
    const { cardUrl, purchase } = await openOrder();
    assert.equal((await fetch(cardUrl)).status, 200);
    const toThreeDs = await postForm(cardUrl, THREE_DS);
    assert.equal(toThreeDs.status, 303);
    const threeDsUrl = new URL(toThreeDs.headers.get('location')!, cardUrl).href;
    assert.match(threeDsUrl, new RegExp(`/3ds/${purchase}\\?t=`));
    // The 3-D Secure step is as private as the card form.
    assert.equal((await postForm(`${emulator.base}/3ds/${purchase}`, { result: 'fail' })).status, 404);
    const page = await fetch(threeDsUrl);
    const html = await page.text();
    assert.equal(page.status, 200);
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1]?.replace(/&amp;/g, '&');
    assert.ok(action && action.includes('?t='), `the 3-D Secure form posts to its own link: ${action}`);
    const done = await postForm(action, { result: 'authorize' });
    assert.equal(done.status, 303);
    assert.equal((await orderView(emulator, purchase)).order.status, 'confirmed');
  });
});
