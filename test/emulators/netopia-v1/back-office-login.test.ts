import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openTestStore } from '../../support/store.js';
import type { Store } from '../../../src/store/store.js';
import {
  backOfficeAuth,
  createAccount,
  logIn,
  Merchant,
  order,
  orderView,
  payOverHttp,
  postForm,
  PREFIX,
  sealOrder,
  setCookie,
  startEmulator,
  type Account,
  type Emulator,
} from './harness.js';

/**
 * The back office acts only for the account that is logged in (a session from the login form, or HTTP Basic
 * with the account's back-office login), and every form it accepts from a session carries the session's CSRF
 * token. The attacks come from a hostile review: an anonymous credit of another merchant's paid order, the
 * order list of every account, a cross-site form.
 */

let store: Store;
let emulator: Emulator;
let merchant: Merchant;
let victim: Account;
let attacker: Account;

before(async () => {
  store = await openTestStore();
  emulator = await startEmulator(store);
  merchant = await Merchant.start();
  victim = await createAccount(emulator);
  attacker = await createAccount(emulator);
  merchant.addKey(victim.private_key);
  merchant.addKey(attacker.private_key);
});

after(async () => {
  await emulator?.stop();
  await merchant?.close();
  await store?.close();
});

async function paidOrder(seller: Account): Promise<{ purchase: string; orderId: string }> {
  const v1Order = order(seller, merchant, { invoice: { amount: '100.00' } });
  const { purchase } = await payOverHttp(emulator, sealOrder(seller, v1Order), '9900004810225098');
  return { purchase, orderId: v1Order.id };
}

const json = { accept: 'application/json' };

/** The victim's order is untouched: nothing credited, no IPN beyond the payment's. */
async function assertUntouched(purchase: string, orderId: string) {
  const view = await orderView(emulator, purchase, victim);
  assert.equal(view.order.status, 'confirmed');
  assert.equal(view.order.credited_ron, '0.00');
  assert.deepEqual(
    view.deliveries.map((d) => d.action),
    ['confirmed'],
  );
  assert.deepEqual(
    merchant.ipnsFor(orderId).map((r) => r.ipn.mobilpay.action),
    ['confirmed'],
  );
}

