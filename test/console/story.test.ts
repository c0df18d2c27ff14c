import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser } from '../support/browser.js';
import { createShopPayment, DECLINED_CARD, GOOD_CARD, logInPage, makeMerchant, makeUser, PASSWORD, payInNewContext } from '../support/console.js';
import { apiClient, eventually, startTestHub, type TestHub } from '../support/hub.js';
import { watchPages } from '../support/page-watch.js';
import { startWebhookListener } from '../support/webhook-listener.js';

/**
 * The console's must-show, told as one story in headless Chromium (on each store): a merchant's admin logs in;
 * creates a NETOPIA v2 connection from its generated form; watches a NETOPIA v1 payment's page while the payer is
 * declined, then pays, on the emulator's card page (the page updates itself, no reload); filters the list and
 * exports it as CSV; refunds part of a payment (NETOPIA v1 takes no refunds through the hub, so the payment paid
 * through the connection just made) after a confirmation that shows the amount; redelivers a webhook; invites a
 * viewer, who sees no refund button and whose forged POST is refused; another merchant's admin cannot open the
 * payment by its URL (404). axe-core runs on every page; no page breaks the CSP or throws.
 */

let hub: TestHub;
let browser: Browser;
let listener: Awaited<ReturnType<typeof startWebhookListener>>;
let A = { id: '', key: '' };
let B = { id: '', key: '' };
const people = { admin: 'admin@libraria.ro', viewer: 'vanzari@libraria.ro', other: 'admin@altmagazin.ro', ro: 'contabil@libraria.ro' };
const watch = watchPages(() => browser, { viewport: { width: 1280, height: 900 } });
const { pageErrors, axeFindings, newPage, axe } = watch;

before(async () => {
  [hub, browser, listener] = await Promise.all([startTestHub({ outboundAllow: '127.0.0.1' }), launchBrowser(), startWebhookListener()]);
  A = await makeMerchant(hub.url, hub.adminKey, 'Librăria Mică SRL', { netopiaV1: true });
  B = await makeMerchant(hub.url, hub.adminKey, 'Alt Magazin SRL', { netopiaV1: true });
  const wh = await apiClient(hub.url, A.key)('POST', '/v1/webhook-endpoints', { url: listener.url });
  assert.equal(wh.status, 201, JSON.stringify(wh.body));
  listener.setSecret(wh.body.secret);
  await makeUser(hub.url, hub.adminKey, people.admin, 'admin', A.id, 'en');
  await makeUser(hub.url, hub.adminKey, people.other, 'admin', B.id, 'en');
  await makeUser(hub.url, hub.adminKey, people.ro, 'viewer', A.id, 'ro');
});

after(async () => {
  await browser?.close();
  await hub?.close();
  await listener?.close();
});

