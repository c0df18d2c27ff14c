import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser } from '../support/browser.js';
import { auditContext, expectAccessible } from '../support/axe.js';
import { apiClient, eventually, startTestHub, type TestHub } from '../support/hub.js';

/**
 * An invoice paid by card through its pay link, in a real headless Chromium against the NETOPIA v1 emulator: the
 * seed's own check (a test invoice with card payment on, its link, the NETOPIA button, the card form), and a
 * proforma paid after a declined attempt (wrong CVV) that becomes its fiscal invoice with a collection.
 */

let hub: TestHub;
let browser: Browser;
let api: ReturnType<typeof apiClient>;

before(async () => {
  [hub, browser] = await Promise.all([startTestHub({ outboundAllow: '127.0.0.1' }), launchBrowser()]);
  const merchant = await apiClient(hub.url, hub.adminKey)('POST', '/v1/merchants', { name: 'Atelier de Ceramică SRL' });
  api = apiClient(hub.url, merchant.body.api_key);
  const c = await api('POST', '/v1/connections', { code: 'netopia', provider: 'netopia-v1', environment: 'emulator' });
  assert.equal(c.status, 201, JSON.stringify(c.body));
  const profile = await api('PUT', '/v1/seller-profile', {
    name: 'Atelier de Ceramică SRL',
    fiscal_code: 'RO18547290',
    address: 'Str. Olarilor 3',
    city: 'Sibiu',
    iban: 'RO49AAAA1B31007593840000',
    vat_payer: true,
  });
  assert.equal(profile.status, 200, JSON.stringify(profile.body));
  for (const [kind, prefix] of [
    ['invoice', 'CER'],
    ['proforma', 'PCER'],
  ])
    assert.equal((await api('POST', '/v1/invoice-series', { kind, prefix, next_number: 41 })).status, 201);
  assert.equal((await api('PUT', '/v1/invoice-settings', { auto_collection: true, auto_fiscal_from_proforma: true })).status, 200);
});
after(async () => {
  await browser?.close();
  await hub?.close();
});

async function issuedDocument(kind: 'invoice' | 'proforma', language = 'ro') {
  const d = await api('POST', '/v1/invoices', {
    kind,
    language,
    card_payment: true,
    buyer: { type: 'person', name: 'Elena Marin', city: 'Sibiu', address: 'Str. Lungă 5', email: 'elena@example.ro', phone: '0722000111' },
    lines: [{ description: 'Vază pictată', quantity: 2, unit: 'buc', unit_price: 7500, vat_rate: 21 }],
  });
  assert.equal(d.status, 201, JSON.stringify(d.body));
  const issued = await api('POST', `/v1/invoices/${d.body.id}/issue`);
  assert.equal(issued.status, 200, JSON.stringify(issued.body));
  assert.ok(issued.body.pay_url, 'card payment on: a pay link');
  return issued.body as { id: string; pay_url: string; number: string };
}

async function payWithCard(page: Page, pan: string, cvv = '111') {
  await page.getByLabel(/^(Card number|Număr card)$/).fill(pan);
  await page.getByLabel(/^(Expiry date|Data expirării)$/).fill('12/30');
  await page.getByLabel('CVV').fill(cvv);
  await page.getByRole('button', { name: /^(Pay|Plătește)$/ }).click();
}

const netopiaButton = (page: Page) => page.getByRole('button', { name: /NETOPIA/ });

