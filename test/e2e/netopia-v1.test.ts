import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser } from '../support/browser.js';
import { apiClient, eventually, startTestHub, type TestHub } from '../support/hub.js';
import { startWebhookListener } from '../support/webhook-listener.js';

/**
 * The whole journey through the built-in NETOPIA v1 emulator, in a real headless Chromium: the merchant asks
 * for a payment, the customer opens payment_url, pays on the emulated card page, NETOPIA's sealed IPN reaches
 * the hub, the ledger records it and the merchant's listener gets correctly signed events exactly once.
 */

let hub: TestHub;
let browser: Browser;
let listener: Awaited<ReturnType<typeof startWebhookListener>>;
let api: ReturnType<typeof apiClient>;

before(async () => {
  [hub, browser, listener] = await Promise.all([startTestHub({ outboundAllow: '127.0.0.1' }), launchBrowser(), startWebhookListener()]);
  const merchant = await apiClient(hub.url, hub.adminKey)('POST', '/v1/merchants', { name: 'Librăria Mică SRL' });
  api = apiClient(hub.url, merchant.body.api_key);
  const c = await api('POST', '/v1/connections', { code: 'netopia', provider: 'netopia-v1', environment: 'emulator' });
  assert.equal(c.status, 201, JSON.stringify(c.body));
  const wh = await api('POST', '/v1/webhook-endpoints', { url: listener.url });
  listener.setSecret(wh.body.secret);
});
after(async () => {
  await browser?.close();
  await hub?.close();
  await listener?.close();
});

