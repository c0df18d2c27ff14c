import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { launchBrowser } from '../../support/browser.js';
import { attemptCode, uniqueReferenceFor } from '../../../src/connectors/volt/references.js';
import { openTestStore } from '../../support/store.js';
import type { Store } from '../../../src/store/store.js';
import { accessToken, api, createAccount, Merchant, openPayment, startEmulator, type Account, type Emulator } from './harness.js';

let store: Store;
let emulator: Emulator;
let merchant: Merchant;
let account: Account;
let token: string;
let browser: Browser;

before(async () => {
  store = await openTestStore();
  emulator = await startEmulator(store);
  merchant = await Merchant.start();
  account = await createAccount(emulator, { name: 'Ceramiche <b>Rossi</b>' });
  merchant.trust(emulator, account);
  token = await accessToken(emulator, account);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await emulator?.stop();
  await merchant?.close();
  await store?.close();
});

describe('Volt emulator checkout in a browser: choose your bank, authorise at the bank, back to the merchant', () => {
  it('pays through the bank choice', async () => {
    const created = await openPayment(emulator, account, merchant, token, { amount: 4990, orderId: 'CR-2026/0815' });
    // The reference the payer sees: the shop's order id (as Volt's alphanumerics allow) and the attempt's code.
    const shown = `CR20260815${attemptCode(created.reference)}`;
    assert.equal(uniqueReferenceFor(created.reference, 'CR-2026/0815'), shown);
    const page = await browser.newPage();
    try {
      const response = await page.goto(created.checkoutUrl);
      assert.match(response?.headers()['content-security-policy'] ?? '', /default-src 'none'/);
      await page.getByRole('heading', { name: 'Pay by bank' }).waitFor();
      await page.getByText('49.90 EUR').waitFor();
      await page.getByText('Ceramiche <b>Rossi</b>').waitFor(); // the merchant's name is text, not markup
      await page.getByText(shown, { exact: true }).waitFor();
      assert.doesNotMatch(await page.locator('body').innerText(), /att_/);

      // Continue without a bank: the page says what is missing.
      await Promise.all([page.waitForLoadState(), page.getByRole('button', { name: 'Continue' }).click()]);
      assert.match((await page.getByRole('alert').textContent()) ?? '', /Choose your bank/);

      const banks = page.getByRole('group', { name: 'Choose your bank' }).getByRole('radio');
      assert.equal(await banks.count(), 4);
      await page.getByLabel('Testbank Nederland', { exact: true }).check();
      await Promise.all([page.waitForURL(/\/bank\//), page.getByRole('button', { name: 'Continue' }).click()]);
      await page.getByRole('heading', { name: 'Testbank Nederland' }).waitFor();
      await page.getByText(shown, { exact: true }).waitFor();
      assert.doesNotMatch(await page.locator('body').innerText(), /att_/);
      for (const name of ['Refuse', 'Cancel', 'Leave without finishing']) await page.getByRole('button', { name, exact: true }).waitFor();

      await Promise.all([page.waitForURL((url) => url.toString().startsWith(merchant.url)), page.getByRole('button', { name: 'Authorise payment' }).click()]);
      const landed = new URL(page.url());
      assert.equal(landed.pathname, '/return');
      assert.deepEqual(JSON.parse(Buffer.from(landed.searchParams.get('volt')!, 'base64').toString()), {
        id: created.id,
        uniqueReference: shown,
        status: 'COMPLETED',
      });
      await page.getByRole('heading', { name: 'Back at the shop' }).waitFor();

      const completed = merchant.about(created.id).find((n) => n.body.includes('"detailedStatus":"COMPLETED"'));
      assert.ok(completed?.verdict.ok);
      assert.equal(completed.verdict.ok && completed.verdict.summary.payment_method, 'Testbank Nederland');
      assert.equal((await api(emulator, 'GET', `/payments/${created.id}`, { token })).json.status, 'COMPLETED');

      // Back on the checkout link afterwards: the payment is already processed.
      const again = await page.goto(created.checkoutUrl);
      assert.equal(again?.status(), 409);
      await page.getByRole('heading', { name: 'Payment already processed' }).waitFor();
    } finally {
      await page.close();
    }
  });

  it('a checkout link without its auth, or with another, shows no payment', async () => {
    const created = await openPayment(emulator, account, merchant, token);
    const page = await browser.newPage();
    try {
      const url = new URL(created.checkoutUrl);
      url.searchParams.set('auth', 'guessed');
      assert.equal((await page.goto(url.toString()))?.status(), 404);
      await page.getByRole('heading', { name: 'Payment not found' }).waitFor();
    } finally {
      await page.close();
    }
  });
});