describe('the pay link of an invoice', () => {
  it("the seed's check: a test invoice with card payment on, its link, the NETOPIA button, NETOPIA's card form", async () => {
    const inv = await issuedDocument('invoice');
    const context = await auditContext(browser, 'en-US');
    const page = await context.newPage();
    try {
      const response = await page.goto(inv.pay_url);
      assert.equal(response?.status(), 200);
      const csp = response!.headers()['content-security-policy'] ?? '';
      assert.match(csp, /script-src 'none'/);
      // The buyer's language (Romanian), not the browser's.
      assert.equal(await page.getAttribute('html', 'lang'), 'ro');
      await page.getByRole('heading', { name: `Factură ${inv.number}` }).waitFor();
      const text = await page.locator('main').innerText();
      assert.match(text, /Atelier de Ceramică SRL/);
      assert.match(text, /Elena Marin/);
      assert.match(text, /Vază pictată/);
      assert.match(text, /Rest de plată\s*181\.50 RON/);
      await expectAccessible(page, 'the pay page');
      await netopiaButton(page).click();
      await page.getByLabel(/^(Card number|Număr card)$/).waitFor();
      assert.match(page.url(), /\/sandbox\/netopia\/v1\/card\//, "the button led to NETOPIA's card page");
    } finally {
      await context.close();
    }
    const attempts = (await api('GET', `/v1/invoices/${inv.id}/attempts`)).body.data;
    assert.deepEqual(
      attempts.map((a: { status: string; processor: string; amount: number }) => [a.status, a.processor, a.amount]),
      [['created', 'netopia-v1', 18150]],
      'the attempt was recorded before the customer reached NETOPIA',
    );
  });

  it('an unknown or malformed link is a 404 page, and a press on it starts nothing', async () => {
    for (const path of ['/i/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', '/i/x', '/i/%00']) {
      const get = await fetch(`${hub.url}${path}`);
      assert.equal(get.status, 404, path);
      assert.match(get.headers.get('content-security-policy') ?? '', /script-src 'none'/);
      const post = await fetch(`${hub.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'connection=netopia',
      });
      assert.equal(post.status, 404, path);
    }
  });

  it("speaks the buyer's language (en, it) whatever the browser's, and passes axe in each", async () => {
    for (const [language, heading, due] of [
      ['en', 'Invoice', 'Amount due'],
      ['it', 'Fattura', 'Importo dovuto'],
    ] as const) {
      const inv = await issuedDocument('invoice', language);
      const context = await auditContext(browser, 'ro-RO');
      const page = await context.newPage();
      try {
        await page.goto(inv.pay_url);
        assert.equal(await page.getAttribute('html', 'lang'), language);
        await page.getByRole('heading', { name: `${heading} ${inv.number}` }).waitFor();
        assert.match(await page.locator('main').innerText(), new RegExp(due));
        await expectAccessible(page, `the pay page in ${language}`);
      } finally {
        await context.close();
      }
    }
  });

  it('a proforma paid after a declined attempt (wrong CVV) becomes its fiscal invoice with the next number and a collection', async () => {
    const proforma = await issuedDocument('proforma');
    const next = (await api('GET', '/v1/invoice-series')).body.data.find((s: { prefix: string }) => s.prefix === 'CER').next_number;
    const page = await browser.newPage();
    try {
      await page.goto(proforma.pay_url);
      await netopiaButton(page).click();
      await payWithCard(page, '9900827979991500');
      await page.getByRole('alert').waitFor();
      // Back on the pay link: the decline in the processor's words, and the button again.
      await page.goto(proforma.pay_url);
      await page.getByRole('alert').waitFor();
      assert.match(await page.getByRole('alert').innerText(), /refuzată/);
      await expectAccessible(page, 'the pay page after a decline');
      await netopiaButton(page).click();
      await payWithCard(page, '9900004810225098');
      await eventually(async () => (await api('GET', `/v1/invoices/${proforma.id}`)).body.status === 'paid', 10_000, 'the proforma paid');
      await page.goto(proforma.pay_url);
      await page.getByRole('status').waitFor();
      assert.match(await page.getByRole('status').innerText(), /plătită/);
      assert.equal(await netopiaButton(page).count(), 0, 'a paid invoice takes no payment');
    } finally {
      await page.close();
    }
    const paid = (await api('GET', `/v1/invoices/${proforma.id}`)).body;
    assert.ok(paid.related_invoice_id, 'the fiscal invoice is linked');
    const fiscal = (await api('GET', `/v1/invoices/${paid.related_invoice_id}`)).body;
    assert.deepEqual([fiscal.kind, fiscal.status, fiscal.sequence_number, fiscal.totals.amount_due], ['invoice', 'paid', next, 0]);
    const collections = (await api('GET', `/v1/invoices/${proforma.id}/collections`)).body.data;
    assert.deepEqual(
      collections.map((c: { amount: number; method: string; processor: string }) => [c.amount, c.method, c.processor]),
      [[18150, 'card', 'netopia-v1']],
    );
    const attempts = (await api('GET', `/v1/invoices/${proforma.id}/attempts`)).body.data;
    assert.deepEqual(
      attempts.map((a: { status: string; failure: { code: string } | null }) => [a.status, a.failure?.code ?? null]),
      [
        ['failed', '21'],
        ['captured', null],
      ],
    );
    assert.ok(attempts[0].failure.message, "the decline in the processor's words");
  });

  // Last: it adds a second connection, which every later page would show.
  it('two tabs on two processors both paying: one paid invoice and one overpayment, never paid twice', async () => {
    const c = await api('POST', '/v1/connections', { code: 'netopia-2', provider: 'netopia-v1', environment: 'emulator' });
    assert.equal(c.status, 201, JSON.stringify(c.body));
    const inv = await issuedDocument('invoice');
    const [a, b] = [await browser.newPage(), await browser.newPage()];
    try {
      await a.goto(inv.pay_url);
      await b.goto(inv.pay_url);
      await a.getByRole('button', { name: /\(netopia\)/ }).click();
      await b.getByRole('button', { name: /\(netopia-2\)/ }).click();
      await payWithCard(a, '9900004810225098');
      await eventually(async () => (await api('GET', `/v1/invoices/${inv.id}`)).body.status === 'paid', 10_000, 'the invoice paid');
      await payWithCard(b, '9900004810225098');
      await eventually(async () => (await api('GET', `/v1/invoices/${inv.id}/collections`)).body.data.length === 2, 10_000, 'the second payment recorded');
    } finally {
      await a.close();
      await b.close();
    }
    const paid = (await api('GET', `/v1/invoices/${inv.id}`)).body;
    assert.deepEqual([paid.status, paid.totals.amount_paid, paid.totals.amount_due], ['paid', 18150, 0]);
    const collections = (await api('GET', `/v1/invoices/${inv.id}/collections`)).body.data;
    assert.deepEqual(
      collections.map((x: { amount: number; overpayment: boolean }) => [x.amount, x.overpayment]),
      [
        [18150, false],
        [18150, true],
      ],
    );
  });
});
