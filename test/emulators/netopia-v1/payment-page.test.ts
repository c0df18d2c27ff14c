import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page, Response as PlaywrightResponse } from 'playwright-core';
import { launchBrowser } from '../../support/browser.js';
import { NETOPIA_TEXT } from '../../../emulators/netopia-v1/page-text.js';
import { openTestStore } from '../../support/store.js';
import type { Store } from '../../../src/store/store.js';
import type { EnvelopeCipher } from '../../../src/connectors/netopia-v1/envelope.js';
import type { V1Order } from '../../../src/connectors/netopia-v1/order-xml.js';
import { createAccount, futureExpiry, Merchant, order, orderView, sealOrder, startEmulator, type Account, type Emulator } from './harness.js';

let store: Store;
let emulator: Emulator;
let merchant: Merchant;
let browser: Browser;
let account: Account;
let preauthAccount: Account;

before(async () => {
  store = await openTestStore();
  emulator = await startEmulator(store);
  merchant = await Merchant.start();
  browser = await launchBrowser();
  account = await createAccount(emulator, { name: 'Ceainăria Test' });
  preauthAccount = await createAccount(emulator, { name: 'Preauth shop', capture: 'manual' });
  merchant.addKey(account.private_key);
  merchant.addKey(preauthAccount.private_key);
});

after(async () => {
  await browser?.close();
  await merchant?.close();
  await emulator?.stop();
  await store?.close();
});

const escapeAttr = (v: string) => v.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

/**
 * The merchant's checkout page: a form with the sealed fields, submitted by script as NETOPIA's samples do.
 * Resolves with NETOPIA's answer to the POST.
 */
async function postFromBrowser(page: Page, action: string, fields: Record<string, string>): Promise<PlaywrightResponse> {
  const inputs = Object.entries(fields)
    .map(([name, value]) => `<input type="hidden" name="${name}" value="${escapeAttr(value)}">`)
    .join('');
  await page.setContent(`<!doctype html><form method="post" action="${escapeAttr(action)}">${inputs}</form>`);
  const response = page.waitForResponse((r) => r.url() === action && r.request().method() === 'POST');
  await page.evaluate(() => document.forms[0]!.submit());
  return response;
}

/** The words of the page's language (the card page speaks the order's: ro on `/`, en on `/en`). */
async function wordsOf(page: Page) {
  const lang = await page.evaluate(() => document.documentElement.lang);
  return NETOPIA_TEXT[lang === 'ro' ? 'ro' : 'en'];
}

async function fillCard(page: Page, pan: string, cvv = '111', expiry = futureExpiry()): Promise<void> {
  const t = await wordsOf(page);
  await page.getByLabel(t.cardNumberLabel, { exact: true }).fill(pan);
  await page.getByLabel(t.expiryLabel, { exact: true }).fill(expiry);
  await page.getByLabel(t.cvvLabel, { exact: true }).fill(cvv);
}

/** Checks out `v1Order` in a fresh browser page and leaves the page on NETOPIA's card form. */
async function checkout(v1Order: V1Order, options: { cipher?: EnvelopeCipher; path?: string; seller?: Account } = {}): Promise<Page> {
  const page = await browser.newPage();
  await postFromBrowser(page, emulator.base + (options.path ?? '/'), sealOrder(options.seller ?? account, v1Order, options.cipher));
  await page.waitForURL(/\/card\/\d+\?t=[\w-]+$/);
  return page;
}

async function payAndReturn(page: Page, v1Order: V1Order, pan: string, cvv = '111'): Promise<URL> {
  await fillCard(page, pan, cvv);
  const t = await wordsOf(page);
  await Promise.all([page.waitForURL((url) => url.toString().startsWith(merchant.url)), page.getByRole('button', { name: t.pay, exact: true }).click()]);
  const landed = new URL(page.url());
  assert.equal(landed.pathname, '/return');
  assert.equal(landed.searchParams.get('shop'), '1', 'the return URL keeps its own query string');
  assert.equal(landed.searchParams.get('orderId'), v1Order.id);
  return landed;
}

