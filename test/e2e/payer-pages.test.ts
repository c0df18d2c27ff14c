import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchBrowser } from '../support/browser.js';
import { auditContext, expectAccessible } from '../support/axe.js';
import { expectOneLanguage } from '../support/page-language.js';
import { apiClient, startTestHub, type TestHub } from '../support/hub.js';
import { PAY_TEXT } from '../../src/http/pages/pay-text.js';
import { NETOPIA_TEXT } from '../../emulators/netopia-v1/page-text.js';
import { MSP_TEXT } from '../../emulators/multisafepay/page-text.js';
import { NEXI_TEXT } from '../../emulators/nexi/page-text.js';
import { VOLT_TEXT } from '../../emulators/volt/page-text.js';

/**
 * What the payer sees, in each language: the hub's payment and return pages, and each emulator's card (or bank)
 * page and 3-D Secure step, reached the way a payer reaches them (a payment made through the hub's API with
 * `metadata.language`, the browser speaking the same language). Each page must speak one language, the one its
 * `<html lang>` declares, with the words of its catalogue; each must pass axe without serious or critical
 * violations; the processors' pages name the shop and the merchant's order, never the hub's internal ids.
 */

const SHOP = 'Bottega Verde SRL';
const LOCALES: Record<string, string> = { en: 'en-US', ro: 'ro-RO', it: 'it-IT' };

let hub: TestHub;
let browser: Browser;
let api: ReturnType<typeof apiClient>;
let merchantId: string;

before(async () => {
  [hub, browser] = await Promise.all([startTestHub({ outboundAllow: '127.0.0.1' }), launchBrowser()]);
  const merchant = await apiClient(hub.url, hub.adminKey)('POST', '/v1/merchants', { name: SHOP });
  assert.equal(merchant.status, 201, JSON.stringify(merchant.body));
  merchantId = merchant.body.id;
  api = apiClient(hub.url, merchant.body.api_key);
  for (const provider of ['netopia-v1', 'netopia-v2', 'multisafepay', 'nexi', 'volt']) {
    const c = await api('POST', '/v1/connections', { code: provider, provider, environment: 'emulator' });
    assert.equal(c.status, 201, JSON.stringify(c.body));
  }
});
after(async () => {
  await browser?.close();
  await hub?.close();
});

