import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NETOPIA_TEXT } from '../../../emulators/netopia-v1/page-text.js';
const RO = NETOPIA_TEXT.ro; // the orders here speak the harness's default language, Romanian
import type { Browser } from 'playwright-core';
import { launchBrowser } from '../../support/browser.js';
import { openTestStore } from '../../support/store.js';
import type { Store } from '../../../src/store/store.js';
import { api, createAccount, formsOf, futureExpiry, Merchant, newOrderId, postForm, startBody, startEmulator, type Account, type Emulator } from './harness.js';

let store: Store;
let emulator: Emulator;
let merchant: Merchant;
let account: Account;
let browser: Browser;

before(async () => {
  store = await openTestStore();
  emulator = await startEmulator(store);
  merchant = await Merchant.start();
  browser = await launchBrowser();
  account = await createAccount(emulator, { name: 'Ceainăria Test' });
  merchant.trust(account.notify_public_key_pem, account.pos_signature);
});

after(async () => {
  await browser?.close();
  await emulator?.stop();
  await merchant?.close();
  await store?.close();
});

/** Starts a hosted payment the way the merchant's server does; returns the paymentURL. */
async function hostedOrder(
  options: { orderId?: string; cancelUrl?: string; language?: string } = {},
): Promise<{ orderId: string; paymentURL: string; ntpID: string }> {
  const orderId = options.orderId ?? newOrderId('page');
  const body = startBody(account, merchant, { orderId, amount: 49.9, language: options.language });
  if (options.cancelUrl) body.config.cancelUrl = options.cancelUrl;
  const answer = await api(emulator, '/payment/card/start', body, account.api_key);
  assert.equal(answer.json.error.code, '101', answer.text);
  return { orderId, paymentURL: answer.json.payment.paymentURL, ntpID: answer.json.payment.ntpID };
}

const lastYear = `01/${String((new Date().getUTCFullYear() - 1) % 100).padStart(2, '0')}`;

describe('NETOPIA v2 emulator: the hosted card page in headless Chromium', () => {
  it('success card 9900004810225098: fill "Card number", "Expiry date", "CVV", press "Pay" → IPN status 3, then back at the redirectUrl', async () => {
    const { orderId, paymentURL, ntpID } = await hostedOrder({ language: 'en' });
    const page = await browser.newPage();
    try {
      await page.goto(paymentURL);
      assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Card payment');
      assert.ok((await page.textContent('main'))?.includes('49.90 RON'));
      await page.getByLabel('Card number', { exact: true }).fill('9900 0048 1022 5098');
      await page.getByLabel('Expiry date', { exact: true }).fill(futureExpiry().text);
      await page.getByLabel('CVV', { exact: true }).fill('111');
      await Promise.all([page.waitForURL((url) => url.toString().startsWith(merchant.url)), page.getByRole('button', { name: 'Pay', exact: true }).click()]);
      assert.equal(page.url(), `${merchant.url}/return?shop=1`);
      // NETOPIA calls the notify URL before the customer is sent back.
      const ipns = merchant.ipnsFor(orderId);
      assert.equal(ipns.length, 1);
      assert.deepEqual([ipns[0]!.body.payment.status, ipns[0]!.body.payment.code, ipns[0]!.body.payment.ntpID], [3, '00', ntpID]);
      assert.deepEqual(ipns[0]!.body.payment.instrument, { panMasked: '9****5098' });
      assert.equal(ipns[0]!.verified.ok, true);
    } finally {
      await page.close();
    }
  });
});