describe('NETOPIA v1 emulator: sandbox test cards on the hosted card page (CVV 111, any future expiry)', () => {
  const cards: Array<{ name: string; pan: string; cvv?: string; action: string; code: number; message: string }> = [
    { name: 'accepted card', pan: '9900004810225098', action: 'confirmed', code: 0, message: 'Approved' },
    { name: 'expired card', pan: '9900541631437790', action: 'paid', code: 19, message: 'Expired card' },
    { name: 'insufficient funds', pan: '9900518572831942', action: 'paid', code: 20, message: 'Insufficient funds' },
    { name: 'wrong CVV2 card', pan: '9900827979991500', action: 'paid', code: 21, message: 'CVV2 incorrect' },
    { name: 'transaction not permitted', pan: '9900576270414197', action: 'paid', code: 34, message: 'Transaction not permitted' },
    { name: 'risky (stolen) card', pan: '9900334791085173', action: 'paid', code: 16, message: 'Stolen card' },
    { name: 'issuer unavailable', pan: '9900130597497640', action: 'paid', code: 22, message: 'Issuer unavailable' },
    { name: 'a card that is not a test card', pan: '4111111111111111', action: 'paid', code: 17, message: 'Incorrect card number' },
    { name: 'the accepted card with a CVV other than 111', pan: '9900004810225098', cvv: '123', action: 'paid', code: 21, message: 'CVV2 incorrect' },
  ];

  cards.forEach((card, index) => {
    // Alternate request ciphers, IPN ciphers and page languages so that every combination is exercised.
    const cipher: EnvelopeCipher = index % 2 === 0 ? 'aes-256-cbc' : 'rc4';
    const ipnCipher = index % 3 === 0 ? undefined : ('aes-256-cbc' as const);
    const path = index % 2 === 0 ? '/en' : '/';
    it(`${card.name} ${card.pan}${card.cvv ? ` (CVV ${card.cvv})` : ''}: IPN ${card.action} with error ${card.code}, then back to the return URL`, async () => {
      const v1Order = order(account, merchant, ipnCipher ? { ipn_cipher: ipnCipher } : {});
      const page = await checkout(v1Order, { cipher, path });
      try {
        await payAndReturn(page, v1Order, card.pan, card.cvv);
      } finally {
        await page.close();
      }
      // The first IPN is synchronous: it has arrived by the time the customer is back.
      const [received, ...more] = merchant.ipnsFor(v1Order.id);
      assert.ok(received, 'the IPN arrived before the redirect');
      assert.equal(more.length, 0);
      const m = received.ipn.mobilpay;
      assert.equal(m.action, card.action);
      assert.equal(m.error.code, card.code);
      assert.equal(m.error.message, card.message);
      assert.equal(m.original_amount, '25.00');
      assert.equal(m.processed_amount, '25.00');
      assert.equal(m.pan_masked, `${card.pan[0]}****${card.pan.slice(-4)}`);
      assert.match(m.crc, /^[0-9a-f]{32}$/);
      assert.match(m.purchase, /^\d+$/);
      assert.ok(m.rrn && m.payment_instrument_id);
      assert.deepEqual(m.customer, v1Order.invoice.billing, 'customer is the billing contact');
      assert.deepEqual(received.ipn.order, v1Order, 'the original request is echoed unchanged');
      assert.equal(received.cipher, ipnCipher ?? 'rc4', 'IPNs are RC4 unless <ipn_cipher> asks otherwise');
      assert.equal(received.iv !== undefined, ipnCipher === 'aes-256-cbc');
    });
  });

  it('3-D Secure card, authorized: the bank page, then IPN confirmed', async () => {
    const v1Order = order(account, merchant);
    const page = await checkout(v1Order);
    try {
      await fillCard(page, '9900009184214768');
      await Promise.all([page.waitForURL(/\/3ds\/\d+\?t=[\w-]+$/), page.getByRole('button', { name: (await wordsOf(page)).pay, exact: true }).click()]);
      await page.getByText('9****4768').waitFor();
      await Promise.all([
        page.waitForURL((url) => url.toString().startsWith(merchant.url)),
        page.getByRole('button', { name: (await wordsOf(page)).authorize }).click(),
      ]);
      assert.equal(new URL(page.url()).searchParams.get('orderId'), v1Order.id);
    } finally {
      await page.close();
    }
    const [received] = merchant.ipnsFor(v1Order.id);
    assert.equal(received?.ipn.mobilpay.action, 'confirmed');
    assert.equal(received?.ipn.mobilpay.error.code, 0);
    assert.equal(received?.ipn.mobilpay.pan_masked, '9****4768');
  });

  it('3-D Secure card, failed authentication: IPN paid with error 38', async () => {
    const v1Order = order(account, merchant);
    const page = await checkout(v1Order, { cipher: 'rc4' });
    try {
      await fillCard(page, '9900009184214768');
      await Promise.all([page.waitForURL(/\/3ds\/\d+\?t=[\w-]+$/), page.getByRole('button', { name: (await wordsOf(page)).pay, exact: true }).click()]);
      await Promise.all([
        page.waitForURL((url) => url.toString().startsWith(merchant.url)),
        page.getByRole('button', { name: (await wordsOf(page)).failAuthentication }).click(),
      ]);
    } finally {
      await page.close();
    }
    const [received] = merchant.ipnsFor(v1Order.id);
    assert.equal(received?.ipn.mobilpay.action, 'paid');
    assert.equal(received?.ipn.mobilpay.error.code, 38);
    assert.equal(received?.ipn.mobilpay.error.message, 'Requires 3D Authentication');
  });

  it('a preauthorising account: an accepted card is IPN paid (reserved, not captured)', async () => {
    const v1Order = order(preauthAccount, merchant);
    const page = await checkout(v1Order, { seller: preauthAccount });
    try {
      await payAndReturn(page, v1Order, '9900004810225098');
    } finally {
      await page.close();
    }
    const [received] = merchant.ipnsFor(v1Order.id);
    assert.equal(received?.ipn.mobilpay.action, 'paid');
    assert.equal(received?.ipn.mobilpay.error.code, 0);
  });
});

