import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { html } from '../../src/html/template.js';
import { page as consolePage } from '../../src/http/console/layout.js';
import { defineSection } from '../../src/http/console/registry.js';
import { SECTIONS } from '../../src/http/console/sections/index.js';
import { launchBrowser } from '../support/browser.js';
import { loginCookie, makeMerchant, makeUser, navFor as sectionsFor, PASSWORD } from '../support/console.js';
import { apiClient, eventually, startTestHub, type TestHub } from '../support/hub.js';
import { startWebhookListener } from '../support/webhook-listener.js';
import { watchPages } from '../support/page-watch.js';

/**
 * The console in headless Chromium: a password set from its one-time link, logging in, the payment list (filters,
 * pages, CSV export, also without script), a payment's timeline after a real NETOPIA v1 payment through the
 * emulator, roles (a section the viewer may not open), another merchant's payment by URL, CSRF, throttled logins,
 * languages, logging out; axe-core on every page and no Content-Security-Policy violation anywhere.
 */

/** A section only admins and the operator may open: the registry's role check, seen from the browser. */
const adminOnly = defineSection({
  name: 'admin-tools',
  roles: ['operator', 'admin'],
  order: 99,
  navLabel: () => 'Admin tools',
  routes: async (app) => {
    app.get('/', (request, reply) => consolePage(request, reply, { title: 'Admin tools', section: 'admin-tools', body: html`<h1>Admin tools</h1>` }));
  },
});

let hub: TestHub;
let browser: Browser;
let listener: Awaited<ReturnType<typeof startWebhookListener>>;
const A = { id: '', key: '' };
const B = { id: '', key: '' };
let paid: { id: string; reference: string };
let bPayment = '';
const users = { admin: '', viewer: '', other: '', operator: '', throttled: '' };
/** Every CSP violation or script error a page reported. */
const watch = watchPages(() => browser);
const { pageErrors, axeFindings, newPage, axe } = watch;

const billing = (email: string) => ({
  first_name: 'Ioana',
  last_name: 'Dumitrescu',
  email,
  phone: '0722000111',
  address: 'Str. Lungă 5',
  city: 'Brașov',
  country: 'RO',
});

async function logIn(page: Page, email: string, password = PASSWORD) {
  await page.goto(`${hub.url}/console/login`);
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
}

/** The navigation a role sees in English, with the admin-only section this test adds. */
const navFor = (role: 'admin' | 'viewer') => sectionsFor(role, 'en', [...SECTIONS, adminOnly]);

const orderCells = async (page: Page) => page.locator('#results tbody tr td:nth-child(2)').allInnerTexts();