describe("a merchant's day in the console", () => {
  let admin: Page;
  let story: { id: string; payment_url: string };
  let refundable: { id: string; payment_url: string };

  it('the admin logs in and lands on the overview', async () => {
    admin = await newPage();
    await logInPage(admin, hub.url, people.admin);
    await admin.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    await axe(admin);
  });

  it('creates a NETOPIA v2 connection from its generated form', async () => {
    await admin.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Connections' }).click();
    await admin.getByRole('heading', { name: 'Connections', level: 1 }).waitFor();
    await axe(admin);
    await admin.getByRole('link', { name: 'New connection' }).click();
    await axe(admin);
    await admin.getByRole('link', { name: /NETOPIA Payments \(API v2\)/ }).click();
    await admin.getByRole('heading', { name: /New connection: NETOPIA/ }).waitFor();
    await admin.getByLabel('Code').fill('card-v2');
    await admin.getByLabel('Environment').selectOption('emulator');
    await axe(admin);
    await admin.getByRole('button', { name: 'Create the connection' }).click();
    await admin.getByRole('status').filter({ hasText: 'The connection is created.' }).waitFor();
    await axe(admin);
    const made = await apiClient(hub.url, A.key)('GET', '/v1/connections/card-v2');
    assert.equal(made.status, 200);
    assert.deepEqual([made.body.provider, made.body.environment, made.body.status], ['netopia-v2', 'emulator', 'active']);
  });

  it('watches a NETOPIA v1 payment fail, then succeed, on its page without a reload', async () => {
    story = await createShopPayment(hub.url, A.key, { connection: 'netopia', order: 'STORY-1', returnUrl: listener.shopUrl });
    await admin.goto(`${hub.url}/console/payments/${story.id}`);
    const facts = admin.locator('#payment-facts');
    assert.match(await facts.innerText(), /Status\s+pending/);
    await axe(admin);
    // A mark a reload would wipe.
    await admin.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
    await payInNewContext(browser, story.payment_url, DECLINED_CARD, 'declined');
    await admin.getByRole('heading', { name: 'Attempt 1: failed' }).waitFor({ timeout: 15_000 });
    assert.match(await facts.innerText(), /Status\s+pending/);
    await payInNewContext(browser, story.payment_url, GOOD_CARD, 'paid');
    await admin.getByRole('heading', { name: 'Attempt 2: captured' }).waitFor({ timeout: 15_000 });
    await eventually(async () => /Status\s+paid/.test(await facts.innerText()), 15_000, 'paid on the page');
    // NETOPIA's notifications, their statuses in words.
    await eventually(
      async () => (await admin.locator('#payment-timeline h3').allInnerTexts()).some((h) => /^Received from netopia-v1: applied$/.test(h)),
      15_000,
      'an applied notification on the timeline',
    );
    assert.equal(await admin.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded), true, 'no reload');
    // In Romanian too: the notification's status is in the user's language, not the inbox's word.
    const ro = await newPage();
    await logInPage(ro, hub.url, people.ro);
    await ro.goto(`${hub.url}/console/payments/${story.id}`);
    const headings = await ro.locator('#payment-timeline h3').allInnerTexts();
    assert.ok(headings.includes('Primită de la netopia-v1: aplicată'), headings.join(' | '));
    assert.ok(!headings.some((h) => h.endsWith(': applied')), headings.join(' | '));
    await axe(ro);
    await ro.context().close();
    // NETOPIA v1 refunds are made in NETOPIA's own panel: the page says so instead of offering a button.
    assert.match(await admin.locator('#payment-actions').innerText(), /does not take refunds through the hub/);
    await axe(admin);
  });

  it('filters the list and exports what it shows as CSV', async () => {
    await createShopPayment(hub.url, A.key, { connection: 'netopia', order: 'STORY-2', amount: 1500, returnUrl: listener.shopUrl });
    await admin.goto(`${hub.url}/console/payments`);
    const orders = () => admin.locator('#results tbody tr td:nth-child(2)').allInnerTexts();
    await eventually(async () => (await orders()).sort().join() === 'STORY-1,STORY-2', 5_000, 'both payments listed');
    await axe(admin);
    await admin.getByLabel('Status').selectOption('paid');
    await admin.getByRole('button', { name: 'Filter' }).click();
    await admin.waitForURL(/status=paid/);
    await eventually(async () => (await orders()).join() === 'STORY-1', 5_000, 'only the paid payment');
    await axe(admin);
    const [download] = await Promise.all([admin.waitForEvent('download'), admin.getByRole('link', { name: 'Export as CSV' }).click()]);
    assert.match(download.suggestedFilename(), /^payments-\d{4}-\d{2}-\d{2}\.csv$/);
    const lines = (await readFile((await download.path())!, 'utf8')).trim().split('\r\n');
    assert.match(lines[0]!, /^id,created_at,merchant_id,order_id,status,amount,/);
    assert.equal(lines.length, 2, lines.join('\n'));
    assert.ok(lines[1]!.includes('"STORY-1"') && lines[1]!.includes('"paid"') && lines[1]!.includes('"49.90"'), lines[1]);
  });

  it('refunds part of a payment after a confirmation that shows the amount', async () => {
    refundable = await createShopPayment(hub.url, A.key, { connection: 'card-v2', order: 'STORY-3', amount: 5000, returnUrl: listener.shopUrl });
    const payer = await browser.newContext();
    const p = await payer.newPage();
    await p.goto(refundable.payment_url);
    await p.getByLabel(/^Card number$/).fill(GOOD_CARD);
    await p.getByLabel(/^Expiry date$/).fill('12/30');
    await p.getByLabel('CVV').fill('111');
    await p.getByRole('button', { name: 'Pay' }).click();
    await p.waitForURL((u) => u.pathname.endsWith('/return') || u.pathname.startsWith('/shop/'));
    await payer.close();
    await eventually(async () => (await apiClient(hub.url, A.key)('GET', `/v1/payments/${refundable.id}`)).body.status === 'paid', 15_000, 'paid');
    await admin.goto(`${hub.url}/console/payments/${refundable.id}`);
    await admin.getByLabel('Amount to refund (RON)').fill('12.50');
    await admin.getByRole('button', { name: 'Review the refund' }).click();
    await admin.getByRole('heading', { name: 'Confirm the refund' }).waitFor();
    assert.match(await admin.locator('main').innerText(), /You are about to refund 12\.50 RON of payment STORY-3 to the payer\./);
    assert.deepEqual((await apiClient(hub.url, A.key)('GET', `/v1/payments/${refundable.id}/refunds`)).body.data, [], 'nothing before the confirmation');
    await axe(admin);
    await admin.getByRole('button', { name: 'Refund 12.50 RON' }).click();
    await admin.getByRole('status').filter({ hasText: 'Refund of 12.50 RON: succeeded.' }).waitFor();
    assert.match(await admin.locator('#payment-facts').innerText(), /Refunded\s+12\.50 RON/);
    await axe(admin);
    const payment = (await apiClient(hub.url, A.key)('GET', `/v1/payments/${refundable.id}`)).body;
    assert.deepEqual([payment.status, payment.amount_refunded], ['partially_refunded', 1250]);
  });

  it('redelivers the webhook of the payment paid', async () => {
    await eventually(() => listener.received.some((w) => w.event.type === 'payment.paid' && w.event.data.id === story.id), 15_000, 'payment.paid delivered');
    const paid = listener.received.find((w) => w.event.type === 'payment.paid' && w.event.data.id === story.id)!;
    const before = listener.received.filter((w) => w.id === paid.id).length;
    await admin.goto(`${hub.url}/console/payments/${story.id}`);
    const item = admin.locator('#payment-timeline li').filter({ has: admin.getByRole('heading', { name: 'Event payment.paid' }) });
    await item.getByRole('button', { name: `Redeliver to ${listener.url}` }).click();
    await admin.getByRole('status').filter({ hasText: 'The delivery is queued again' }).waitFor();
    await eventually(() => listener.received.filter((w) => w.id === paid.id).length === before + 1, 15_000, 'the redelivery');
    assert.ok(listener.received.filter((w) => w.id === paid.id).at(-1)!.validSignature, 'signed');
    await axe(admin);
  });

  it('invites a viewer, who sees no refund button and whose forged refund is refused', async () => {
    await admin.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Team' }).click();
    await admin.getByLabel('E-mail').fill(people.viewer);
    await admin.getByLabel('Role', { exact: true }).selectOption('viewer');
    await admin.getByRole('button', { name: 'Invite' }).click();
    const link = await admin.getByLabel('One-time link to set the password').inputValue();
    assert.match(link, /\/console\/set-password\?token=/);
    await axe(admin);
    // Shown once: a reload neither shows the link again nor invites again.
    await admin.reload();
    await admin.getByRole('status').filter({ hasText: 'is not shown again' }).waitFor();
    assert.equal(await admin.getByLabel('One-time link to set the password').count(), 0);
    assert.ok(!(await admin.content()).includes(new URL(link).searchParams.get('token')!));
    const viewer = await newPage();
    await viewer.goto(link);
    await viewer.getByLabel('New password').fill(PASSWORD);
    await viewer.getByLabel('Repeat the password').fill(PASSWORD);
    await viewer.getByRole('button', { name: 'Save the password' }).click();
    await viewer.getByRole('status').filter({ hasText: 'Your password is set' }).waitFor();
    await axe(viewer);
    await logInPage(viewer, hub.url, people.viewer);
    await viewer.goto(`${hub.url}/console/payments/${refundable.id}`);
    await viewer.getByRole('heading', { name: 'Payment STORY-3' }).waitFor();
    assert.equal(await viewer.getByRole('button', { name: /refund/i }).count(), 0, 'no refund button');
    assert.equal(await viewer.locator('main button').count(), 0, 'no action at all');
    await axe(viewer);
    const csrf = await viewer.locator('input[name="_csrf"]').first().inputValue();
    const forged = await viewer.context().request.post(`${hub.url}/console/payments/${refundable.id}/refund`, {
      form: { _csrf: csrf, amount_minor: '100', currency: 'RON', seen: '1' },
      headers: { origin: hub.url },
      maxRedirects: 0,
    });
    assert.equal(forged.status(), 403);
    const refunds = (await apiClient(hub.url, A.key)('GET', `/v1/payments/${refundable.id}/refunds`)).body.data as Array<{ amount: number }>;
    assert.deepEqual(
      refunds.map((r) => r.amount),
      [1250],
      'no refund made by the viewer',
    );
    await viewer.context().close();
  });

  it("another merchant's admin cannot open the payment by its URL (404)", async () => {
    const other = await newPage();
    await logInPage(other, hub.url, people.other);
    const r = await other.goto(`${hub.url}/console/payments/${story.id}`);
    assert.equal(r!.status(), 404);
    await other.getByRole('heading', { name: 'Not found' }).waitFor();
    assert.ok(!(await other.content()).includes('STORY-1'), 'nothing of the payment shows');
    await axe(other);
    const csrf = await other.locator('input[name="_csrf"]').first().inputValue();
    const refund = await other.context().request.post(`${hub.url}/console/payments/${refundable.id}/refund`, {
      form: { _csrf: csrf, amount_minor: '100', currency: 'RON', seen: '1' },
      headers: { origin: hub.url },
      maxRedirects: 0,
    });
    assert.equal(refund.status(), 404);
    // Their own list does not show it either.
    await other.goto(`${hub.url}/console/payments`);
    assert.equal(await other.locator('#results tbody tr').count(), 0);
    await axe(other);
    await other.context().close();
  });

  it('no page broke the content security policy or threw, and axe found nothing serious or critical', () => {
    assert.deepEqual(
      pageErrors.filter((e) => !/the server responded with a status of (403|404)/.test(e)),
      [],
    );
    assert.deepEqual(axeFindings, []);
  });
});