let serial = 0;
async function createPayment(provider: string, language: string, currency: string) {
  const order = `SHOP-${language}-${++serial}`;
  const r = await api('POST', '/v1/payments', {
    connection: provider,
    order_id: order,
    amount: 4550,
    currency,
    description: 'Bottega \u00b7 tea set',
    billing: { first_name: 'Ioana', last_name: 'Rossi', email: 'ioana@example.com', phone: '0722000111', address: 'Via Roma 5', city: 'Brașov', country: 'RO' },
    return_url: 'https://shop.example/thanks',
    metadata: { language },
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return { ...(r.body as { id: string; payment_url: string }), order };
}

async function withPage<T>(language: string, run: (page: Page, context: BrowserContext) => Promise<T>): Promise<T> {
  const context = await auditContext(browser, LOCALES[language]);
  try {
    return await run(await context.newPage(), context);
  } finally {
    await context.close();
  }
}

/** The page speaks `language` only, passes axe, and shows the shop's name rather than the hub's ids. */
async function check(page: Page, catalogue: Parameters<typeof expectOneLanguage>[1], language: string, what: string) {
  await expectOneLanguage(page, catalogue, language);
  await expectAccessible(page, what);
  const text = await page.locator('body').innerText();
  assert.doesNotMatch(text, /\b(mer|pay|con)_[A-Za-z0-9]{6,}/, `${what} shows an internal id:\n${text}`);
  assert.ok(!text.includes(merchantId), `${what} shows the merchant's id`);
}

/**
 * The page's main content names the merchant's own order (`SHOP-<language>-<n>`), never the hub's attempt id.
 * `shown` is the order id as the processor's reference can carry it, when that differs (Volt's uniqueReference is
 * letters and digits only: `SHOPen7` followed by the attempt's 8-character code).
 */
async function expectMerchantOrder(page: Page, language: string, what: string, shown?: RegExp) {
  const text = await page.locator('main').innerText();
  assert.match(text, shown ?? new RegExp(`\\bSHOP-${language}-\\d+\\b`), `${what} names the merchant's order id:\n${text}`);
  assert.doesNotMatch(text, /\batt_/, `${what} shows the hub's attempt id:\n${text}`);
}

const futureExpiry = () => `12/${String((new Date().getUTCFullYear() + 2) % 100).padStart(2, '0')}`;

describe("the hub's payment and return pages", () => {
  for (const language of ['en', 'ro', 'it'] as const) {
    it(`the hand-off page and the return page after a cancel speak ${language}`, async () => {
      const t = PAY_TEXT[language];
      await withPage(language, async (page) => {
        // NETOPIA v1 is opened with a form the page submits by itself: a 204 from the processor keeps the page.
        const p = await createPayment('netopia-v1', language, 'RON');
        await page.route('**/sandbox/netopia/v1/**', (route) => route.fulfill({ status: 204 }));
        await page.goto(p.payment_url, { waitUntil: 'commit' });
        await page.getByRole('button', { name: t.continue }).waitFor();
        await check(page, PAY_TEXT, language, `hand-off page (${language})`);
      });
      await withPage(language, async (page) => {
        // NETOPIA v2's card page links "cancel" to the hub's return page for an abandoned payment.
        const p = await createPayment('netopia-v2', language, 'RON');
        await page.goto(p.payment_url);
        const netopia = NETOPIA_TEXT[language === 'it' ? 'en' : language];
        await Promise.all([page.waitForURL(/\/return\?canceled/), page.getByRole('link', { name: netopia.cancelPayment }).click()]);
        await page.getByRole('heading', { level: 1 }).waitFor();
        await check(page, PAY_TEXT, language, `return page (${language})`);
        const back = page.getByRole('link', { name: t.backToShop });
        assert.match((await back.getAttribute('href')) ?? '', /^https:\/\/shop\.example\/thanks\?/);
        await page.getByRole('link', { name: t.payNow }).waitFor();
      });
    });
  }

  it("the payment's own language wins over the browser's", async () => {
    await withPage('en', async (page) => {
      const p = await createPayment('netopia-v1', 'ro', 'RON');
      await page.route('**/sandbox/netopia/v1/**', (route) => route.fulfill({ status: 204 }));
      await page.goto(p.payment_url, { waitUntil: 'commit' });
      await page.getByRole('button', { name: PAY_TEXT.ro.continue }).waitFor();
      await expectOneLanguage(page, PAY_TEXT, 'ro');
    });
  });

  it('a payment whose metadata.language is not a language code is refused with the field named', async () => {
    const r = await api('POST', '/v1/payments', {
      connection: 'netopia-v1',
      order_id: 'SHOP-bad-language',
      amount: 100,
      currency: 'RON',
      description: 'x',
      billing: { first_name: 'Ioana', last_name: 'Rossi', email: 'ioana@example.com' },
      metadata: { language: 'romanian' },
    });
    assert.equal(r.status, 422, JSON.stringify(r.body));
    assert.match(JSON.stringify(r.body), /metadata\.language/);
  });

  it('a link that is not a payment answers in the browser’s language', async () => {
    await withPage('it', async (page) => {
      const response = await page.goto(`${hub.url}/pay/pay_doesnotexist`);
      assert.equal(response?.status(), 404);
      await expectOneLanguage(page, PAY_TEXT, 'it');
      await expectAccessible(page);
    });
  });
});

describe('NETOPIA card and 3-D Secure pages', () => {
  for (const provider of ['netopia-v1', 'netopia-v2'] as const) {
    for (const language of ['en', 'ro'] as const) {
      it(`${provider} in ${language}`, async () => {
        const t = NETOPIA_TEXT[language];
        await withPage(language, async (page) => {
          const p = await createPayment(provider, language, 'RON');
          await page.goto(p.payment_url);
          await page.getByLabel(t.cardNumberLabel, { exact: true }).waitFor();
          await check(page, NETOPIA_TEXT, language, `${provider} card page (${language})`);
          const text = await page.locator('main').innerText();
          assert.ok(text.includes(SHOP), `the card page names the shop:\n${text}`);
          assert.match(text, new RegExp(`\\bSHOP-${language}-\\d+\\b`), 'the merchant’s order id');
          assert.doesNotMatch(text, /\batt_/, 'the hub’s attempt id');
          await page.getByLabel(t.cardNumberLabel, { exact: true }).fill('9900009184214768');
          await page.getByLabel(t.expiryLabel, { exact: true }).fill(futureExpiry());
          await page.getByLabel(t.cvvLabel, { exact: true }).fill('111');
          await Promise.all([page.waitForURL(/\/3ds\//), page.getByRole('button', { name: t.pay, exact: true }).click()]);
          await page.getByRole('button', { name: t.authorize }).waitFor();
          await check(page, NETOPIA_TEXT, language, `${provider} 3-D Secure page (${language})`);
        });
      });
    }
  }
});

describe('MultiSafepay card and 3-D Secure pages', () => {
  for (const language of ['en', 'ro', 'it'] as const) {
    it(`in ${language}`, async () => {
      const t = MSP_TEXT[language];
      await withPage(language, async (page) => {
        const p = await createPayment('multisafepay', language, 'EUR');
        await page.goto(p.payment_url);
        await page.getByRole('heading', { name: t.title }).waitFor();
        await check(page, MSP_TEXT, language, `MultiSafepay card page (${language})`);
        assert.ok((await page.locator('main').innerText()).includes(SHOP));
        await expectMerchantOrder(page, language, `MultiSafepay card page (${language})`);
        await page.getByRole('group', { name: t.cardBrand }).getByRole('radio', { name: 'Visa' }).check();
        await page.getByLabel(t.cardNumber, { exact: true }).fill('4111 1111 1111 1111');
        await page.getByLabel(t.expiryDate, { exact: true }).fill(futureExpiry());
        await page.getByLabel(t.cvvLabel, { exact: true }).fill('123');
        await Promise.all([page.waitForURL(/\/3ds$/), page.getByRole('button', { name: t.pay, exact: true }).click()]);
        await page.getByLabel(t.authResult).waitFor();
        await check(page, MSP_TEXT, language, `MultiSafepay 3-D Secure page (${language})`);
        await expectMerchantOrder(page, language, `MultiSafepay 3-D Secure page (${language})`);
      });
    });
  }
});

describe('Nexi checkout page', () => {
  for (const language of ['en', 'ro', 'it'] as const) {
    it(`in ${language}`, async () => {
      const t = NEXI_TEXT[language];
      await withPage(language, async (page) => {
        const p = await createPayment('nexi', language, 'EUR');
        await page.goto(p.payment_url);
        await page.getByRole('heading', { name: t.title }).waitFor();
        await check(page, NEXI_TEXT, language, `Nexi checkout (${language})`);
        assert.ok((await page.locator('main').innerText()).includes(SHOP));
        await expectMerchantOrder(page, language, `Nexi checkout (${language})`);
        // A card that fails the page's checks: the problems are listed in the same language.
        await page.getByLabel(t.cardNumber, { exact: true }).fill('1234');
        await Promise.all([page.waitForLoadState(), page.getByRole('button', { name: t.pay, exact: true }).click()]);
        await page.getByRole('alert').waitFor();
        await check(page, NEXI_TEXT, language, `Nexi checkout with errors (${language})`);
      });
    });
  }
});

describe('Volt checkout and bank pages', () => {
  for (const language of ['en', 'ro', 'it'] as const) {
    it(`in ${language}`, async () => {
      const t = VOLT_TEXT[language];
      await withPage(language, async (page) => {
        const p = await createPayment('volt', language, 'EUR');
        // Volt's reference (uniqueReference) is at most 18 letters and digits: the order id without its dashes.
        const shown = new RegExp(`\\b${p.order.replace(/[^A-Za-z0-9]/g, '')}[A-Z2-7]{8}\\b`);
        await page.goto(p.payment_url);
        await page.getByRole('heading', { name: t.title }).waitFor();
        await check(page, VOLT_TEXT, language, `Volt checkout (${language})`);
        assert.ok((await page.locator('main').innerText()).includes(SHOP));
        await expectMerchantOrder(page, language, `Volt checkout (${language})`, shown);
        await page.getByLabel('Testbank Nederland', { exact: true }).check();
        await Promise.all([page.waitForURL(/\/bank\//), page.getByRole('button', { name: t.continue }).click()]);
        await page.getByRole('button', { name: t.authorise }).waitFor();
        await check(page, VOLT_TEXT, language, `Volt bank page (${language})`);
        await expectMerchantOrder(page, language, `Volt bank page (${language})`, shown);
      });
    });
  }
});
