import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MSP_TEXT } from '../../../emulators/multisafepay/page-text.js';
// The harness's orders carry customer.locale it_IT: the pages speak Italian.
const IT = MSP_TEXT.it;
import type { Browser } from 'playwright-core';
import type { Store } from '../../../src/store/store.js';
import { launchBrowser } from '../../support/browser.js';
import { openTestStore } from '../../support/store.js';
import { createAccount, createOrder, futureExpiry, Merchant, orderBody, startEmulator, type Emulator } from './harness.js';

let store: Store;
let emulator: Emulator;
let merchant: Merchant;
let browser: Browser;
let apiKey: string;

before(async () => {
  store = await openTestStore();
  emulator = await startEmulator(store);
  merchant = await Merchant.start();
  browser = await launchBrowser();
  apiKey = (await createAccount(emulator, 'Bar Centrale')).api_key;
  merchant.addKey(apiKey);
});

after(async () => {
  await browser?.close();
  await merchant?.close();
  await emulator?.stop();
  await store?.close();
});

describe('MultiSafepay emulator: the hosted payment page in a browser (headless Chromium)', () => {
  it('the customer picks a brand, corrects a card number, passes 3-D Secure and is sent back to the shop', async () => {
    const body = orderBody(merchant, { amount: 4990, description: 'Abbonamento mensile' });
    const { payment_url } = await createOrder(emulator, apiKey, body);
    const page = await browser.newPage();
    try {
      await page.goto(payment_url);
      assert.equal(await page.getByRole('heading', { name: IT.title }).isVisible(), true);
      assert.ok((await page.locator('main').textContent())?.includes('49.90 EUR'));
      const brands = page.getByRole('group', { name: IT.cardBrand });
      for (const name of ['Visa', 'Mastercard', 'Maestro', 'American Express']) assert.equal(await brands.getByRole('radio', { name }).count(), 1, name);

      // A Visa number under the Mastercard brand is refused on the page.
      await brands.getByRole('radio', { name: 'Mastercard' }).check();
      await page.getByLabel(IT.cardNumber, { exact: true }).fill('4111 1111 1111 1111');
      await page.getByLabel(IT.expiryDate, { exact: true }).fill(futureExpiry());
      await page.getByLabel(IT.cvvLabel, { exact: true }).fill('123');
      await page.getByRole('button', { name: IT.pay, exact: true }).click();
      await page.getByRole('alert').waitFor();
      assert.match((await page.getByRole('alert').textContent()) ?? '', new RegExp(IT.card_number));
      assert.equal(await page.getByLabel(IT.cardNumber, { exact: true }).getAttribute('aria-invalid'), 'true');

      await page.getByRole('group', { name: IT.cardBrand }).getByRole('radio', { name: 'Visa' }).check();
      await page.getByLabel(IT.cvvLabel, { exact: true }).fill('123');
      await page.getByRole('button', { name: IT.pay, exact: true }).click();
      await page.waitForURL(/\/3ds$/);
      await page.getByLabel(IT.authResult).selectOption({ label: IT.authenticated });
      await Promise.all([page.waitForURL((url) => url.toString().startsWith(merchant.url)), page.getByRole('button', { name: IT.confirm }).click()]);
      const landed = new URL(page.url());
      assert.equal(landed.pathname, '/return');
      assert.equal(landed.searchParams.get('transactionid'), body.order_id);
    } finally {
      await page.close();
    }
    const verdict = merchant.verified(body.order_id).at(-1);
    assert.ok(verdict, 'the payment was notified, signed with the API key');
    assert.deepEqual(verdict.outcome, { kind: 'captured', amount: 4990 });
    assert.equal(verdict.summary.payment_method, 'VISA');
  });

  it('"Let the link expire" is a button the tester can press; the expired page leads back to the shop', async () => {
    const body = orderBody(merchant);
    const { payment_url } = await createOrder(emulator, apiKey, body);
    const page = await browser.newPage();
    try {
      await page.goto(payment_url);
      await page.getByRole('button', { name: IT.letExpire }).click();
      await page.getByRole('heading', { name: IT.expiredTitle }).waitFor();
      await Promise.all([page.waitForURL((url) => url.toString().startsWith(merchant.url)), page.getByRole('link', { name: IT.backToShop }).click()]);
      assert.equal(new URL(page.url()).pathname, '/cancel');
    } finally {
      await page.close();
    }
    assert.equal(merchant.verified(body.order_id).at(-1)?.summary.processor_status, 'expired');
  });
});
