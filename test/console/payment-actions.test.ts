import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { openStore, type Store } from '../../src/store/store.js';
import { launchBrowser } from '../support/browser.js';
import { createShopPayment, loginCookie, logInPage, makeUser, payInNewContext as payInCardPage, payOnCardPage, postForm } from '../support/console.js';
import { apiClient, eventually, startTestHub, type TestHub } from '../support/hub.js';
import { freshStoreOptions, TEST_STORE } from '../support/store.js';
import { startWebhookListener } from '../support/webhook-listener.js';
import { watchPages } from '../support/page-watch.js';

/**
 * The payment page's actions and live updates in headless Chromium: a page open on one hub updates by itself when
 * the payment is paid through another hub on the same database (a declined attempt, then the paid one); a partial
 * refund through the confirmation page (NETOPIA v2, which refunds through its API) shows on the timeline and in
 * the API, once even when the confirmation is submitted twice; refusals in the user's language (above what
 * remains, a processor without API refunds, a payment no longer cancelable); cancel; redeliver to a webhook
 * listener; a viewer sees no action and its forged POSTs are refused; another merchant's payment answers 404 to
 * every action; the amount filter; times in the browser's time zone; the live streams' limits and their end at
 * logout. axe on every page, no CSP violation.
 */

const SHOTS = '/tmp/shots-console-actions';
let shared: Store;
let second: Store;
let one: TestHub;
let two: TestHub;
let browser: Browser;
let listener: Awaited<ReturnType<typeof startWebhookListener>>;
const A = { id: '', key: '' };
const B = { id: '', key: '' };
const users = { admin: '', viewer: '', other: '' };
let endpointId = '';
const watch = watchPages(() => browser);
const { pageErrors, axeFindings, newPage, axe } = watch;

async function shot(page: Page, name: string) {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: `${SHOTS}/${TEST_STORE}-${name}.png`, fullPage: true });
}

const logIn = (page: Page, email: string, hubUrl = one.url) => logInPage(page, hubUrl, email);
const payInNewContext = (url: string, pan: string, expect: 'paid' | 'declined') => payInCardPage(browser, url, pan, expect);

/** The id of the delivery of a payment's `payment.paid` event to the listener. */
async function paidDeliveryOf(paymentId: string): Promise<string> {
  const paidEvent = listener.received.find((w) => w.event.type === 'payment.paid' && w.event.data.id === paymentId)!;
  const deliveries = (await apiClient(one.url, A.key)('GET', `/v1/webhook-endpoints/${endpointId}/deliveries`)).body.data as Array<{
    id: string;
    event_id: string;
  }>;
  const delivery = deliveries.find((d) => d.event_id === paidEvent.event.id);
  assert.ok(delivery, 'the delivery of payment.paid');
  return delivery.id;
}

/** The console's anti-forgery token as the page carries it. */
const csrfOf = (page: Page) => page.locator('input[name="_csrf"]').first().inputValue();

before(async () => {
  // PostgreSQL: two stores (two pools) on one schema, as two processes would have; PGlite: one store, two hubs.
  const options = freshStoreOptions();
  shared = await openStore(options);
  second = TEST_STORE === 'postgres' ? await openStore(options) : shared;
  // One vault key, as processes of one installation have: hub two reads the connections hub one made.
  const masterKey = randomBytes(32).toString('hex');
  [one, two, browser, listener] = await Promise.all([
    startTestHub({ store: shared, outboundAllow: '127.0.0.1', masterKey }),
    startTestHub({ store: second, outboundAllow: '127.0.0.1', masterKey }),
    launchBrowser(),
    startWebhookListener(),
  ]);
  const admin = apiClient(one.url, one.adminKey);
  for (const [m, name] of [
    [A, 'Librăria Mică SRL'],
    [B, 'Alt Magazin SRL'],
  ] as const) {
    const r = await admin('POST', '/v1/merchants', { name });
    m.id = r.body.id;
    m.key = r.body.api_key;
    for (const [code, provider] of [
      ['v1', 'netopia-v1'],
      ['v2', 'netopia-v2'],
    ]) {
      const c = await apiClient(one.url, m.key)('POST', '/v1/connections', { code, provider, environment: 'emulator' });
      assert.equal(c.status, 201, JSON.stringify(c.body));
    }
  }
  const wh = await apiClient(one.url, A.key)('POST', '/v1/webhook-endpoints', { url: listener.url });
  listener.setSecret(wh.body.secret);
  endpointId = wh.body.id;
  users.admin = (await makeUser(one.url, one.adminKey, 'admin@libraria.ro', 'admin', A.id)).email;
  users.viewer = (await makeUser(one.url, one.adminKey, 'viewer@libraria.ro', 'viewer', A.id)).email;
  users.other = (await makeUser(one.url, one.adminKey, 'admin@altmagazin.ro', 'admin', B.id)).email;
});