describe('NETOPIA v2 emulator: the hosted card page over HTTP (form posts, as a browser without scripts)', () => {
  it('shows the merchant, the amount, the labelled fields, "Pay", and a "Cancel" link back to the merchant', async () => {
    const { paymentURL } = await hostedOrder({ cancelUrl: `${merchant.url}/cancelled` });
    const response = await fetch(paymentURL);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    const html = await response.text();
    for (const label of [RO.cardNumberLabel, RO.expiryLabel, RO.cvvLabel]) assert.match(html, new RegExp(`<label for="[a-z_]+">${label}</label>`));
    assert.match(html, new RegExp(`<button type="submit">${RO.pay}</button>`));
    assert.match(html, new RegExp(`<a href="${merchant.url}/cancelled">${RO.cancelPayment}</a>`));
    assert.match(html, /<html lang="ro">/);
    assert.match(html, /Ceainăria Test/);
    assert.match(html, /49\.90 RON/);
  });

  it('without a cancelUrl, "Cancel" leads to the redirectUrl; the order stays payable and nothing is sent', async () => {
    const { orderId, paymentURL } = await hostedOrder();
    const html = await (await fetch(paymentURL)).text();
    assert.match(html, new RegExp(`<a href="${merchant.url}/return\\?shop=1">${RO.cancelPayment}</a>`));
    assert.equal((await fetch(paymentURL)).status, 200);
    assert.equal(merchant.ipnsFor(orderId).length, 0);
  });

  const declines: Array<[string, string, string, string, string]> = [
    ['insufficient funds', '9900518572831942', futureExpiry().text, '111', '20'],
    ['expired card, any past date', '9900541631437790', lastYear, '111', '19'],
    ['a past date on the accepted card', '9900004810225098', lastYear, '111', '19'],
    ['wrong CVV', '9900827979991500', futureExpiry().text, '999', '21'],
    ['high-risk/fraud card', '9900334791085173', futureExpiry().text, '111', '16'],
    ['unknown PAN', '5555444433331111', futureExpiry().text, '111', '17'],
  ];
  for (const [name, pan, expiry, cvv, code] of declines) {
    it(`${name} → decline IPN (status 12, code ${code}), redirect to redirectUrl, and the order is finished`, async () => {
      const { orderId, paymentURL } = await hostedOrder();
      const paid = await postForm(paymentURL, { card_number: pan, expiry, cvv });
      assert.equal(paid.status, 303);
      assert.equal(paid.headers.get('location'), `${merchant.url}/return?shop=1`);
      const [ipn] = merchant.ipnsFor(orderId);
      assert.deepEqual([ipn?.body.payment.status, ipn?.body.payment.code], [12, code]);
      const again = await fetch(paymentURL);
      assert.equal(again.status, 400);
      assert.match(await again.text(), /Comandă închisă \(56\)/);
      const retry = await postForm(paymentURL, { card_number: '9900004810225098', expiry: futureExpiry().text, cvv: '111' });
      assert.equal(retry.status, 400);
      assert.equal(merchant.ipnsFor(orderId).length, 1);
    });
  }

  it('a malformed card form is shown again with the fields in error, and changes nothing', async () => {
    const { orderId, paymentURL } = await hostedOrder();
    const response = await postForm(paymentURL, { card_number: '1234', expiry: '13/30', cvv: '1' });
    assert.equal(response.status, 400);
    const html = await response.text();
    assert.match(html, /role="alert"/);
    assert.equal((html.match(/aria-invalid="true"/g) ?? []).length, 3);
    assert.equal(merchant.ipnsFor(orderId).length, 0);
  });

  for (const [button, status, code] of [
    [RO.authorize, 3, '00'],
    [RO.failAuthentication, 12, '38'],
  ] as const) {
    it(`3-D Secure card 9900009184214768 → the authentication page; "${button}" → IPN status ${status}, then the redirectUrl`, async () => {
      const { orderId, paymentURL } = await hostedOrder();
      const paid = await postForm(paymentURL, { card_number: '9900009184214768', expiry: futureExpiry().text, cvv: '111' });
      assert.equal(paid.status, 303);
      const threeDsUrl = paid.headers.get('location')!;
      assert.equal(merchant.ipnsFor(orderId).length, 0, 'no IPN at the 3-D Secure step');
      // The card page now leads to the authentication step.
      const back = await fetch(paymentURL, { redirect: 'manual' });
      assert.equal(back.headers.get('location'), threeDsUrl);
      const page = await (await fetch(threeDsUrl)).text();
      const form = formsOf(page).find((f) => f.button === button)!;
      assert.ok(form, `the page offers "${button}"`);
      const done = await postForm(form.action, form.fields);
      assert.equal(done.status, 303);
      assert.equal(done.headers.get('location'), `${merchant.url}/return?shop=1`);
      const [ipn] = merchant.ipnsFor(orderId);
      assert.deepEqual([ipn?.body.payment.status, ipn?.body.payment.code], [status, code]);
    });
  }

  it('unknown page tokens and paths get an HTML error page', async () => {
    for (const path of ['/ui/card/AAAAAAAAAAAAAAAAAAAAAAAA', '/ui/card/<script>', '/ui/nothing']) {
      const response = await fetch(emulator.base + path);
      assert.equal(response.status, 404, path);
      assert.match(response.headers.get('content-type') ?? '', /^text\/html/);
    }
  });
});