describe('NETOPIA v1 back office: strangers and other accounts are refused', () => {
  it('account opening hands out the back-office login once: the signature and a password', async () => {
    assert.equal(victim.back_office.login, victim.signature);
    assert.match(victim.back_office.password, /^[A-Za-z0-9_-]{32}$/);
    assert.equal(victim.back_office.url, `${emulator.base}/orders`);
    const shown = await (await fetch(`${emulator.base}/accounts/${victim.signature}`)).json();
    assert.equal(JSON.stringify(shown).includes(victim.back_office.password), false);
  });

  it('an anonymous credit of a paid order is refused (401) and changes nothing; so are capture, cancel and resend', async () => {
    const { purchase, orderId } = await paidOrder(victim);
    for (const operation of ['credit', 'capture', 'cancel', 'resend']) {
      const asScript = await fetch(`${emulator.base}/orders/${purchase}/${operation}`, {
        method: 'POST',
        headers: { ...json, 'content-type': 'application/json' },
        body: '{"amount":"100.00"}',
      });
      assert.equal(asScript.status, 401, operation);
      assert.equal((await asScript.json()).ok, false);
      const asForm = await postForm(`${emulator.base}/orders/${purchase}/${operation}`, { amount: '100.00' });
      assert.equal(asForm.status, 401, operation);
      assert.match(await asForm.text(), /Sandbox back office: log in/);
    }
    await assertUntouched(purchase, orderId);
  });

  it('anonymous reads get the login page (HTML) or 401 (JSON), never an order', async () => {
    const { purchase } = await paidOrder(victim);
    for (const path of ['/orders', `/orders/${purchase}`]) {
      const page = await fetch(emulator.base + path);
      assert.equal(page.status, 401, path);
      const text = await page.text();
      assert.match(text, /<form method="post" action="[^"]*\/login">/);
      assert.equal(text.includes(victim.signature), false, path);
      const api = await fetch(emulator.base + path, { headers: json });
      assert.equal(api.status, 401, path);
      assert.equal((await api.text()).includes(victim.signature), false, path);
    }
  });

  it('a wrong password, a malformed Authorization header and an unknown login are 401', async () => {
    const { purchase } = await paidOrder(victim);
    for (const authorization of [
      backOfficeAuth({ back_office: { ...victim.back_office, password: attacker.back_office.password } }),
      `Basic ${Buffer.from(`${victim.signature}:`).toString('base64')}`,
      `Bearer ${victim.back_office.password}`,
      'Basic !!!',
      `Basic ${Buffer.from(`AAAA-AAAA-AAAA-AAAA-AAAA:${victim.back_office.password}`).toString('base64')}`,
    ]) {
      assert.equal((await fetch(`${emulator.base}/orders/${purchase}`, { headers: { ...json, authorization } })).status, 401, authorization);
    }
  });

  it("another account's login does not list, show or operate on the victim's orders", async () => {
    const { purchase, orderId } = await paidOrder(victim);
    const own = await paidOrder(attacker);
    const authorization = backOfficeAuth(attacker);
    const list = await (await fetch(`${emulator.base}/orders`, { headers: { ...json, authorization } })).json();
    assert.deepEqual(
      list.orders.map((o: { purchase: string }) => o.purchase),
      [own.purchase],
      'only its own order',
    );
    assert.equal((await fetch(`${emulator.base}/orders/${purchase}`, { headers: { ...json, authorization } })).status, 404);
    const credit = await fetch(`${emulator.base}/orders/${purchase}/credit`, {
      method: 'POST',
      headers: { ...json, 'content-type': 'application/json', authorization },
      body: '{"amount":"100.00"}',
    });
    assert.equal(credit.status, 404);
    // In a browser session too.
    const office = await logIn(emulator, attacker);
    assert.equal((await office.get(`/orders/${purchase}`)).status, 404);
    assert.equal((await office.post(`/orders/${purchase}/credit`, { amount: '100.00' })).status, 404);
    const page = await (await office.get('/orders')).text();
    assert.equal(page.includes(`/orders/${purchase}"`), false);
    await assertUntouched(purchase, orderId);
  });
});