before(async () => {
  [hub, browser, listener] = await Promise.all([
    startTestHub({ outboundAllow: '127.0.0.1', console: { sections: [...SECTIONS, adminOnly] } }),
    launchBrowser(),
    startWebhookListener(),
  ]);
  Object.assign(A, await makeMerchant(hub.url, hub.adminKey, 'Librăria Mică SRL', { netopiaV1: true }));
  Object.assign(B, await makeMerchant(hub.url, hub.adminKey, 'Alt Magazin SRL', { netopiaV1: true }));
  const asA = apiClient(hub.url, A.key);
  const wh = await asA('POST', '/v1/webhook-endpoints', { url: listener.url });
  listener.setSecret(wh.body.secret);
  const create = async (api: typeof asA, order: string, email: string) => {
    const r = await api('POST', '/v1/payments', {
      connection: 'netopia',
      order_id: order,
      amount: 4990,
      currency: 'RON',
      description: `Comanda ${order}`,
      billing: billing(email),
      return_url: listener.shopUrl,
      // The card page below is filled by its English labels: the payment asks for English pages.
      metadata: { language: 'en' },
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body as { id: string; payment_url: string };
  };
  // One paid through the emulator's card page (attempt, IPN, events, webhook deliveries), then 27 waiting.
  const p = await create(asA, 'CON-PAID', 'ioana@example.ro');
  const page = await newPage();
  await page.goto(p.payment_url);
  await page.getByLabel('Card number').fill('9900004810225098');
  await page.getByLabel('Expiry date').fill('12/30');
  await page.getByLabel('CVV').fill('111');
  await page.getByRole('button', { name: 'Pay', exact: true }).click();
  await page.waitForURL(/\/shop\/thanks\?/);
  await page.context().close();
  await eventually(() => listener.received.some((w) => w.event.type === 'payment.paid'), 10_000, 'payment.paid delivered');
  const detail = await asA('GET', `/v1/payments/${p.id}`);
  paid = { id: p.id, reference: detail.body.attempts[0].processor_reference };
  for (let n = 1; n <= 27; n++) await create(asA, `CON-${String(n).padStart(3, '0')}`, `client${n}@example.ro`);
  bPayment = (await create(apiClient(hub.url, B.key), 'OTHER-1', 'b@example.ro')).id;

  const invite = await asA('POST', '/v1/merchant/users', { email: 'admin@libraria.ro', role: 'admin' });
  users.admin = invite.body.set_password_url;
  users.viewer = (await makeUser(hub.url, hub.adminKey, 'viewer@libraria.ro', 'viewer', A.id)).email;
  users.throttled = (await makeUser(hub.url, hub.adminKey, 'throttled@libraria.ro', 'viewer', A.id)).email;
  users.other = (await makeUser(hub.url, hub.adminKey, 'admin@altmagazin.ro', 'admin', B.id)).email;
  users.operator = (await makeUser(hub.url, hub.adminKey, 'ops@hub.example', 'operator', null, 'it')).email;
});

after(async () => {
  await browser?.close();
  await hub?.close();
  await listener?.close();
});

describe('the console in a browser', () => {
  let page: Page;

  it('sets the password from the one-time link, then logs in, lands on the overview and opens the payments', async () => {
    page = await newPage();
    await page.goto(users.admin);
    await axe(page);
    await page.getByLabel('New password').fill(PASSWORD);
    await page.getByLabel('Repeat the password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Save the password' }).click();
    await page.getByRole('status').filter({ hasText: 'Your password is set' }).waitFor();
    await page.getByRole('link', { name: 'Go to the login page' }).click();
    await axe(page);
    await page.getByLabel('E-mail').fill('admin@libraria.ro');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(`${hub.url}/console/overview`);
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Payments' }).click();
    await page.waitForURL(`${hub.url}/console/payments`);
    assert.equal(await page.evaluate(() => typeof (window as unknown as { htmx?: unknown }).htmx), 'object', 'htmx loaded under the policy');
    const orders = await orderCells(page);
    assert.equal(orders.length, 25, 'a page of 25');
    assert.equal(orders[0], 'CON-027', 'newest first');
    assert.ok(!orders.includes('OTHER-1'), "never another merchant's payment");
    assert.deepEqual(await page.getByRole('navigation', { name: 'Sections' }).getByRole('link').allInnerTexts(), navFor('admin'));
    assert.ok(navFor('admin').includes('Admin tools'));
    await axe(page);
  });

  it('filters by status, search (order id, payer e-mail, processor reference) and dates, updating the address', async () => {
    await page.getByLabel('Status').selectOption('paid');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/status=paid/);
    await eventually(async () => (await orderCells(page)).join() === 'CON-PAID', 5_000, 'only the paid payment');
    await page.getByLabel('Status').selectOption('');
    for (const [search, expected] of [
      ['CON-007', 'CON-007'],
      ['Client5@Example.ro', 'CON-005'],
      [paid.reference, 'CON-PAID'],
    ]) {
      await page.getByLabel('Order id, payer e-mail or processor reference').fill(search!);
      await page.getByRole('button', { name: 'Filter' }).click();
      await eventually(async () => (await orderCells(page)).join() === expected, 5_000, `search ${search}`);
    }
    await page.getByLabel('Order id, payer e-mail or processor reference').fill('');
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    await page.getByLabel('Created until').fill(yesterday);
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.getByText('No payment matches.').waitFor();
    await page.goto(`${hub.url}/console/payments?from=2026-13-45`);
    assert.match(await page.getByRole('alert').innerText(), /a date is written YYYY-MM-DD/);
    await axe(page);
  });

  it('pages through with a cursor: the second page holds the rest, nothing twice', async () => {
    await page.goto(`${hub.url}/console/payments`);
    const first = await orderCells(page);
    await page.getByRole('link', { name: 'Next page' }).click();
    await page.waitForURL(/after=pay_/);
    await eventually(async () => (await orderCells(page)).length === 3, 5_000, 'the second page');
    const second = await orderCells(page);
    assert.deepEqual(second, ['CON-002', 'CON-001', 'CON-PAID']);
    assert.equal(new Set([...first, ...second]).size, 28);
    assert.equal(await page.getByRole('link', { name: 'Next page' }).count(), 0);
  });

  it('opens a payment: its timeline has the attempt, the IPN (redacted raw body, verdict), the events and their deliveries', async () => {
    await page.goto(`${hub.url}/console/payments?q=CON-PAID`);
    await page.getByRole('link', { name: 'CON-PAID' }).click();
    await page.getByRole('heading', { name: 'Payment CON-PAID' }).waitFor();
    const timeline = page.locator('ol.timeline');
    await timeline.getByRole('heading', { name: 'Attempt 1: captured' }).waitFor();
    const text = await timeline.innerText();
    assert.ok(text.includes(paid.reference), 'the processor reference');
    assert.match(text, /9\*\*\*\*5098/);
    assert.match(text, /Received from netopia-v1: applied/);
    assert.match(text, /Event payment\.created/);
    assert.match(text, /Event payment\.paid/);
    assert.ok(text.includes(`To ${listener.url}: succeeded, 1 attempt(s)`), `no delivery line in:\n${text}`);
    assert.match(text, /UTC: HTTP 200 in \d+ ms/);
    assert.match(text, /Verdict\s+captured/);
    await page.getByText('Raw body (secrets and card data redacted)').first().click();
    const raw = await page.locator('ol.timeline pre').first().innerText();
    assert.match(raw, /env_key=\[redacted\]/);
    assert.match(raw, /data=/);
    await axe(page);
  });

  it('exports the filtered list as CSV', async () => {
    await page.goto(`${hub.url}/console/payments?q=CON-PAID`);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Export as CSV' }).click()]);
    const csv = readFileSync((await download.path())!, 'utf8')
      .trim()
      .split('\r\n');
    assert.equal(
      csv[0],
      'id,created_at,merchant_id,order_id,status,amount,amount_minor,currency,amount_captured_minor,amount_refunded_minor,connection,payer_email,description',
    );
    assert.equal(csv.length, 2);
    assert.match(
      csv[1]!,
      new RegExp(`^"${paid.id}",.*,"${A.id}","CON-PAID","paid","49.90","4990","RON","4990","0","netopia","ioana@example.ro","Comanda CON-PAID"$`),
    );
    assert.match(download.suggestedFilename(), /^payments-\d{4}-\d{2}-\d{2}\.csv$/);
  });

  it('refuses a state-changing request without the session’s token, and stays logged in', async () => {
    const r = await page.context().request.post(`${hub.url}/console/logout`, { form: {}, headers: { origin: hub.url }, maxRedirects: 0 });
    assert.equal(r.status(), 403);
    await page.goto(`${hub.url}/console/payments`);
    assert.equal(new URL(page.url()).pathname, '/console/payments');
  });

  it('logs out: the session ends and the pages send the browser to the login page', async () => {
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByText('You are logged out.').waitFor();
    await page.goto(`${hub.url}/console/payments/${paid.id}`);
    assert.equal(new URL(page.url()).pathname, '/console/login');
    await page.context().close();
  });

  it('works without script: log in, filter and open a payment with plain forms and links', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const p = await newPage(context);
    await logIn(p, users.viewer);
    await p.waitForURL(`${hub.url}/console/overview`);
    await p.getByRole('link', { name: 'Payments', exact: true }).click();
    await p.waitForURL(`${hub.url}/console/payments`);
    await p.getByLabel('Status').selectOption('paid');
    await p.getByRole('button', { name: 'Filter' }).click();
    await p.waitForURL(/status=paid/);
    assert.deepEqual(await orderCells(p), ['CON-PAID']);
    await p.getByRole('link', { name: 'CON-PAID' }).click();
    await p.getByRole('heading', { name: 'Payment CON-PAID' }).waitFor();
    await context.close();
  });

  it("a viewer does not see nor open an admin's section", async () => {
    const p = await newPage();
    await logIn(p, users.viewer);
    await p.waitForURL(`${hub.url}/console/overview`);
    assert.deepEqual(await p.getByRole('navigation', { name: 'Sections' }).getByRole('link').allInnerTexts(), navFor('viewer'));
    assert.ok(navFor('viewer').includes('Payments') && !navFor('viewer').includes('Admin tools'));
    const r = await p.goto(`${hub.url}/console/admin-tools`);
    assert.equal(r!.status(), 403);
    await p.getByRole('heading', { name: 'Not allowed' }).waitFor();
    await axe(p);
    await p.context().close();
  });

  it("another merchant's user cannot open this merchant's payment by URL (404), nor list it", async () => {
    const p = await newPage();
    await logIn(p, users.other);
    await p.waitForURL(`${hub.url}/console/overview`);
    await p.goto(`${hub.url}/console/payments`);
    assert.deepEqual(await orderCells(p), ['OTHER-1']);
    const r = await p.goto(`${hub.url}/console/payments/${paid.id}`);
    assert.equal(r!.status(), 404);
    await p.getByRole('heading', { name: 'Not found' }).waitFor();
    await axe(p);
    const csv = await p.context().request.get(`${hub.url}/console/payments/export.csv`);
    assert.ok(!(await csv.text()).includes('CON-'), "the export holds no other merchant's payment");
    await p.context().close();
  });

  it("the operator sees every merchant's payments, in the user's language (Italian)", async () => {
    const p = await newPage();
    await logIn(p, users.operator);
    await p.waitForURL(`${hub.url}/console/overview`);
    await p.goto(`${hub.url}/console/payments`);
    assert.equal(await p.locator('html').getAttribute('lang'), 'it');
    await p.getByRole('heading', { name: 'Pagamenti' }).waitFor();
    await p.getByLabel("ID ordine, e-mail del pagatore o riferimento dell'acquirer").fill('OTHER-1');
    await p.getByRole('button', { name: 'Filtra' }).click();
    await eventually(async () => (await orderCells(p)).join() === 'OTHER-1', 5_000, "B's payment for the operator");
    assert.equal(await p.locator('#results tbody tr td:nth-child(3)').innerText(), B.id, 'the merchant column');
    assert.equal((await p.goto(`${hub.url}/console/payments/${paid.id}`))!.status(), 200);
    assert.equal((await p.goto(`${hub.url}/console/payments/${bPayment}`))!.status(), 200);
    await p.getByLabel('Lingua').selectOption('en');
    await p.getByRole('button', { name: 'Cambia lingua' }).click();
    await p.getByRole('heading', { name: 'Payment OTHER-1' }).waitFor();
    await axe(p);
    await p.context().close();
  });

  it('before login, the page speaks the browser’s language (Romanian)', async () => {
    const context = await browser.newContext({ locale: 'ro-RO' });
    const p = await newPage(context);
    await p.goto(`${hub.url}/console/login`);
    assert.equal(await p.locator('html').getAttribute('lang'), 'ro');
    await p.getByRole('heading', { name: 'Autentificare' }).waitFor();
    await axe(p);
    await context.close();
  });

  it('throttles wrong passwords per account: after five, even the right one waits', async () => {
    const p = await newPage();
    for (let i = 0; i < 5; i++) {
      await logIn(p, users.throttled, 'not the password at all');
      await p.getByRole('alert').filter({ hasText: 'The e-mail or the password is not right.' }).waitFor();
    }
    await logIn(p, users.throttled);
    await p
      .getByRole('alert')
      .filter({ hasText: /Too many failed attempts\. Try again in \d+ seconds\./ })
      .waitFor();
    assert.equal(new URL(p.url()).pathname, '/console/login');
    // Another account from the same browser is not held back.
    assert.ok(await loginCookie(hub.url, users.viewer));
    await p.context().close();
  });

  it('an unknown console page is a 404 page, accessible', async () => {
    const p = await newPage();
    await logIn(p, users.viewer);
    await p.waitForURL(`${hub.url}/console/overview`);
    const r = await p.goto(`${hub.url}/console/nothing-here`);
    assert.equal(r!.status(), 404);
    await axe(p);
    await p.context().close();
  });

  it('no page broke the content security policy or threw, and axe found nothing serious or critical', () => {
    assert.deepEqual(
      pageErrors.filter((e) => !/the server responded with a status of (400|401|403|404|429)/.test(e)),
      [],
    );
    assert.deepEqual(axeFindings, []);
  });
});