after(async () => {
  await browser?.close();
  await one?.close();
  await two?.close();
  if (second && second !== shared) await second.close();
  await shared?.close();
  await listener?.close();
});

describe('a payment page in the console', () => {
  let admin: Page;
  let live: { id: string; payment_url: string };
  let refundable: { id: string; payment_url: string };

  it('updates by itself when the payment changes on another hub: a declined attempt, then paid', async () => {
    // Made, declined and paid through hub two; the page is open on hub one.
    live = await createShopPayment(two.url, A.key, { connection: 'v1', order: 'LIVE-1', returnUrl: listener.shopUrl });
    admin = await newPage();
    await logIn(admin, users.admin);
    await admin.goto(`${one.url}/console/payments/${live.id}`);
    const facts = admin.locator('#payment-facts');
    assert.match(await facts.innerText(), /Status\s+pending/);
    await admin.getByRole('button', { name: 'Cancel this payment' }).waitFor();
    await axe(admin);
    // A mark that a reload would wipe.
    await admin.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
    await payInNewContext(live.payment_url, '9900518572831942', 'declined');
    await admin.getByRole('heading', { name: 'Attempt 1: failed' }).waitFor({ timeout: 10_000 });
    assert.match(await facts.innerText(), /Status\s+pending/);
    await payInNewContext(live.payment_url, '9900004810225098', 'paid');
    await admin.getByRole('heading', { name: 'Attempt 2: captured' }).waitFor({ timeout: 10_000 });
    await eventually(async () => /Status\s+paid/.test(await admin.locator('#payment-facts').innerText()), 10_000, 'the status on the page');
    await admin.getByRole('heading', { name: 'Event payment.paid' }).waitFor({ timeout: 10_000 });
    assert.equal(await admin.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded), true, 'the page was not reloaded');
    assert.equal(await admin.getByRole('button', { name: 'Cancel this payment' }).count(), 0, 'a paid payment cannot be canceled');
    await admin.getByRole('status').filter({ hasText: 'Updated just now.' }).waitFor();
    await axe(admin);
    await shot(admin, 'live-paid');
  });

  it('says in words why a payment of a processor without API refunds cannot be refunded here', async () => {
    await admin.goto(`${one.url}/console/payments/${live.id}`);
    const actions = admin.locator('#payment-actions');
    assert.match(await actions.innerText(), /This processor \(netopia-v1\) does not take refunds through the hub/);
    assert.equal(await actions.getByRole('button', { name: 'Review the refund' }).count(), 0);
    const r = await admin.goto(`${one.url}/console/payments/${live.id}/refund?amount=10`);
    assert.equal(r!.status(), 422);
    assert.match(await admin.getByRole('alert').innerText(), /does not take refunds through the hub/);
    await axe(admin);
  });

  it('refunds part of a payment through the confirmation: the exact amount first, then the refund on the timeline and in the API', async () => {
    refundable = await createShopPayment(one.url, A.key, { connection: 'v2', order: 'REFUND-1', amount: 5000, returnUrl: listener.shopUrl });
    const payer = await newPage();
    await payer.goto(refundable.payment_url);
    await payOnCardPage(payer, '9900004810225098');
    await payer.waitForURL((u) => u.pathname.endsWith('/return') || u.pathname.startsWith('/shop/'));
    await payer.context().close();
    await eventually(async () => (await apiClient(one.url, A.key)('GET', `/v1/payments/${refundable.id}`)).body.status === 'paid', 10_000, 'paid');
    await admin.goto(`${one.url}/console/payments/${refundable.id}`);
    const amount = admin.getByLabel('Amount to refund (RON)');
    assert.equal(await amount.inputValue(), '50.00', 'the whole remaining amount by default');
    // Above what remains: a message, not a 500, and nothing sent.
    await amount.fill('50.01');
    await admin.getByRole('button', { name: 'Review the refund' }).click();
    await admin.getByRole('alert').filter({ hasText: 'The amount is more than what remains to refund (50.00 RON).' }).waitFor();
    await axe(admin);
    await admin.goto(`${one.url}/console/payments/${refundable.id}`);
    await admin.getByLabel('Amount to refund (RON)').fill('12,34');
    await admin.getByRole('button', { name: 'Review the refund' }).click();
    await admin.getByRole('heading', { name: 'Confirm the refund' }).waitFor();
    assert.match(await admin.locator('main').innerText(), /You are about to refund 12\.34 RON of payment REFUND-1 to the payer\./);
    const none = await apiClient(one.url, A.key)('GET', `/v1/payments/${refundable.id}/refunds`);
    assert.deepEqual(none.body.data, [], 'nothing is sent before the confirmation');
    await axe(admin);
    await shot(admin, 'refund-confirm');
    // The confirmation's fields, to submit it a second time as a double click would.
    const fields = Object.fromEntries(
      await admin
        .locator('main form input[type="hidden"]')
        .evaluateAll((inputs) => inputs.map((i) => [(i as HTMLInputElement).name, (i as HTMLInputElement).value])),
    ) as Record<string, string>;
    await admin.getByRole('button', { name: 'Refund 12.34 RON' }).click();
    await admin.getByRole('status').filter({ hasText: 'Refund of 12.34 RON: succeeded.' }).waitFor();
    await admin.locator('#payment-timeline').getByRole('heading', { name: 'Refund of 12.34 RON: succeeded' }).waitFor();
    assert.match(await admin.locator('#payment-facts').innerText(), /Refunded\s+12\.34 RON/);
    await axe(admin);
    await shot(admin, 'refunded');
    const again = await admin.context().request.post(`${one.url}/console/payments/${refundable.id}/refund`, {
      form: fields,
      headers: { origin: one.url },
      maxRedirects: 0,
    });
    assert.equal(again.status(), 303, 'the second submit answers the same refund');
    const api = apiClient(one.url, A.key);
    const refunds = (await api('GET', `/v1/payments/${refundable.id}/refunds`)).body.data as Array<{ id: string; amount: number; status: string }>;
    assert.deepEqual(
      refunds.map((r) => [r.amount, r.status]),
      [[1234, 'succeeded']],
      'one refund, whatever the submits',
    );
    assert.equal(again.headers().location, `/console/payments/${refundable.id}?refund=${refunds[0]!.id}`);
    const payment = (await api('GET', `/v1/payments/${refundable.id}`)).body;
    assert.deepEqual([payment.status, payment.amount_refunded], ['partially_refunded', 1234]);
    // The remaining amount is offered next.
    assert.equal(await admin.getByLabel('Amount to refund (RON)').inputValue(), '37.66');
  });

  it('cancels a payment that waits for its payer, and says so when it no longer can', async () => {
    const p = await createShopPayment(one.url, A.key, { connection: 'v1', order: 'CANCEL-1', returnUrl: listener.shopUrl });
    await admin.goto(`${one.url}/console/payments/${p.id}`);
    const csrf = await csrfOf(admin);
    // One click only reviews: what will be canceled and its amount; the payment is still pending.
    await admin.getByRole('button', { name: 'Cancel this payment' }).click();
    await admin.getByRole('heading', { name: 'Cancel this payment?' }).waitFor();
    assert.equal(new URL(admin.url()).pathname, `/console/payments/${p.id}/cancel`);
    assert.match(await admin.locator('main').innerText(), /The payment for order CANCEL-1, of 49\.90 RON, will be canceled/);
    assert.equal((await apiClient(one.url, A.key)('GET', `/v1/payments/${p.id}`)).body.status, 'pending', 'nothing canceled by the review');
    await axe(admin);
    // Without the anti-forgery token the POST is refused.
    const forged = await admin
      .context()
      .request.post(`${one.url}/console/payments/${p.id}/cancel`, { form: {}, headers: { origin: one.url }, maxRedirects: 0 });
    assert.equal(forged.status(), 403);
    await admin.getByRole('button', { name: 'Cancel the payment of 49.90 RON' }).click();
    await admin.getByRole('status').filter({ hasText: 'The payment is canceled.' }).waitFor();
    assert.match(await admin.locator('#payment-facts').innerText(), /Status\s+canceled/);
    assert.equal((await apiClient(one.url, A.key)('GET', `/v1/payments/${p.id}`)).body.status, 'canceled');
    await eventually(() => listener.received.some((w) => w.event.type === 'payment.canceled' && w.event.data.id === p.id), 10_000, 'payment.canceled');
    // A second cancel (the form sent twice) is answered as the first, with no second event (the API's cancel is the same).
    const twice = await admin.context().request.post(`${one.url}/console/payments/${p.id}/cancel`, {
      form: { _csrf: csrf },
      headers: { origin: one.url },
      maxRedirects: 0,
    });
    assert.equal(twice.status(), 303);
    assert.match(twice.headers().location ?? '', /\?canceled=1$/);
    assert.equal(listener.received.filter((w) => w.event.type === 'payment.canceled' && w.event.data.id === p.id).length, 1);
    // A payment that no longer waits for its payer cannot be canceled, and the page says why.
    const paid = await admin.context().request.post(`${one.url}/console/payments/${live.id}/cancel`, { form: { _csrf: csrf }, headers: { origin: one.url } });
    assert.equal(paid.status(), 409);
    assert.match(await paid.text(), /This payment can no longer be canceled: it is (paid|partially refunded|refunded)\./);
  });

  it('redelivers a webhook delivery: the listener receives the same event again', async () => {
    await admin.goto(`${one.url}/console/payments/${live.id}`);
    const paidEvent = listener.received.find((w) => w.event.type === 'payment.paid' && w.event.data.id === live.id);
    assert.ok(paidEvent, 'payment.paid was delivered');
    const before = listener.received.filter((w) => w.id === paidEvent.id).length;
    const item = admin.locator('#payment-timeline li').filter({ has: admin.getByRole('heading', { name: 'Event payment.paid' }) });
    await item.getByRole('button', { name: `Redeliver to ${listener.url}` }).click();
    await admin.getByRole('status').filter({ hasText: 'The delivery is queued again' }).waitFor();
    await eventually(() => listener.received.filter((w) => w.id === paidEvent.id).length === before + 1, 10_000, 'the redelivery');
    const again = listener.received.filter((w) => w.id === paidEvent.id).at(-1)!;
    assert.ok(again.validSignature);
    // The page shows the new attempt by itself.
    await eventually(async () => (await item.innerText()).includes('succeeded, 2 attempt(s)'), 10_000, 'the second attempt on the page');
    await axe(admin);
  });

  it("a viewer sees no action, and the actions' POSTs are refused", async () => {
    const viewer = await newPage();
    await logIn(viewer, users.viewer);
    await viewer.goto(`${one.url}/console/payments/${refundable.id}`);
    await viewer.getByRole('heading', { name: 'Payment REFUND-1' }).waitFor();
    assert.equal(await viewer.locator('main button').count(), 0, 'no button at all');
    assert.equal(await viewer.getByText('Actions').count(), 0);
    await axe(viewer);
    const csrf = await csrfOf(viewer);
    const request = viewer.context().request;
    const post = (path: string, form: Record<string, string>) =>
      request.post(`${one.url}/console/payments/${path}`, { form: { _csrf: csrf, ...form }, headers: { origin: one.url }, maxRedirects: 0 });
    assert.equal((await post(`${refundable.id}/refund`, { amount_minor: '100', currency: 'RON', seen: '1' })).status(), 403);
    assert.equal((await request.get(`${one.url}/console/payments/${refundable.id}/refund?amount=1`)).status(), 403);
    const p = await createShopPayment(one.url, A.key, { connection: 'v1', order: 'VIEWER-CANCEL', returnUrl: listener.shopUrl });
    assert.equal((await post(`${p.id}/cancel`, {})).status(), 403);
    assert.equal((await request.get(`${one.url}/console/payments/${p.id}/cancel`)).status(), 403);
    const delivery = await paidDeliveryOf(live.id);
    const attemptsBefore = (await apiClient(one.url, A.key)('GET', `/v1/webhook-deliveries/${delivery}`)).body.attempts;
    assert.equal((await post(`${live.id}/deliveries/${delivery}/redeliver`, {})).status(), 403);
    assert.equal((await apiClient(one.url, A.key)('GET', `/v1/webhook-deliveries/${delivery}`)).body.attempts, attemptsBefore, 'nothing redelivered');
    const api = apiClient(one.url, A.key);
    assert.equal((await api('GET', `/v1/payments/${refundable.id}/refunds`)).body.data.length, 1, 'no refund was made');
    assert.equal((await api('GET', `/v1/payments/${p.id}`)).body.status, 'pending', 'nothing was canceled');
    await viewer.context().close();
  });

  it("another merchant's admin gets 404 for every action on this merchant's payment", async () => {
    const other = await newPage();
    await logIn(other, users.other);
    const csrf = await csrfOf(other);
    const request = other.context().request;
    const p = await createShopPayment(one.url, A.key, { connection: 'v1', order: 'NOT-YOURS', returnUrl: listener.shopUrl });
    const post = (path: string, form: Record<string, string>) =>
      request.post(`${one.url}/console/payments/${path}`, { form: { _csrf: csrf, ...form }, headers: { origin: one.url }, maxRedirects: 0 });
    assert.equal((await request.get(`${one.url}/console/payments/${refundable.id}/refund?amount=1`)).status(), 404);
    assert.equal((await post(`${refundable.id}/refund`, { amount_minor: '100', currency: 'RON', seen: '1' })).status(), 404);
    assert.equal((await post(`${p.id}/cancel`, {})).status(), 404);
    assert.equal((await request.get(`${one.url}/console/payments/${p.id}/cancel`)).status(), 404);
    const delivery = await paidDeliveryOf(live.id);
    assert.equal((await post(`${live.id}/deliveries/${delivery}/redeliver`, {})).status(), 404);
    assert.equal((await request.get(`${one.url}/console/payments/${live.id}/stream`)).status(), 404);
    await other.goto(`${one.url}/console/payments/${refundable.id}/refund?amount=1`);
    await other.getByRole('heading', { name: 'Not found' }).waitFor();
    await axe(other);
    assert.equal((await apiClient(one.url, A.key)('GET', `/v1/payments/${p.id}`)).body.status, 'pending');
    await other.context().close();
  });

  it('filters the list by amount in a chosen currency', async () => {
    for (const [order, amount] of [
      ['AMOUNT-SMALL', 1000],
      ['AMOUNT-BIG', 123456],
    ] as const)
      await createShopPayment(one.url, A.key, { connection: 'v1', order, amount, returnUrl: listener.shopUrl });
    await admin.goto(`${one.url}/console/payments`);
    await admin.getByLabel('Currency').selectOption('RON');
    await admin.getByLabel('Amount from').fill('1000');
    await admin.getByRole('button', { name: 'Filter' }).click();
    await admin.waitForURL(/min=1000/);
    const orders = () => admin.locator('#results tbody tr td:nth-child(2)').allInnerTexts();
    await eventually(async () => (await orders()).join() === 'AMOUNT-BIG', 5_000, 'only the big payment');
    await admin.getByLabel('Amount from').fill('');
    await admin.getByLabel('Amount up to').fill('10');
    await admin.getByRole('button', { name: 'Filter' }).click();
    await eventually(async () => (await orders()).join() === 'AMOUNT-SMALL', 5_000, 'only the small payment');
    await admin.getByLabel('Amount from').fill('49.90');
    await admin.getByLabel('Amount up to').fill('49.90');
    await admin.getByRole('button', { name: 'Filter' }).click();
    await eventually(async () => (await orders()).sort().join() === 'CANCEL-1,LIVE-1,NOT-YOURS,VIEWER-CANCEL', 5_000, 'the 49.90 payments');
    await axe(admin);
    await shot(admin, 'amount-filter');
    await admin.goto(`${one.url}/console/payments?min=10`);
    assert.match(await admin.getByRole('alert').innerText(), /choose the currency of the amounts/);
    await admin.goto(`${one.url}/console/payments?currency=RON&min=ten`);
    assert.match(await admin.getByRole('alert').innerText(), /an amount is a number such as 49\.90/);
    await axe(admin);
  });

  it("shows times in the browser's time zone, keeping UTC in the datetime attribute (and as text without script)", async () => {
    const context = await browser.newContext({ timezoneId: 'Europe/Bucharest' });
    const p = await newPage(context);
    await logIn(p, users.admin);
    await p.goto(`${one.url}/console/payments/${live.id}`);
    const time = p.locator('#payment-facts time').first();
    await eventually(async () => (await time.getAttribute('data-local')) !== null, 5_000, 'localized');
    const iso = (await time.getAttribute('datetime'))!;
    assert.match(iso, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    const text = await time.innerText();
    assert.ok(!text.endsWith('UTC'), text);
    // The wall-clock time in Bucharest (12-hour, as the page's English shows it), not the UTC one.
    const bucharest = new Date(iso)
      .toLocaleTimeString('en-US', { timeZone: 'Europe/Bucharest', hour: 'numeric', minute: '2-digit', second: '2-digit', hour12: true })
      .split(/\s/)[0]!;
    assert.ok(text.includes(bucharest), `${text} shows ${bucharest}`);
    assert.match(text, /GMT\+[23]|EE[S]?T/);
    assert.equal(await time.getAttribute('title'), `${iso.slice(0, 19).replace('T', ' ')} UTC`);
    await context.close();
    const noScript = await browser.newContext({ javaScriptEnabled: false, timezoneId: 'Europe/Bucharest' });
    const q = await newPage(noScript);
    await logIn(q, users.admin);
    await q.goto(`${one.url}/console/payments/${live.id}`);
    assert.match(await q.locator('#payment-facts time').first().innerText(), /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC$/);
    await noScript.close();
  });

  it('the refund works without script too: review, confirm, done', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const p = await newPage(context);
    await logIn(p, users.admin);
    await p.goto(`${one.url}/console/payments/${refundable.id}`);
    await p.getByLabel('Amount to refund (RON)').fill('1');
    await p.getByRole('button', { name: 'Review the refund' }).click();
    await p.getByRole('button', { name: 'Refund 1.00 RON' }).click();
    await p.getByRole('status').filter({ hasText: 'Refund of 1.00 RON: succeeded.' }).waitFor();
    await context.close();
    const refunds = (await apiClient(one.url, A.key)('GET', `/v1/payments/${refundable.id}/refunds`)).body.data as Array<{ amount: number }>;
    assert.deepEqual(
      refunds.map((r) => r.amount),
      [1234, 100],
    );
  });
});