describe('NETOPIA v1 back office: the browser session and its CSRF token', () => {
  it('the session cookie is HttpOnly, SameSite=Lax and scoped to the emulator', async () => {
    const form = await fetch(`${emulator.base}/login`);
    const formCookie = setCookie(form, 'sandbox_netopia_v1_login')!;
    assert.match(formCookie, /; Path=\/sandbox\/netopia\/v1; HttpOnly; SameSite=Lax/);
    const token = /name="_csrf" value="([^"]+)"/.exec(await form.text())![1]!;
    const answer = await postForm(
      `${emulator.base}/login`,
      { _csrf: token, login: victim.signature.toLowerCase(), password: victim.back_office.password },
      { cookie: formCookie.split(';')[0]! },
    );
    assert.equal(answer.status, 303);
    assert.equal(answer.headers.get('location'), `${PREFIX}/orders`);
    const session = setCookie(answer, 'sandbox_netopia_v1_session')!;
    assert.match(session, /^sandbox_netopia_v1_session=[A-Za-z0-9_-]{43}; Path=\/sandbox\/netopia\/v1; HttpOnly; SameSite=Lax; Max-Age=\d+$/);
  });

  it('a login form posted without its form token (login CSRF) or with a wrong password sets no session', async () => {
    const noToken = await postForm(`${emulator.base}/login`, { login: victim.signature, password: victim.back_office.password });
    assert.equal(noToken.status, 403);
    assert.equal(setCookie(noToken, 'sandbox_netopia_v1_session'), undefined);
    const form = await fetch(`${emulator.base}/login`);
    const formCookie = setCookie(form, 'sandbox_netopia_v1_login')!.split(';')[0]!;
    const token = /name="_csrf" value="([^"]+)"/.exec(await form.text())![1]!;
    const wrong = await postForm(
      `${emulator.base}/login`,
      { _csrf: token, login: victim.signature, password: attacker.back_office.password },
      { cookie: formCookie },
    );
    assert.equal(wrong.status, 401);
    assert.equal(setCookie(wrong, 'sandbox_netopia_v1_session'), undefined);
    assert.match(await wrong.text(), /Wrong login or password/);
  });

  it('after logging in, a browser goes back to the page it asked for, never to another site', async () => {
    const { purchase } = await paidOrder(victim);
    const wanted = await fetch(`${emulator.base}/orders/${purchase}`);
    assert.match(await wanted.text(), new RegExp(`name="next" value="${PREFIX}/orders/${purchase}"`));
    for (const [next, expected] of [
      [`${PREFIX}/orders/${purchase}`, `${PREFIX}/orders/${purchase}`],
      ['https://evil.example/', `${PREFIX}/orders`],
      [`//evil.example${PREFIX}/orders`, `${PREFIX}/orders`],
      [`${PREFIX}//evil.example`, `${PREFIX}/orders`],
      [`${PREFIX}/../../elsewhere`, `${PREFIX}/orders`],
      [`${PREFIX}\\\\evil.example`, `${PREFIX}/orders`],
    ]) {
      const form = await fetch(`${emulator.base}/login`);
      const formCookie = setCookie(form, 'sandbox_netopia_v1_login')!.split(';')[0]!;
      const token = /name="_csrf" value="([^"]+)"/.exec(await form.text())![1]!;
      const answer = await postForm(
        `${emulator.base}/login`,
        { _csrf: token, login: victim.signature, password: victim.back_office.password, next: next! },
        { cookie: formCookie },
      );
      assert.equal(answer.headers.get('location'), expected, next);
    }
  });

  it("a form posted with the session but without its CSRF token, or with another session's, is refused (403) and changes nothing", async () => {
    const { purchase, orderId } = await paidOrder(victim);
    const office = await logIn(emulator, victim);
    const other = await logIn(emulator, attacker);
    for (const fields of [{}, { _csrf: '' }, { _csrf: other.csrf }, { _csrf: office.csrf.slice(1) }] as Array<Record<string, string>>) {
      const answer = await postForm(`${emulator.base}/orders/${purchase}/credit`, { amount: '100.00', ...fields }, { cookie: office.cookie });
      assert.equal(answer.status, 403, JSON.stringify(fields));
    }
    const asJson = await fetch(`${emulator.base}/orders/${purchase}/credit`, {
      method: 'POST',
      headers: { ...json, 'content-type': 'application/json', cookie: office.cookie },
      body: '{"amount":"100.00"}',
    });
    assert.equal(asJson.status, 403);
    await assertUntouched(purchase, orderId);
    // The same form with the token is the legitimate flow.
    const done = await office.post(`/orders/${purchase}/credit`, { amount: '100.00' });
    assert.equal(done.status, 303);
    assert.equal((await orderView(emulator, purchase, victim)).order.credited_ron, '100.00');
  });

  it('logging out (a form with the token) ends the session', async () => {
    const office = await logIn(emulator, victim);
    assert.equal((await office.get('/orders')).status, 200);
    assert.equal((await postForm(`${emulator.base}/logout`, {}, { cookie: office.cookie })).status, 403, 'logout needs the token too');
    const out = await office.post('/logout', {});
    assert.equal(out.status, 303);
    assert.match(setCookie(out, 'sandbox_netopia_v1_session')!, /Max-Age=0/);
    assert.equal((await office.get('/orders')).status, 401);
  });
});
