import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser } from '../support/browser.js';
import { makeMerchant, makeUser, PASSWORD } from '../support/console.js';
import { apiClient, eventually, startTestHub, type TestHub } from '../support/hub.js';
import { startWebhookListener, verifyStandardWebhook } from '../support/webhook-listener.js';
import { watchPages } from '../support/page-watch.js';

/**
 * The console's Webhooks section in headless Chromium: an admin adds an endpoint and sees its signing secret once
 * (a reload shows the endpoint, not the secret); a real NETOPIA v1 payment's deliveries and attempts show in the
 * log with the listener's answer; a failing listener's attempt shows, and redelivering reaches it again, signed with
 * the secret shown; rotating gives a new secret the next delivery verifies with (and the old one still does for the
 * overlap); a disabled endpoint gets nothing more; an internal URL is refused; a viewer has no buttons and a forged
 * POST is refused; another merchant's endpoint and delivery answer 404; the operator picks the merchant; the log
 * pages with a cursor. axe-core on every page, and no Content-Security-Policy violation anywhere.
 */

let hub: TestHub;
let browser: Browser;
let failing = false;
let listener: Awaited<ReturnType<typeof startWebhookListener>>;
/** A second endpoint of the same merchant: shows that the hub did deliver an event the disabled endpoint did not get. */
let witness: Awaited<ReturnType<typeof startWebhookListener>>;
const A = { id: '', key: '' };
const B = { id: '', key: '' };
const users = { admin: '', viewer: '', other: '', operator: '' };
const watch = watchPages(() => browser);
const { pageErrors, axeFindings, newPage, axe } = watch;
const SHOTS = process.env.INCASSO_CONSOLE_SHOTS;
let adminPage: Page;
let endpointId = '';
let secret = '';
let orderNumber = 0;

async function shot(page: Page, name: string) {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
}

async function logIn(email: string): Promise<Page> {
  const page = await newPage();
  await page.goto(`${hub.url}/console/login`);
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL(/\/console\/overview$/);
  return page;
}