describe('NETOPIA v1 emulator: the hosted card page', () => {
  it('shows the order and checks the inputs on the server, re-rendering with an alert', async () => {
    const v1Order = order(account, merchant, { invoice: { details: 'Ceai verde <b>bio</b>' } });
    const page = await checkout(v1Order, { path: '/en' });
    try {
      await page.getByText(v1Order.id).waitFor();
      await page.getByText('Ceai verde <b>bio</b>').waitFor(); // shown as text, not markup
      await page.getByText('25.00 RON').waitFor();
      const t = await wordsOf(page);
      assert.equal(await page.getByLabel(t.expiryLabel, { exact: true }).getAttribute('placeholder'), t.expiryFormat);

      await fillCard(page, '9900 0048 1022 509x', '11', '01/20');
      await Promise.all([page.waitForLoadState(), page.getByRole('button', { name: (await wordsOf(page)).pay, exact: true }).click()]);
      const alert = page.getByRole('alert');
      await alert.waitFor();
      const text = await alert.innerText();
      assert.match(text, /card number/);
      assert.match(text, /expiry date in the future/);
      assert.match(text, /CVV/);
      assert.equal(await page.getByLabel(t.cardNumberLabel, { exact: true }).getAttribute('aria-invalid'), 'true');
      assert.equal(merchant.ipnsFor(v1Order.id).length, 0);

      await payAndReturn(page, v1Order, '9900 0048 1022 5098');
    } finally {
      await page.close();
    }
    assert.equal(merchant.ipnsFor(v1Order.id)[0]?.ipn.mobilpay.error.code, 0);
  });

  it('speaks Romanian on the default path and English on /en, one language per page', async () => {
    const ro = await checkout(order(account, merchant));
    try {
      await ro.getByRole('heading', { name: 'Plată cu cardul' }).waitFor();
      await ro.getByLabel('Număr card', { exact: true }).waitFor();
      await ro.getByRole('button', { name: 'Plătește', exact: true }).waitFor();
      assert.equal(await ro.getByText('Card number').count(), 0);
    } finally {
      await ro.close();
    }
    const en = await checkout(order(account, merchant), { path: '/en' });
    try {
      await en.getByRole('heading', { name: 'Card payment' }).waitFor();
      assert.equal(await en.getByText('Număr card').count(), 0);
      await en.getByRole('button', { name: 'Cancel payment' }).waitFor();
    } finally {
      await en.close();
    }
  });

  it('converts a foreign-currency invoice to RON at the emulator BNR rate, showing both amounts', async () => {
    const v1Order = order(account, merchant, { invoice: { currency: 'EUR', amount: '10.00' } });
    const page = await checkout(v1Order, { path: '/en' });
    try {
      await page.getByText('10.00 EUR (49.75 RON)').waitFor();
      await payAndReturn(page, v1Order, '9900004810225098');
    } finally {
      await page.close();
    }
    const m = merchant.ipnsFor(v1Order.id)[0]!.ipn.mobilpay;
    assert.equal(m.original_amount, '49.75');
    assert.equal(m.processed_amount, '49.75');
  });

  it('"Cancel payment" returns the customer to the merchant without an IPN and leaves the order open', async () => {
    const v1Order = order(account, merchant);
    const page = await checkout(v1Order);
    let purchase: string;
    try {
      purchase = /\/card\/(\d+)\?/.exec(page.url())![1]!;
      await Promise.all([
        page.waitForURL((url) => url.toString().startsWith(merchant.url)),
        page.getByRole('button', { name: (await wordsOf(page)).cancelPayment }).click(),
      ]);
      assert.equal(new URL(page.url()).searchParams.get('orderId'), v1Order.id);
    } finally {
      await page.close();
    }
    assert.equal(merchant.ipnsFor(v1Order.id).length, 0);
    assert.equal((await orderView(emulator, purchase)).order.status, 'open');
  });

  it('re-posting an open order shows its card page again; re-posting a finished one is "duplicate request (56)"', async () => {
    const v1Order = order(account, merchant);
    const first = await checkout(v1Order);
    const again = await checkout(v1Order, { cipher: 'rc4' });
    try {
      assert.equal(again.url(), first.url());
      await payAndReturn(again, v1Order, '9900004810225098');
    } finally {
      await first.close();
      await again.close();
    }
    const page = await browser.newPage();
    try {
      const response = await postFromBrowser(page, emulator.base + '/', sealOrder(account, v1Order));
      assert.equal(response.status(), 400);
      await page.getByRole('heading', { name: 'duplicate request (56)' }).waitFor();
    } finally {
      await page.close();
    }
    assert.equal(merchant.ipnsFor(v1Order.id).length, 1);
  });
});
