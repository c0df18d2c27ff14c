import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser } from '../../support/browser.js';
import { openTestStore } from '../../support/store.js';
import type { Store } from '../../../src/store/store.js';
import { createAccount, Merchant, order, orderView, payOverHttp, sealOrder, startEmulator, type Account, type Emulator } from './harness.js';

/**
 * The back office's orders list in a browser, as a tester uses it: log in, find the order's row, and act on it
 * with the row's buttons (View, and Capture, Cancel or Credit as the order's state allows). Each button is a
 * form with the session's CSRF token; the action takes effect (the order's state, NETOPIA's IPN to the
 * merchant) and the list says so.
 */

const APPROVED = '9900004810225098';

let store: Store;
let emulator: Emulator;
let merchant: Merchant;
let preauth: Account;
let browser: Browser;

before(async () => {
  store = await openTestStore();
  emulator = await startEmulator(store);
  merchant = await Merchant.start();
  preauth = await createAccount(emulator, { capture: 'manual' });
  merchant.addKey(preauth.private_key);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await emulator?.stop();
  await merchant?.close();
  await store?.close();
});

async function preauthorisedOrder(amount: string): Promise<{ purchase: string; orderId: string }> {
  const v1Order = order(preauth, merchant, { invoice: { amount } });
  const { purchase } = await payOverHttp(emulator, sealOrder(preauth, v1Order), APPROVED);
  return { purchase, orderId: v1Order.id };
}

async function logInAt(page: Page, account: Account): Promise<void> {
  await page.goto(`${emulator.base}/orders`);
  await page.getByLabel('POS signature').fill(account.back_office.login);
  await page.getByLabel('Back-office password').fill(account.back_office.password);
  await Promise.all([page.waitForURL(/\/orders$/), page.getByRole('button', { name: 'Log in' }).click()]);
  await page.getByRole('heading', { name: 'Orders' }).waitFor();
}

const actionsOf = (page: Page, orderId: string) => page.getByRole('row').filter({ hasText: orderId }).getByRole('button');

describe('NETOPIA v1 back office: every order row has its actions as buttons', () => {
  it('Capture, then Credit, from the list; Cancel another order; View opens the order', async () => {
    const first = await preauthorisedOrder('49.90');
    const second = await preauthorisedOrder('12.00');
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    try {
      await logInAt(page, preauth);
      assert.deepEqual(await actionsOf(page, first.orderId).allTextContents(), ['View', 'Capture', 'Cancel']);

      await Promise.all([page.waitForLoadState(), page.getByRole('button', { name: `Capture order ${first.orderId}` }).click()]);
      assert.match(
        (await page.getByRole('status').textContent()) ?? '',
        new RegExp(`Purchase ${first.purchase}: Capture done; the merchant acknowledged the IPN`),
      );
      assert.equal((await orderView(emulator, first.purchase, preauth)).order.status, 'confirmed');
      assert.deepEqual(
        merchant.ipnsFor(first.orderId).map((r) => r.ipn.mobilpay.action),
        ['paid', 'confirmed'],
      );
      // A confirmed order offers a credit of what was captured, and nothing else.
      assert.deepEqual(await actionsOf(page, first.orderId).allTextContents(), ['View', 'Credit']);
      await Promise.all([page.waitForLoadState(), page.getByRole('button', { name: `Credit order ${first.orderId}` }).click()]);
      assert.match((await page.getByRole('status').textContent()) ?? '', /Credit done/);
      const credited = (await orderView(emulator, first.purchase, preauth)).order;
      assert.equal(credited.status, 'credited');
      assert.equal(credited.credited_ron, '49.90');
      assert.deepEqual(await actionsOf(page, first.orderId).allTextContents(), ['View']);

      await Promise.all([page.waitForLoadState(), page.getByRole('button', { name: `Cancel order ${second.orderId}` }).click()]);
      assert.match((await page.getByRole('status').textContent()) ?? '', new RegExp(`Purchase ${second.purchase}: Cancel done`));
      assert.equal((await orderView(emulator, second.purchase, preauth)).order.status, 'canceled');
      assert.deepEqual(
        merchant.ipnsFor(second.orderId).map((r) => r.ipn.mobilpay.action),
        ['paid', 'canceled'],
      );

      await Promise.all([
        page.waitForURL(new RegExp(`/orders/${second.purchase}\\??$`)),
        page.getByRole('button', { name: `View order ${second.orderId}` }).click(),
      ]);
      await page.getByRole('heading', { name: `Order ${second.orderId} · purchase ${second.purchase}` }).waitFor();
    } finally {
      await page.close();
    }
  });

  it("a button's form without the session's CSRF token is refused and changes nothing", async () => {
    const target = await preauthorisedOrder('30.00');
    const page = await browser.newPage();
    try {
      await logInAt(page, preauth);
      const button = page.getByRole('button', { name: `Capture order ${target.orderId}` });
      await button.evaluate((b) => (b as HTMLButtonElement).form!.querySelector('input[name="_csrf"]')!.setAttribute('value', 'forged-token-forged-token'));
      const [response] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), button.click()]);
      assert.equal(response.status(), 403);
      assert.equal((await orderView(emulator, target.purchase, preauth)).order.status, 'preauthorized');
    } finally {
      await page.close();
    }
  });
});
