import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { launchBrowser } from '../../support/browser.js';
import { openTestStore } from '../../support/store.js';
import type { Store } from '../../../src/store/store.js';
import { nexi } from '../../../src/connectors/nexi/connector.js';
import type { ConnectionConfig, PaymentRedirectInput } from '../../../src/connectors/types.js';
import { createAccount, futureExpiry, Merchant, startEmulator, type Account, type Emulator } from './harness.js';

let store: Store;
let emulator: Emulator;
let merchant: Merchant;
let browser: Browser;
let account: Account;
let config: ConnectionConfig<any, any>;

before(async () => {
  store = await openTestStore();
  emulator = await startEmulator(store);
  merchant = await Merchant.start();
  browser = await launchBrowser();
  account = await createAccount(emulator, 'Libreria Verdi');
  config = {
    credentials: nexi.parseCredentials(nexi.emulator!.credentialsFrom(account)),
    settings: nexi.parseSettings({}),
    environment: 'emulator',
    endpoint: nexi.defaultEndpoint('emulator', emulator.origin),
  };
});

after(async () => {
  await browser?.close();
  await merchant?.close();
  await emulator?.stop();
  await store?.close();
});

let n = 0;
/** Opens a PayMail link the way the hub does: the connector's request, sent to the emulator, read back. */
async function openLink(amount = 2450): Promise<{ reference: string; url: string }> {
  const reference = `att_page${Date.now().toString(36)}${++n}`.padEnd(30, 'x').slice(0, 30);
  const input: PaymentRedirectInput = {
    reference,
    amount,
    currency: 'EUR',
    description: 'Il nome della rosa',
    metadata: {},
    billing: { first_name: 'Lucia', last_name: 'Verdi', email: 'lucia@example.it' },
    urls: { notify: `${merchant.url}/notify`, return: `${merchant.url}/return`, cancel: `${merchant.url}/cancel` },
    expiresAt: new Date(Date.now() + 3600_000),
    language: 'en',
    now: new Date(),
  };
  const request = nexi.start!.request(config, input);
  const response = await fetch(request.url, { method: 'POST', headers: request.headers, body: request.body });
  const started = nexi.start!.response(config, input, { status: response.status, headers: {}, body: await response.text() });
  assert.equal(started.kind, 'redirect', JSON.stringify(started));
  return { reference, url: started.kind === 'redirect' ? started.redirect.url : '' };
}

describe('the PayMail page in a browser', () => {
  it('a customer picks MasterCard, types the test card, presses Pay, and lands on the return URL with a result the connector accepts', async () => {
    const { reference, url } = await openLink();
    const page = await browser.newPage();
    await page.goto(url);
    assert.match((await page.textContent('main')) ?? '', /24\.50 EUR/);
    await page.getByRole('radio', { name: 'MasterCard' }).check();
    await page.getByLabel('Card number', { exact: true }).fill('5255 0000 0000 0001');
    await page.getByLabel('Expiry date', { exact: true }).fill(futureExpiry());
    await page.getByLabel('CVV', { exact: true }).fill('123');
    await Promise.all([
      page.waitForURL((u) => u.toString().startsWith(`${merchant.url}/return`)),
      page.getByRole('button', { name: 'Pay', exact: true }).click(),
    ]);
    const landed = new URL(page.url());
    assert.equal(landed.searchParams.get('esito'), 'OK');
    const verdict = nexi.verifyNotification(config, { body: Buffer.alloc(0), headers: {}, query: landed.search.slice(1) });
    assert.ok(verdict.ok);
    if (verdict.ok) {
      assert.equal(verdict.reference, reference);
      assert.deepEqual(verdict.outcome, { kind: 'captured', amount: 2450 });
      assert.equal(verdict.summary.payment_method, 'MasterCard');
    }
    const s2s = merchant.resultsFor(reference);
    assert.equal(s2s.length, 1);
    assert.ok(nexi.verifyNotification(config, { body: Buffer.from(s2s[0]!.body), headers: {} }).ok);
    await page.close();
  });

  it('a wrong brand shows the error next to the form; Cancel takes the customer to url_back', async () => {
    const { reference, url } = await openLink();
    const page = await browser.newPage();
    await page.goto(url);
    await page.getByRole('radio', { name: 'VISA' }).check();
    await page.getByLabel('Card number', { exact: true }).fill('5255000000000001');
    await page.getByLabel('Expiry date', { exact: true }).fill(futureExpiry());
    await page.getByLabel('CVV', { exact: true }).fill('123');
    await page.getByRole('button', { name: 'Pay', exact: true }).click();
    await page.getByRole('alert').waitFor();
    assert.match((await page.getByRole('alert').textContent()) ?? '', /card number of the chosen brand/);
    await Promise.all([
      page.waitForURL((u) => u.toString().startsWith(`${merchant.url}/cancel`)),
      page.getByRole('button', { name: 'Cancel', exact: true }).click(),
    ]);
    assert.equal(new URL(page.url()).searchParams.get('esito'), 'ANNULLO');
    assert.equal(merchant.resultsFor(reference)[0]?.fields.esito, 'ANNULLO');
    await page.close();
  });

  it('"Let the link expire" leaves the link unusable', async () => {
    const { url } = await openLink();
    const page = await browser.newPage();
    await page.goto(url);
    await page.getByRole('button', { name: 'Let the link expire' }).click();
    await page.getByRole('heading', { name: 'Link expired' }).waitFor();
    await page.close();
  });
});