describe('the live streams', () => {
  const stream = (cookie: string, id: string, signal?: AbortSignal) =>
    fetch(`${one.url}/console/payments/${id}/stream`, { headers: { cookie, accept: 'text/event-stream' }, signal, redirect: 'manual' });

  it('are limited per session, free their place when the client goes away, and end at logout', async () => {
    const cookie = await loginCookie(one.url, users.admin);
    const p = await createShopPayment(one.url, A.key, { connection: 'v1', order: 'STREAMS', returnUrl: listener.shopUrl });
    const aborts = [new AbortController(), new AbortController(), new AbortController(), new AbortController()];
    const open = await Promise.all(aborts.map((c) => stream(cookie, p.id, c.signal)));
    for (const r of open) {
      assert.equal(r.status, 200);
      assert.match(r.headers.get('content-type')!, /^text\/event-stream/);
    }
    const fifth = await stream(cookie, p.id);
    assert.equal(fifth.status, 429, 'a fifth stream of one session is refused');
    await fifth.body?.cancel();
    // Another session has its own allowance.
    const otherCookie = await loginCookie(one.url, users.viewer);
    const others = new AbortController();
    assert.equal((await stream(otherCookie, p.id, others.signal)).status, 200);
    others.abort();
    // The client goes away: its stream (and its timer) ends on the server, and the place is free again.
    aborts[0]!.abort();
    let last!: Response;
    await eventually(
      async () => {
        last = await stream(cookie, p.id);
        if (last.status === 200) return true;
        await last.body?.cancel();
        return false;
      },
      5_000,
      'a place freed',
    );
    // A change is announced on the open stream.
    const reader = last.body!.getReader();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await (await fetch(`${one.url}/console/payments/${p.id}`, { headers: { cookie } })).text())![1]!;
    assert.equal((await postForm(`${one.url}/console/payments/${p.id}/cancel`, { _csrf: csrf }, { cookie })).status, 303);
    let text = '';
    const decoder = new TextDecoder();
    await eventually(
      async () => {
        const chunk = await reader.read();
        text += decoder.decode(chunk.value ?? new Uint8Array());
        return text.includes('event: changed');
      },
      5_000,
      'the change announced',
    );
    // Logout ends the session: the stream says so and closes within a few seconds.
    assert.equal((await postForm(`${one.url}/console/logout`, { _csrf: csrf }, { cookie })).status, 303);
    const ended = await Promise.race([
      (async () => {
        for (;;) {
          const chunk = await reader.read();
          if (chunk.done) return true;
          text += decoder.decode(chunk.value);
        }
      })(),
      new Promise<false>((r) => setTimeout(() => r(false), 10_000)),
    ]);
    assert.equal(ended, true, 'the stream ended after logout');
    assert.match(text, /event: ended/);
    for (const c of aborts) c.abort();
    // After logout the stream is not opened again.
    const afterLogout = await stream(cookie, p.id);
    assert.equal(afterLogout.status, 303);
  });
});

describe('the pages', () => {
  it('broke no content security policy, threw nothing, and axe found nothing serious or critical', () => {
    assert.deepEqual(
      pageErrors.filter((e) => !/the server responded with a status of (400|403|404|409|422|429)/.test(e)),
      [],
    );
    assert.deepEqual(axeFindings, []);
  });
});
