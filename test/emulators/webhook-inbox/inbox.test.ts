import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { apiClient, eventually, startTestHub, type TestHub } from '../../support/hub.js';

/**
 * The built-in webhook inbox and the hub's side of the sandbox back offices, on a hub started as the README's
 * walkthrough starts it (emulators on): an inbox is read with its endpoint's secret and shows only what was
 * signed with it; an emulator connection shows its sandbox back-office login to its merchant only; a NUL in any
 * emulator URL is a clean 4xx.
 */

let hub: TestHub;
let api: ReturnType<typeof apiClient>;
let secret: string;
let otherSecret: string;
const inbox = () => `${hub.url}/sandbox/inbox/demo`;

before(async () => {
  hub = await startTestHub();
  const admin = apiClient(hub.url, hub.adminKey);
  api = apiClient(hub.url, (await admin('POST', '/v1/merchants', { name: 'Demo Shop' })).body.api_key);
  assert.equal((await api('POST', '/v1/connections', { code: 'netopia', provider: 'netopia-v1', environment: 'emulator' })).status, 201);
  secret = (await api('POST', '/v1/webhook-endpoints', { url: inbox() })).body.secret;
  const other = apiClient(hub.url, (await admin('POST', '/v1/merchants', { name: 'Other Shop' })).body.api_key);
  otherSecret = (await other('POST', '/v1/webhook-endpoints', { url: `${hub.url}/sandbox/inbox/other` })).body.secret;
});

after(async () => {
  await hub?.close();
});

describe('the webhook inbox is bound to its secret', () => {
  it('without the secret an inbox is unreadable (401); with another secret it is empty; with its own it shows the signed events only', async () => {
    const payment = await api('POST', '/v1/payments', {
      connection: 'netopia',
      order_id: 'INBOX-1',
      amount: 4990,
      currency: 'RON',
      description: 'Cafea',
      billing: { first_name: 'Ana', last_name: 'Pop', email: 'ana@example.ro' },
    });
    assert.equal(payment.status, 201, JSON.stringify(payment.body));
    const id = payment.body.id as string;
    // Anyone may post to an inbox (it plays a receiver); an unsigned post must not show up as an event.
    assert.equal(
      (await fetch(inbox(), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"type":"payment.refunded","forged":true}' })).status,
      200,
    );
    const items = await eventually(
      async () => {
        const r = await fetch(`${inbox()}?secret=${encodeURIComponent(secret)}`, { headers: { accept: 'application/json' } });
        assert.equal(r.status, 200);
        const data = (await r.json()).data as Array<{ type: string; body: string; signature_valid: boolean }>;
        return data.some((i) => i.body.includes(id)) && data;
      },
      10_000,
      'the payment.created event in the inbox',
    );
    assert.ok(
      items.every((i) => i.signature_valid && !i.body.includes('forged')),
      'only what the secret signed',
    );

    for (const url of [inbox(), `${inbox()}?secret=`, `${inbox()}?secret=whsec_`, `${inbox()}?secret=whsec_AAAA`]) {
      const page = await fetch(url);
      assert.equal(page.status, 401, url);
      assert.equal((await page.text()).includes(id), false, url);
      const json = await fetch(url, { headers: { accept: 'application/json' } });
      assert.equal(json.status, 401, url);
      assert.equal((await json.text()).includes(id), false, url);
    }
    const wrong = await fetch(`${inbox()}?secret=${encodeURIComponent(otherSecret)}`, { headers: { accept: 'application/json' } });
    assert.equal(wrong.status, 200);
    assert.deepEqual((await wrong.json()).data, []);
    const wrongPage = await (await fetch(`${inbox()}?secret=${encodeURIComponent(otherSecret)}`)).text();
    assert.equal(wrongPage.includes(id), false);
    // The README's link, unencoded as a person pastes it (+ arrives as a space).
    const readme = await fetch(`${inbox()}?secret=${secret}`);
    assert.equal(readme.status, 200);
    assert.match(await readme.text(), new RegExp(id));
  });
});

describe("the hub shows an emulator connection's sandbox back-office login", () => {
  it('GET /v1/connections/{code} has sandbox_back_office (url, login, password) that logs in to the back office', async () => {
    const connection = (await api('GET', '/v1/connections/netopia')).body;
    const login = connection.sandbox_back_office;
    assert.equal(login.url, `${hub.url}/sandbox/netopia/v1/orders`);
    assert.equal(login.login, connection.credentials.signature);
    const authorization = `Basic ${Buffer.from(`${login.login}:${login.password}`).toString('base64')}`;
    assert.equal((await fetch(login.url, { headers: { accept: 'application/json', authorization } })).status, 200);
    assert.equal((await fetch(login.url, { headers: { accept: 'application/json' } })).status, 401);
    const listed = (await api('GET', '/v1/connections')).body.data[0];
    assert.equal(listed.sandbox_back_office.login, login.login);
  });
});

describe('a NUL in an emulator URL is a clean 4xx, never a 500', () => {
  it('every emulator and the inbox', async () => {
    const paths = [
      '/sandbox/nexi/accounts/%00',
      '/sandbox/nexi/back-office/links/%00/x',
      '/sandbox/nexi/ecomm/ecomm/paymail/%00',
      '/sandbox/netopia/v1/accounts/%00',
      '/sandbox/netopia/v1/orders/%00',
      '/sandbox/netopia/v1/card/%00',
      '/sandbox/netopia/v1/login?next=%00',
      '/sandbox/netopia/v2/orders/%00',
      '/sandbox/netopia/v2/ui/card/%00',
      '/sandbox/multisafepay/connect/%00',
      '/sandbox/multisafepay/v1/json/orders/%00',
      '/sandbox/multisafepay/v1/json/orders/x?api_key=%00',
      '/sandbox/volt/checkout/%00',
      '/sandbox/volt/payments/%00',
      '/sandbox/volt/bank/%00',
      '/sandbox/inbox/%00',
      '/sandbox/inbox/demo?secret=%00',
    ];
    for (const path of paths) {
      const r = await fetch(hub.url + path);
      assert.ok(r.status >= 400 && r.status < 500, `GET ${path}: ${r.status}`);
      await r.text();
    }
    for (const path of [
      '/sandbox/netopia/v1/orders/%00/credit',
      '/sandbox/netopia/v1/login',
      '/sandbox/nexi/ecomm/api/bo/%00',
      '/sandbox/volt/checkout/%00',
      '/sandbox/multisafepay/connect/%00/pay',
      '/sandbox/inbox/%00',
    ]) {
      const r = await fetch(hub.url + path + (path.endsWith('login') ? '?x=%00' : ''), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'a=%00',
      });
      assert.ok(r.status >= 400 && r.status < 500, `POST ${path}: ${r.status}`);
      await r.text();
    }
    assert.equal(hub.logs.filter((l) => Number(l.level) >= 50).length, 0, 'nothing logged as an error');
  });
});