/** A payment of merchant A through the API (its `payment.created` event is delivered). */
async function createPayment(): Promise<string> {
  orderNumber++;
  const r = await apiClient(hub.url, A.key)('POST', '/v1/payments', {
    connection: 'netopia',
    order_id: `WH-${orderNumber}`,
    amount: 1250,
    currency: 'RON',
    description: `Comanda WH-${orderNumber}`,
    billing: { first_name: 'Ioana', last_name: 'Pop', email: 'ioana@example.ro', phone: '0722000111', address: 'Str. Mare 1', city: 'Cluj', country: 'RO' },
    return_url: listener.shopUrl,
    metadata: { language: 'en' },
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.id as string;
}

const deliveriesTo = (l: typeof listener, paymentId: string, type = 'payment.created') =>
  l.received.filter((w) => w.event.type === type && w.event.data?.id === paymentId);

/** The log's row of one payment's event, by the payment's link in it. */
const logRow = (page: Page, paymentId: string, type: string) =>
  page
    .locator('tbody tr')
    .filter({ has: page.locator(`a[href="/console/payments/${paymentId}"]`) })
    .filter({ hasText: type });

async function endpointsOfA() {
  const r = await apiClient(hub.url, A.key)('GET', '/v1/webhook-endpoints');
  return r.body.data as Array<{ id: string; url: string; status: string; updated_at: string; events: string[] }>;
}

before(async () => {
  [hub, browser, listener, witness] = await Promise.all([
    // A long retry schedule: a failed delivery waits (visibly) for the next attempt instead of being retried at once.
    startTestHub({ outboundAllow: '127.0.0.1', webhookRetryScale: 100 }),
    launchBrowser(),
    startWebhookListener({ respond: () => (failing ? 500 : 200) }),
    startWebhookListener(),
  ]);
  Object.assign(A, await makeMerchant(hub.url, hub.adminKey, 'Librăria Mică SRL', { netopiaV1: true }));
  Object.assign(B, await makeMerchant(hub.url, hub.adminKey, 'Alt Magazin SRL', { netopiaV1: true }));
  const w = await apiClient(hub.url, A.key)('POST', '/v1/webhook-endpoints', { url: witness.url, events: ['payment.created'] });
  witness.setSecret(w.body.secret);
  users.admin = (await makeUser(hub.url, hub.adminKey, 'admin@libraria.ro', 'admin', A.id)).email;
  users.viewer = (await makeUser(hub.url, hub.adminKey, 'viewer@libraria.ro', 'viewer', A.id)).email;
  users.other = (await makeUser(hub.url, hub.adminKey, 'admin@altmagazin.ro', 'admin', B.id)).email;
  users.operator = (await makeUser(hub.url, hub.adminKey, 'ops@hub.example', 'operator', null)).email;
});

after(async () => {
  await browser?.close();
  await hub?.close();
  await listener?.close();
  await witness?.close();
});

describe('the Webhooks section in a browser', () => {
  it('an admin adds an endpoint: the signing secret is shown once, and a reload shows the endpoint without it', async () => {
    adminPage = await logIn(users.admin);
    const page = adminPage;
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Webhooks' }).click();
    await page.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
    assert.ok((await page.locator('main table').innerText()).includes(witness.url), 'the endpoint made through the API is listed');
    await axe(page);
    await page.getByLabel('URL').fill(listener.url);
    assert.equal(await page.getByLabel('All events').isChecked(), true, 'all events by default');
    await page.getByRole('button', { name: 'Add the endpoint' }).click();
    await page.getByRole('heading', { name: 'Endpoint created' }).waitFor();
    secret = await page.getByLabel('Signing secret').inputValue();
    assert.match(secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
    assert.match(await page.locator('main').innerText(), /you will not see it again/);
    listener.setSecret(secret);
    await axe(page);
    await shot(page, '1-secret-once');
    const made = (await endpointsOfA()).find((e) => e.url === listener.url)!;
    assert.deepEqual(made.events, ['*']);
    endpointId = made.id;
    // The address is the endpoint's page now: reloading it shows the endpoint, never the secret.
    assert.equal(new URL(page.url()).pathname, `/console/webhooks/endpoints/${endpointId}`);
    const count = (await endpointsOfA()).length;
    await page.reload();
    await page.getByRole('status').filter({ hasText: 'is not shown again' }).waitFor();
    assert.equal((await endpointsOfA()).length, count, 'the reload made no second endpoint');
    await page.getByRole('heading', { name: 'Webhook endpoint' }).waitFor();
    assert.equal(await page.getByLabel('Signing secret').count(), 0);
    assert.ok(!(await page.content()).includes(secret.slice(6, 30)), 'the secret is not on the page any more');
    await page.goto(`${hub.url}/console/webhooks`);
    assert.match(await page.locator('main table').innerText(), new RegExp(`${listener.url.replace(/[.]/g, '\\.')}\\s+All events\\s+active`));
    assert.ok(!(await page.content()).includes(secret.slice(6, 30)));
  });

  it("shows a real payment's deliveries and each attempt with the listener's answer", async () => {
    const page = adminPage;
    const r = await apiClient(hub.url, A.key)('POST', '/v1/payments', {
      connection: 'netopia',
      order_id: 'WH-PAID',
      amount: 4990,
      currency: 'RON',
      description: 'Comanda WH-PAID',
      billing: { first_name: 'Ioana', last_name: 'Pop', email: 'ioana@example.ro', phone: '0722000111', address: 'Str. Mare 1', city: 'Cluj', country: 'RO' },
      return_url: listener.shopUrl,
      metadata: { language: 'en' },
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const payer = await newPage();
    await payer.goto(r.body.payment_url);
    await payer.getByLabel('Card number').fill('9900004810225098');
    await payer.getByLabel('Expiry date').fill('12/30');
    await payer.getByLabel('CVV').fill('111');
    await payer.getByRole('button', { name: 'Pay', exact: true }).click();
    await payer.waitForURL(/\/shop\/thanks\?/);
    await payer.context().close();
    const paid = await eventually(() => deliveriesTo(listener, r.body.id, 'payment.paid')[0], 10_000, 'payment.paid delivered');
    assert.ok(paid.validSignature, 'signed with the secret the console showed');
    await page.goto(`${hub.url}/console/webhooks/endpoints/${endpointId}`);
    const row = logRow(page, r.body.id, 'payment.paid');
    assert.match(await row.innerText(), /payment\.paid\s+WH-PAID\s+succeeded\s+1\s+HTTP 200\s+—/);
    assert.equal(await logRow(page, r.body.id, 'payment.created').count(), 1, 'the payment.created delivery too');
    await axe(page);
    await shot(page, '2-endpoint-log');
    await row.getByRole('link', { name: /Details/ }).click();
    await page.getByRole('heading', { name: 'Delivery of payment.paid' }).waitFor();
    assert.match(await page.locator('dl.facts').innerText(), new RegExp(`Event id \\(webhook-id\\)\\s+${paid.id}`));
    const attempts = await page.locator('main table tbody tr').allInnerTexts();
    assert.equal(attempts.length, 1);
    assert.match(attempts[0]!, /^1\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\s+200\s+\d+ ms\s+ok$/);
    await axe(page);
  });

  it('a failing listener: the failed attempt shows, and redelivering reaches the listener again, signed with the secret shown', async () => {
    const page = adminPage;
    failing = true;
    const calls = listener.calls;
    const paymentId = await createPayment();
    await eventually(() => listener.calls > calls, 10_000, 'the failed attempt');
    await page.goto(`${hub.url}/console/webhooks/deliveries`);
    await page.getByRole('heading', { name: 'Delivery log (all endpoints)' }).waitFor();
    const row = logRow(page, paymentId, listener.url);
    await eventually(async () => (await row.count()) === 1 || (await page.reload(), false), 5_000, 'the failed delivery in the log');
    assert.match(await row.innerText(), /payment\.created\s+WH-\d+\s+\S+\s+pending\s+1\s+HTTP 500\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
    await axe(page);
    await shot(page, '3-log-failed');
    await row.getByRole('link', { name: /Details/ }).click();
    await page.getByRole('heading', { name: 'Delivery of payment.created' }).waitFor();
    assert.match((await page.locator('main table tbody tr').allInnerTexts())[0]!, /^1\s+.+UTC\s+500\s+\d+ ms\s+HTTP 500\s+nope$/);
    failing = false;
    await page.getByRole('button', { name: 'Redeliver' }).click();
    await page.getByRole('status').filter({ hasText: 'The delivery is queued again' }).waitFor();
    const got = await eventually(() => deliveriesTo(listener, paymentId)[0], 10_000, 'the redelivery');
    assert.ok(verifyStandardWebhook(secret, got.id, got.timestamp, got.body, got.signature), 'verifies with the secret the console showed');
    await eventually(
      async () => {
        await page.reload();
        return /Status\s+succeeded\s+Attempts\s+2/.test(await page.locator('dl.facts').innerText());
      },
      5_000,
      'the delivery succeeded on its second attempt',
    );
    const attempts = await page.locator('main table tbody tr').allInnerTexts();
    assert.equal(attempts.length, 2);
    assert.match(attempts[1]!, /^2\s+.+UTC\s+200\s+\d+ ms\s+ok$/);
    await axe(page);
    await shot(page, '4-delivery-attempts');
  });

  it('rotates the secret: the new one is shown once, the next delivery verifies with it (and with the old one for 24 hours)', async () => {
    const page = adminPage;
    await page.goto(`${hub.url}/console/webhooks/endpoints/${endpointId}`);
    await page.getByRole('button', { name: 'Rotate the secret' }).click();
    await page.getByRole('heading', { name: 'New signing secret' }).waitFor();
    const rotated = await page.getByLabel('Signing secret').inputValue();
    assert.match(rotated, /^whsec_/);
    assert.notEqual(rotated, secret);
    assert.match(await page.locator('main').innerText(), /The previous secret stays valid until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(24 hours\)/);
    await axe(page);
    await shot(page, '5-rotated');
    await page.reload();
    await page.getByRole('heading', { name: 'Webhook endpoint' }).waitFor();
    assert.equal(await page.getByLabel('Signing secret').count(), 0);
    assert.match(await page.locator('dl.facts').innerText(), /Previous secret valid until\s+\d{4}-/);
    const paymentId = await createPayment();
    const got = await eventually(() => deliveriesTo(listener, paymentId)[0], 10_000, 'the delivery after the rotation');
    assert.ok(verifyStandardWebhook(rotated, got.id, got.timestamp, got.body, got.signature), 'verifies with the new secret');
    assert.ok(verifyStandardWebhook(secret, got.id, got.timestamp, got.body, got.signature), 'and with the old one during the overlap');
    assert.equal(got.signature.split(' ').length, 2);
    secret = rotated;
    listener.setSecret(rotated);
  });

  it('an internal URL is refused with a clear message, and nothing is created', async () => {
    const page = adminPage;
    const before = (await endpointsOfA()).length;
    await page.goto(`${hub.url}/console/webhooks`);
    await page.getByLabel('URL').fill('http://169.254.169.254/latest/meta-data/');
    await page.getByRole('button', { name: 'Add the endpoint' }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'This URL is refused' });
    await alert.waitFor();
    assert.match(await alert.innerText(), /internal address .*169\.254\.169\.254.*public addresses only/);
    assert.equal(await page.getByLabel('URL').inputValue(), 'http://169.254.169.254/latest/meta-data/', 'the form keeps what was typed');
    assert.equal(await page.getByLabel('URL').getAttribute('aria-invalid'), 'true');
    assert.equal((await endpointsOfA()).length, before);
    await axe(page);
    await shot(page, '6-internal-url-refused');
    // Without script too: the form posts and the answer says why, with a 400.
    const context = await browser.newContext({ javaScriptEnabled: false });
    const plain = await newPage(context);
    await plain.goto(`${hub.url}/console/login`);
    await plain.getByLabel('E-mail').fill(users.admin);
    await plain.getByLabel('Password').fill(PASSWORD);
    await plain.getByRole('button', { name: 'Log in' }).click();
    await plain.goto(`${hub.url}/console/webhooks`);
    await plain.getByLabel('URL').fill('http://10.0.0.7/hooks');
    const [answer] = await Promise.all([
      plain.waitForResponse((r) => r.request().method() === 'POST'),
      plain.getByRole('button', { name: 'Add the endpoint' }).click(),
    ]);
    assert.equal(answer.status(), 400);
    await plain.getByRole('alert').filter({ hasText: 'This URL is refused' }).waitFor();
    await context.close();
  });

  it('disabling stops the deliveries; enabling makes the endpoint active again', async () => {
    const page = adminPage;
    await page.goto(`${hub.url}/console/webhooks/endpoints/${endpointId}`);
    await page.getByRole('button', { name: 'Disable the endpoint' }).click();
    await page.getByRole('status').filter({ hasText: 'The endpoint is disabled' }).waitFor();
    assert.match(await page.locator('dl.facts').innerText(), /Status\s+disabled/);
    await shot(page, '7-disabled');
    const calls = listener.calls;
    const paymentId = await createPayment();
    // The witness endpoint gets the event: the hub delivered it, and not to the disabled endpoint.
    await eventually(() => deliveriesTo(witness, paymentId)[0], 10_000, "the witness's delivery");
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(listener.calls, calls, 'the disabled endpoint got nothing');
    // Its deliveries cannot be sent again while it is disabled.
    await page.goto(`${hub.url}/console/webhooks/endpoints/${endpointId}`);
    await page
      .locator('tbody tr')
      .first()
      .getByRole('link', { name: /Details/ })
      .click();
    await page.getByText('The endpoint is disabled: enable it to redeliver.').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Redeliver' }).count(), 0);
    await axe(page);
    await page.goto(`${hub.url}/console/webhooks/endpoints/${endpointId}`);
    await page.getByRole('button', { name: 'Enable the endpoint' }).click();
    await page.getByRole('status').filter({ hasText: 'The endpoint is enabled.' }).waitFor();
    assert.equal((await endpointsOfA()).find((e) => e.id === endpointId)!.status, 'active');
    const next = await createPayment();
    const got = await eventually(() => deliveriesTo(listener, next)[0], 10_000, 'a delivery once enabled again');
    assert.ok(got.validSignature);
  });

  it('the log pages with a cursor: 25 a page, the next page holds the rest, nothing twice', async () => {
    const page = adminPage;
    for (let i = 0; i < 12; i++) await createPayment();
    const endpoints = await endpointsOfA();
    const all = new Set<string>();
    for (const e of endpoints) {
      const r = await apiClient(hub.url, A.key)('GET', `/v1/webhook-endpoints/${e.id}/deliveries`);
      for (const d of r.body.data) all.add(d.id);
    }
    assert.ok(all.size > 25 && all.size <= 50, `${all.size} deliveries`);
    const idsOnPage = async () =>
      (await page
        .locator('tbody tr a[href*="/deliveries/whd_"]')
        .evaluateAll((links) => links.map((a) => (a as HTMLAnchorElement).pathname.split('/').pop()!))) as string[];
    await page.goto(`${hub.url}/console/webhooks/deliveries`);
    const first = await idsOnPage();
    assert.equal(first.length, 25);
    await page.getByRole('link', { name: 'Next page' }).click();
    await page.waitForURL(/after=whd_/);
    const second = await idsOnPage();
    assert.equal(await page.getByRole('link', { name: 'Next page' }).count(), 0);
    assert.equal(new Set([...first, ...second]).size, first.length + second.length, 'no delivery twice');
    assert.deepEqual(new Set([...first, ...second]), all, 'every delivery once');
    await page.getByRole('link', { name: 'First page' }).waitFor();
    await axe(page);
    assert.equal((await page.goto(`${hub.url}/console/webhooks/deliveries?after=nonsense`))!.status(), 400);
  });

  it('a viewer sees everything but no button, and a forged POST is refused', async () => {
    const page = await logIn(users.viewer);
    await page.goto(`${hub.url}/console/webhooks`);
    assert.ok((await page.locator('main table').innerText()).includes(listener.url));
    assert.equal(await page.getByRole('button', { name: 'Add the endpoint' }).count(), 0);
    assert.equal(await page.getByLabel('URL').count(), 0);
    await page.getByText('Your role can see the webhooks but not change them.').waitFor();
    await axe(page);
    await page.goto(`${hub.url}/console/webhooks/endpoints/${endpointId}`);
    assert.equal(await page.locator('main button').count(), 0, 'no button on the endpoint');
    await page
      .locator('tbody tr')
      .first()
      .getByRole('link', { name: /Details/ })
      .click();
    await page.getByRole('heading', { name: /^Delivery of / }).waitFor();
    const deliveryPath = new URL(page.url()).pathname;
    assert.equal(await page.locator('main button').count(), 0, 'no Redeliver');
    await shot(page, '8-viewer-delivery');
    // The session's own token, from its logout form: the refusal is the role's, not the anti-forgery check's.
    const csrf = await page.locator('header input[name="_csrf"]').first().inputValue();
    const before = (await endpointsOfA()).find((e) => e.id === endpointId)!;
    const request = page.context().request;
    const post = (path: string, form: Record<string, string>) =>
      request.post(`${hub.url}${path}`, { form: { _csrf: csrf, ...form }, headers: { origin: hub.url }, maxRedirects: 0 });
    assert.equal((await post(`/console/webhooks/endpoints/${endpointId}/rotate`, {})).status(), 403);
    assert.equal((await post(`/console/webhooks/endpoints/${endpointId}/status`, { status: 'disabled' })).status(), 403);
    assert.equal((await post(`${deliveryPath}/redeliver`, {})).status(), 403);
    const made = await post('/console/webhooks/endpoints', { url: 'https://viewer.example.ro/hooks', all_events: '1' });
    assert.equal(made.status(), 403);
    assert.ok(!(await made.text()).includes('whsec_'));
    const afterwards = await endpointsOfA();
    assert.deepEqual(
      afterwards.find((e) => e.id === endpointId),
      before,
      'the endpoint is unchanged (same status, same update time: no rotation)',
    );
    assert.ok(!afterwards.some((e) => e.url === 'https://viewer.example.ro/hooks'));
    await page.context().close();
  });

  it("another merchant's admin: this merchant's endpoint and delivery answer 404, by URL and by POST", async () => {
    const deliveries = (await apiClient(hub.url, A.key)('GET', `/v1/webhook-endpoints/${endpointId}/deliveries`)).body.data as Array<{ id: string }>;
    const deliveryId = deliveries[0]!.id;
    const page = await logIn(users.other);
    await page.goto(`${hub.url}/console/webhooks`);
    await page.getByRole('status').filter({ hasText: 'No endpoint yet' }).waitFor();
    for (const path of [`/console/webhooks/endpoints/${endpointId}`, `/console/webhooks/deliveries/${deliveryId}`]) {
      const r = await page.goto(`${hub.url}${path}`);
      assert.equal(r!.status(), 404, path);
      await page.getByRole('heading', { name: 'Not found' }).waitFor();
    }
    await axe(page);
    await page.goto(`${hub.url}/console/webhooks/deliveries`);
    await page.getByRole('status').filter({ hasText: 'No delivery yet.' }).waitFor();
    const csrf = await page.locator('header input[name="_csrf"]').first().inputValue();
    const request = page.context().request;
    for (const path of [
      `/console/webhooks/endpoints/${endpointId}/rotate`,
      `/console/webhooks/endpoints/${endpointId}/status`,
      `/console/webhooks/deliveries/${deliveryId}/redeliver`,
    ]) {
      const r = await request.post(`${hub.url}${path}`, { form: { _csrf: csrf, status: 'disabled' }, headers: { origin: hub.url }, maxRedirects: 0 });
      assert.equal(r.status(), 404, path);
    }
    assert.equal((await endpointsOfA()).find((e) => e.id === endpointId)!.status, 'active');
    await page.context().close();
  });

  it('the operator picks the merchant, then sees and acts on its webhooks', async () => {
    const page = await logIn(users.operator);
    await page.goto(`${hub.url}/console/webhooks`);
    await page.getByText('Choose the merchant whose webhooks you want to see.').waitFor();
    await axe(page);
    await page.getByLabel('Merchant').selectOption(A.id);
    await page.getByRole('button', { name: 'Show' }).click();
    await page.waitForURL(new RegExp(`merchant=${A.id}`));
    assert.ok((await page.locator('main table').innerText()).includes(listener.url));
    await page.getByText(`Merchant: Librăria Mică SRL (${A.id})`).waitFor();
    await shot(page, '9-operator-list');
    await page.getByRole('link', { name: listener.url }).click();
    await page.getByRole('heading', { name: 'Webhook endpoint' }).waitFor();
    await page
      .locator('tbody tr')
      .first()
      .getByRole('link', { name: /Details/ })
      .click();
    await page.getByRole('heading', { name: /^Delivery of / }).waitFor();
    const calls = listener.calls;
    await page.getByRole('button', { name: 'Redeliver' }).click();
    await page.getByRole('status').filter({ hasText: 'The delivery is queued again' }).waitFor();
    await eventually(() => listener.calls > calls, 10_000, "the operator's redelivery");
    assert.equal((await page.goto(`${hub.url}/console/webhooks/endpoints/${endpointId}?merchant=${B.id}`))!.status(), 404, 'under the wrong merchant');
    await page.context().close();
  });

  it('no page broke the content security policy or threw, and axe found nothing serious or critical', () => {
    assert.deepEqual(
      pageErrors.filter((e) => !/the server responded with a status of (400|403|404)/.test(e)),
      [],
    );
    assert.deepEqual(axeFindings, []);
  });
});