async function createPayment(order: string, amount = 4990) {
  const r = await api('POST', '/v1/payments', {
    connection: 'netopia',
    order_id: order,
    amount,
    currency: 'RON',
    description: `Comanda ${order}`,
    billing: {
      first_name: 'Ioana',
      last_name: 'Dumitrescu',
      email: 'ioana@example.ro',
      phone: '0722000111',
      address: 'Str. Lungă 5',
      city: 'Brașov',
      country: 'RO',
    },
    return_url: listener.shopUrl,
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body as { id: string; payment_url: string };
}

async function payWithCard(page: Page, pan: string, cvv = '111') {
  await page.getByLabel(/^(Card number|Număr card)$/).fill(pan);
  await page.getByLabel(/^(Expiry date|Data expirării)$/).fill('12/30');
  await page.getByLabel('CVV').fill(cvv);
  await page.getByRole('button', { name: /^(Pay|Plătește)$/ }).click();
}

const eventsOf = (paymentId: string) => listener.received.filter((w) => w.event.data.id === paymentId);

async function settledEvents(paymentId: string, type: string) {
  await eventually(() => eventsOf(paymentId).some((w) => w.event.type === type), 10_000, `${type} for ${paymentId}`);
  // Time for a wrong second delivery to show up before counting.
  await new Promise((r) => setTimeout(r, 250));
  return eventsOf(paymentId);
}

describe('paying with the sandbox success card', () => {
  it('ends paid, returns the customer to the shop, and sends payment.paid once, correctly signed', async () => {
    const p = await createPayment('E2E-OK');
    const page = await browser.newPage();
    try {
      await page.goto(p.payment_url);
      await page.getByLabel(/^(Card number|Număr card)$/).waitFor();
      assert.match(page.url(), /\/sandbox\/netopia\/v1\/card\//, 'the hub handed the browser to NETOPIA with the sealed form');
      await payWithCard(page, '9900004810225098');
      await page.waitForURL(/\/shop\/thanks\?/);
      const back = new URL(page.url());
      assert.equal(back.searchParams.get('payment_id'), p.id);
      assert.equal(back.searchParams.get('status'), 'paid');
    } finally {
      await page.close();
    }
    const payment = (await api('GET', `/v1/payments/${p.id}`)).body;
    assert.equal(payment.status, 'paid');
    assert.equal(payment.amount_captured, 4990);
    assert.equal(payment.attempts.length, 1);
    assert.equal(payment.attempts[0].status, 'captured');
    assert.match(payment.attempts[0].processor_reference, /^\d+$/);
    assert.equal(payment.attempts[0].pan_masked, '9****5098');
    assert.equal(payment.notifications[0].status, 'applied');
    const events = await settledEvents(p.id, 'payment.paid');
    assert.deepEqual(
      events.map((e) => e.event.type),
      ['payment.created', 'payment.paid'],
    );
    assert.ok(events.every((e) => e.validSignature));
    assert.equal(new Set(events.map((e) => e.id)).size, events.length, 'each event once');
  });
});

const DECLINES: Array<[string, string, string]> = [
  ['expired card', '9900541631437790', '19'],
  ['insufficient funds', '9900518572831942', '20'],
  ['wrong CVV', '9900827979991500', '21'],
  ['transaction not permitted', '9900576270414197', '34'],
  ['risky card', '9900334791085173', '16'],
  ['issuer unavailable', '9900130597497640', '22'],
];

describe('declined cards: the attempt is listed with its reason and the payment stays payable', () => {
  for (const [name, pan, code] of DECLINES) {
    it(`${name} (${code})`, async () => {
      const p = await createPayment(`E2E-${code}`);
      const page = await browser.newPage();
      try {
        await page.goto(p.payment_url);
        await payWithCard(page, pan);
        await page.getByRole('alert').waitFor();
        assert.match(await page.getByRole('alert').innerText(), /declined/i);
        assert.match(page.url(), new RegExp(`/pay/${p.id}/return`));
      } finally {
        await page.close();
      }
      const payment = (await api('GET', `/v1/payments/${p.id}`)).body;
      assert.equal(payment.status, 'pending');
      assert.equal(payment.attempts[0].status, 'failed');
      assert.equal(payment.attempts[0].error_code, code);
      assert.ok(payment.attempts[0].error_message);
      const events = await settledEvents(p.id, 'payment.attempt_failed');
      assert.equal(events.filter((e) => e.event.type === 'payment.attempt_failed').length, 1);
      assert.equal(events.find((e) => e.event.type === 'payment.attempt_failed')!.event.data.attempt.error_code, code);
    });
  }

  it('after a decline, "Try again" starts a new attempt that can succeed', async () => {
    const p = await createPayment('E2E-RETRY');
    const page = await browser.newPage();
    try {
      await page.goto(p.payment_url);
      await payWithCard(page, '9900518572831942');
      await page.getByRole('link', { name: 'Try again' }).click();
      await payWithCard(page, '9900004810225098');
      await page.waitForURL(/\/shop\/thanks\?/);
    } finally {
      await page.close();
    }
    const payment = (await api('GET', `/v1/payments/${p.id}`)).body;
    assert.equal(payment.status, 'paid');
    assert.deepEqual(
      payment.attempts.map((a: { status: string; error_code: string | null }) => [a.status, a.error_code]),
      [
        ['failed', '20'],
        ['captured', null],
      ],
    );
    const events = await settledEvents(p.id, 'payment.paid');
    assert.deepEqual(
      events.map((e) => e.event.type),
      ['payment.created', 'payment.attempt_failed', 'payment.paid'],
    );
  });
});

describe('3-D Secure', () => {
  it('the 3-D Secure card asks for authentication; authorizing pays', async () => {
    const p = await createPayment('E2E-3DS');
    const page = await browser.newPage();
    try {
      await page.goto(p.payment_url);
      await payWithCard(page, '9900009184214768');
      await page.getByRole('button', { name: /^(Authorize|Autorizează)$/ }).click();
      await page.waitForURL(/\/shop\/thanks\?/);
    } finally {
      await page.close();
    }
    assert.equal((await api('GET', `/v1/payments/${p.id}`)).body.status, 'paid');
  });

  it('failing authentication declines the attempt', async () => {
    const p = await createPayment('E2E-3DS-FAIL');
    const page = await browser.newPage();
    try {
      await page.goto(p.payment_url);
      await payWithCard(page, '9900009184214768');
      await page.getByRole('button', { name: /^(Fail authentication|Autentificare eșuată)$/ }).click();
      await page.getByRole('alert').waitFor();
    } finally {
      await page.close();
    }
    const payment = (await api('GET', `/v1/payments/${p.id}`)).body;
    assert.equal(payment.status, 'pending');
    assert.equal(payment.attempts[0].status, 'failed');
  });
});

describe("NETOPIA's back office: credit in part, then in full", () => {
  it('each credit sends an IPN; the payment becomes partially_refunded then refunded, with one event each', async () => {
    const p = await createPayment('E2E-CREDIT', 10000);
    const page = await browser.newPage();
    try {
      await page.goto(p.payment_url);
      await payWithCard(page, '9900004810225098');
      await page.waitForURL(/\/shop\/thanks\?/);
    } finally {
      await page.close();
    }
    const purchase = (await api('GET', `/v1/payments/${p.id}`)).body.attempts[0].processor_reference;
    // README step 7: the back office's address and login are what `connections get` shows for the connection.
    const login = (await api('GET', '/v1/connections/netopia')).body.sandbox_back_office;
    assert.equal(login.url, `${hub.url}/sandbox/netopia/v1/orders`);
    // The first credit as a person makes it: log in in the browser, open the order from the list, credit 30.00.
    const office = await browser.newPage();
    try {
      await office.goto(login.url);
      await office.getByLabel('POS signature').fill(login.login);
      await office.getByLabel('Back-office password').fill(login.password);
      await office.getByRole('button', { name: 'Log in' }).click();
      await office.getByRole('heading', { name: 'Orders' }).waitFor();
      await office.getByRole('link', { name: String(purchase), exact: true }).click();
      await office.getByLabel('Credit amount (RON)').fill('30.00');
      await office.getByRole('button', { name: 'Credit', exact: true }).click();
      await office.getByRole('status').waitFor();
      assert.match(await office.getByRole('status').innerText(), /Credit done; the merchant acknowledged the IPN/);
    } finally {
      await office.close();
    }
    await eventually(async () => (await api('GET', `/v1/payments/${p.id}`)).body.status === 'partially_refunded');
    // The second as a script makes it: the same login as HTTP Basic, JSON answers.
    const authorization = `Basic ${Buffer.from(`${login.login}:${login.password}`).toString('base64')}`;
    const r = await fetch(`${hub.url}/sandbox/netopia/v1/orders/${purchase}/credit`, {
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded', authorization },
      body: 'amount=70.00',
    });
    assert.equal(r.status, 200, await r.clone().text());
    const done = await eventually(async () => {
      const b = (await api('GET', `/v1/payments/${p.id}`)).body;
      return b.status === 'refunded' && b;
    });
    assert.equal(done.amount_refunded, 10000);
    const events = await settledEvents(p.id, 'payment.refunded');
    await eventually(() => eventsOf(p.id).filter((e) => e.event.type === 'payment.refunded').length === 2);
    assert.deepEqual(events.filter((e) => e.event.type === 'payment.refunded').length <= 2, true);
    assert.deepEqual(
      eventsOf(p.id).map((e) => [e.event.type, e.event.data.amount_refunded]),
      [
        ['payment.created', 0],
        ['payment.paid', 0],
        ['payment.refunded', 3000],
        ['payment.refunded', 10000],
      ],
    );
  });
});

describe("NETOPIA's back office acts only for the logged-in account (issue: an anonymous credit refunded another merchant)", () => {
  it("an anonymous credit, one by another merchant's sandbox login and a form without its CSRF token change nothing and send no payment.refunded", async () => {
    const p = await createPayment('E2E-VICTIM', 10000);
    const page = await browser.newPage();
    try {
      await page.goto(p.payment_url);
      await payWithCard(page, '9900004810225098');
      await page.waitForURL(/\/shop\/thanks\?/);
    } finally {
      await page.close();
    }
    await settledEvents(p.id, 'payment.paid');
    const purchase = (await api('GET', `/v1/payments/${p.id}`)).body.attempts[0].processor_reference;
    const creditUrl = `${hub.url}/sandbox/netopia/v1/orders/${purchase}/credit`;
    const form = { 'content-type': 'application/x-www-form-urlencoded' };

    // Anonymous: the issue's exact attack, as a script and as a browser form.
    const anonymousJson = await fetch(creditUrl, { method: 'POST', headers: { ...form, accept: 'application/json' }, body: 'amount=100.00' });
    assert.equal(anonymousJson.status, 401);
    const anonymousForm = await fetch(creditUrl, { method: 'POST', headers: form, body: 'amount=100.00', redirect: 'manual' });
    assert.equal(anonymousForm.status, 401);
    assert.match(await anonymousForm.text(), /Sandbox back office: log in/);

    // Another merchant with its own emulator account: its login does not reach this order.
    const other = await apiClient(hub.url, hub.adminKey)('POST', '/v1/merchants', { name: 'Attacker SRL' });
    const otherApi = apiClient(hub.url, other.body.api_key);
    assert.equal((await otherApi('POST', '/v1/connections', { code: 'netopia', provider: 'netopia-v1', environment: 'emulator' })).status, 201);
    const otherLogin = (await otherApi('GET', '/v1/connections/netopia')).body.sandbox_back_office;
    const otherAuth = `Basic ${Buffer.from(`${otherLogin.login}:${otherLogin.password}`).toString('base64')}`;
    const foreign = await fetch(creditUrl, {
      method: 'POST',
      headers: { ...form, accept: 'application/json', authorization: otherAuth },
      body: 'amount=100.00',
    });
    assert.equal(foreign.status, 404);
    const list = await fetch(`${hub.url}/sandbox/netopia/v1/orders`, { headers: { accept: 'application/json', authorization: otherAuth } });
    assert.equal(list.status, 200);
    assert.deepEqual((await list.json()).orders, [], "the other merchant's list holds none of this merchant's orders");
    assert.equal((await fetch(`${hub.url}/sandbox/netopia/v1/orders`, { headers: { accept: 'application/json' } })).status, 401);

    // The owner's browser session, but a form posted without the session's CSRF token (a cross-site form).
    const login = (await api('GET', '/v1/connections/netopia')).body.sandbox_back_office;
    const office = await browser.newPage();
    try {
      await office.goto(login.url);
      await office.getByLabel('POS signature').fill(login.login);
      await office.getByLabel('Back-office password').fill(login.password);
      await office.getByRole('button', { name: 'Log in' }).click();
      await office.getByRole('heading', { name: 'Orders' }).waitFor();
      const cookies = await office.context().cookies(login.url);
      const session = cookies.find((c) => c.name === 'sandbox_netopia_v1_session');
      assert.ok(session, 'logged in');
      assert.equal(session.httpOnly, true);
      assert.equal(session.sameSite, 'Lax');
      assert.equal(session.path, '/sandbox/netopia/v1');
      const cookie = `${session.name}=${session.value}`;
      const withoutToken = await fetch(creditUrl, { method: 'POST', headers: { ...form, cookie }, body: 'amount=100.00', redirect: 'manual' });
      assert.equal(withoutToken.status, 403);
      const wrongToken = await fetch(creditUrl, {
        method: 'POST',
        headers: { ...form, cookie },
        body: 'amount=100.00&_csrf=' + 'x'.repeat(43),
        redirect: 'manual',
      });
      assert.equal(wrongToken.status, 403);
    } finally {
      await office.close();
    }

    await new Promise((r) => setTimeout(r, 300));
    const payment = (await api('GET', `/v1/payments/${p.id}`)).body;
    assert.equal(payment.status, 'paid');
    assert.equal(payment.amount_refunded, 0);
    assert.equal(eventsOf(p.id).filter((e) => e.event.type === 'payment.refunded').length, 0);
  });
});
