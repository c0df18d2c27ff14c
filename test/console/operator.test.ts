import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { sql } from 'kysely';
import { launchBrowser } from '../support/browser.js';
import { loginCookie, makeUser, PASSWORD, postForm } from '../support/console.js';
import { apiClient, eventually, startTestHub, type TestHub } from '../support/hub.js';
import { postIpn } from '../support/netopia-v1.js';
import { startWebhookListener } from '../support/webhook-listener.js';
import { TEST_STORE } from '../support/store.js';
import { watchPages } from '../support/page-watch.js';

/**
 * The console's Operator section in headless Chromium: the merchants (with their counts; creating one shows its API
 * key once, and the key works against the API), the OnPay partners (registering one shows its activation key once,
 * and it trades once for a production key), and the hub's health with numbers that match what the test made (forged
 * NETOPIA v1 IPNs counted under their reason, a webhook listener that always fails counted as failed deliveries, the
 * store in use). A merchant's admin and viewer are refused (403) and see no Operator entry. axe on every page, no
 * Content-Security-Policy violation. With INCASSO_WRITE_SCREENSHOTS=1 it writes the README's screenshots.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SHOTS = process.env.INCASSO_WRITE_SCREENSHOTS === '1' ? join(ROOT, 'docs/screenshots') : undefined;

let hub: TestHub;
let browser: Browser;
let listener: Awaited<ReturnType<typeof startWebhookListener>>;
const A = { id: '', key: '', connection: '' };
const users = { operator: '', admin: '', viewer: '' };
const watch = watchPages(() => browser, { viewport: { width: 1280, height: 900 }, timeoutMs: 120_000, ignoreFailedLoads: true });
const { pageErrors, axeFindings, newPage, axe } = watch;

async function logIn(page: Page, email: string) {
  await page.goto(`${hub.url}/console/login`);
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL((u) => !u.pathname.endsWith('/login'));
}

async function screenshot(page: Page, name: string) {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, name), fullPage: true });
}

/** The cells of a table's rows, as text. */
const rowsOf = (page: Page, table: string) =>
  page.locator(`${table} tbody tr`).evaluateAll((rows) => rows.map((r) => Array.from(r.querySelectorAll('td')).map((c) => (c.textContent ?? '').trim())));

before(async () => {
  // Webhook retries squeezed into a few seconds: a listener that always fails makes failed deliveries quickly.
  [hub, browser, listener] = await Promise.all([
    startTestHub({ outboundAllow: '127.0.0.1', webhookRetryScale: 0.00005 }),
    launchBrowser(),
    startWebhookListener({ respond: () => 500 }),
  ]);
  const admin = apiClient(hub.url, hub.adminKey);
  const m = await admin('POST', '/v1/merchants', { name: 'Librăria Mică SRL' });
  A.id = m.body.id;
  A.key = m.body.api_key;
  const asA = apiClient(hub.url, A.key);
  const c = await asA('POST', '/v1/connections', { code: 'netopia', provider: 'netopia-v1', environment: 'emulator' });
  assert.equal(c.status, 201, JSON.stringify(c.body));
  A.connection = c.body.id;
  const wh = await asA('POST', '/v1/webhook-endpoints', { url: listener.url });
  assert.equal(wh.status, 201, JSON.stringify(wh.body));
  for (const order of ['OP-1', 'OP-2']) {
    const p = await asA('POST', '/v1/payments', {
      connection: 'netopia',
      order_id: order,
      amount: 4990,
      currency: 'RON',
      description: `Comanda ${order}`,
      billing: {
        first_name: 'Ioana',
        last_name: 'Pop',
        email: 'ioana@example.ro',
        phone: '0722000111',
        address: 'Str. Lungă 5',
        city: 'Brașov',
        country: 'RO',
      },
    });
    assert.equal(p.status, 201, JSON.stringify(p.body));
  }
  users.operator = (await makeUser(hub.url, hub.adminKey, 'ops@example.ro', 'operator', null)).email;
  users.admin = (await makeUser(hub.url, hub.adminKey, 'admin@libraria.ro', 'admin', A.id)).email;
  users.viewer = (await makeUser(hub.url, hub.adminKey, 'viewer@libraria.ro', 'viewer', A.id)).email;
});

after(async () => {
  await browser?.close();
  await listener?.close();
  await hub?.close();
});

describe(`the console's Operator section (${TEST_STORE})`, () => {
  it('lists the merchants with their counts and creates one whose API key is shown once and works', async () => {
    const page = await newPage();
    await logIn(page, users.operator);
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Operator' }).click();
    await page.getByRole('navigation', { name: 'Operator pages' }).getByRole('link', { name: 'Merchants' }).click();
    assert.equal(new URL(page.url()).pathname, '/console/operator/merchants');
    const rows = await rowsOf(page, '#merchants');
    const a = rows.find((r) => r[1] === A.id);
    assert.ok(a, JSON.stringify(rows));
    // name, id, live API keys, payments, active connections, console users, OnPay partner
    assert.deepEqual(a.slice(0, 7), ['Librăria Mică SRL', A.id, '1', '2', '1', '2', 'no']);
    await axe(page);

    await page.getByLabel("The merchant's name").fill('Cafeaua Bună SRL');
    await page.getByRole('button', { name: 'Create a merchant' }).click();
    await page.getByRole('status').waitFor();
    const key = await page.getByLabel('API key').inputValue();
    assert.match(key, /^sk_/);
    assert.match(await page.getByRole('status').innerText(), /Cafeaua Bună SRL \(mer_/);
    await axe(page);
    await screenshot(page, 'console-operator-merchants.png');
    const created = (await rowsOf(page, '#merchants')).find((r) => r[0] === 'Cafeaua Bună SRL');
    assert.ok(created, 'the new merchant is in the list');
    // The POST answered 303: a reload shows the page again without the key, and makes no second merchant.
    assert.match(page.url(), /\/console\/operator\/merchants\?shown=/);
    const count = (await rowsOf(page, '#merchants')).length;
    await page.reload();
    await page.getByRole('status').filter({ hasText: 'is not shown again' }).waitFor();
    assert.equal(await page.getByLabel('API key').count(), 0);
    assert.ok(!(await page.content()).includes(key), 'the key is not on the page any more');
    assert.equal((await rowsOf(page, '#merchants')).length, count, 'the reload made no merchant');
    await axe(page);
    assert.deepEqual(created.slice(3, 7), ['0', '0', '0', 'no']);

    // The key works against the API, as that merchant.
    const asNew = apiClient(hub.url, key);
    const conn = await asNew('POST', '/v1/connections', { code: 'netopia', provider: 'netopia-v1', environment: 'emulator' });
    assert.equal(conn.status, 201, JSON.stringify(conn.body));
    const list = await asNew('GET', '/v1/payments');
    assert.equal(list.status, 200);
    assert.equal(list.body.data.length, 0, "the new merchant sees none of the other merchant's payments");

    // Shown once: the list, opened again, has its prefix only.
    await page.goto(`${hub.url}/console/operator/merchants`);
    const again = await page.content();
    assert.ok(!again.includes(key), 'the key is not shown again');
    assert.ok((await rowsOf(page, '#merchants')).some((r) => r[0] === 'Cafeaua Bună SRL' && r[4] === '1'));
    // A name the API would refuse is refused here too, and nothing is created.
    const cookie = await loginCookie(hub.url, users.operator);
    const token = /name="_csrf" value="([^"]+)"/.exec(await (await fetch(`${hub.url}/console/operator/merchants`, { headers: { cookie } })).text())![1]!;
    const blank = await postForm(`${hub.url}/console/operator/merchants`, { _csrf: token, name: '   ' }, { cookie });
    assert.equal(blank.status, 400);
    assert.equal((await apiClient(hub.url, hub.adminKey)('GET', '/v1/merchants')).body.data.length, 2);
    await page.context().close();
  });

  it('registers an OnPay partner whose activation key is shown once and trades once', async () => {
    const page = await newPage();
    await logIn(page, users.operator);
    await page.goto(`${hub.url}/console/operator/onpay`);
    assert.match(await page.locator('main').innerText(), /There is no OnPay partner yet/);
    await axe(page);
    await page.getByLabel("The partner's name").fill('Gestionale Bianchi');
    await page.getByRole('button', { name: 'Register an OnPay partner' }).click();
    await page.getByRole('status').waitFor();
    const activation = await page.getByLabel(/^Activation key/).inputValue();
    assert.match(activation, /^opa_/);
    assert.match(await page.getByLabel('API key').inputValue(), /^sk_/);
    await axe(page);
    let rows = await rowsOf(page, '#partners');
    assert.equal(rows.length, 1);
    assert.equal(rows[0]![0], 'Gestionale Bianchi');
    assert.equal(rows[0]![2], 'not traded yet');

    const trade = async () => (await fetch(`${hub.url}/api/get_onpay_key/`, { method: 'POST', body: new URLSearchParams({ key: activation }) })).json();
    const first = await trade();
    assert.equal(first.success, 'true', JSON.stringify(first));
    assert.equal((await trade()).success, 'false', 'an activation key works once');

    await page.goto(`${hub.url}/console/operator/onpay`);
    assert.ok(!(await page.content()).includes(activation), 'the activation key is not shown again');
    rows = await rowsOf(page, '#partners');
    assert.match(rows[0]![2]!, new RegExp(`^traded on .* \\(production key begins ${first.onpaykey.slice(0, 10)}…\\)$`));
    // The partner is a merchant: the merchants list says so.
    await page.goto(`${hub.url}/console/operator/merchants`);
    assert.ok((await rowsOf(page, '#merchants')).some((r) => r[0] === 'Gestionale Bianchi' && r[6] === 'yes'));
    await page.context().close();
  });

  it("shows the hub's health: refused notifications by reason, failed deliveries, the store in use", async () => {
    // Two forged NETOPIA v1 IPNs to a real connection, and one to a connection that does not exist.
    for (let i = 0; i < 2; i++) await postIpn(`${hub.url}/notify/netopia-v1/${A.connection}`, 'env_key=AAAA&data=AAAA');
    await postIpn(`${hub.url}/notify/netopia-v1/con_doesnotexist`, 'env_key=AAAA&data=AAAA');
    // What the hub stored as their reason (the page must count them under it).
    const stored = await sql<{ error: string; n: number }>`
      SELECT error, count(*)::int AS n FROM notifications WHERE status = 'rejected' GROUP BY error ORDER BY error`.execute(hub.ctx.db);
    const forgedReason = stored.rows.find((r) => r.error !== 'unknown connection');
    assert.ok(forgedReason && forgedReason.n === 2, JSON.stringify(stored.rows));
    // The failing listener: every delivery (payment.created of two payments, at least) ends failed after its retries.
    const deliveries = await eventually(async () => {
      const r = await sql<{ status: string; n: number }>`SELECT status, count(*)::int AS n FROM webhook_deliveries GROUP BY status`.execute(hub.ctx.db);
      assert.ok(r.rows.length === 1 && r.rows[0]!.status === 'failed' && r.rows[0]!.n >= 2, JSON.stringify(r.rows));
      return r.rows[0]!.n;
    }, 30_000);

    const page = await newPage();
    await logIn(page, users.operator);
    await page.goto(`${hub.url}/console/operator`);
    assert.equal(await page.title(), 'Hub health · incasso');
    const refused = await rowsOf(page, '#refused');
    const forged = refused.find((r) => r[1] === forgedReason.error);
    assert.ok(forged, JSON.stringify(refused));
    assert.deepEqual(forged.slice(0, 3), ['netopia-v1', forgedReason.error, '2']);
    assert.ok(
      refused.some((r) => r[0] === 'netopia-v1' && r[1] === 'unknown connection' && r[2] === '1'),
      JSON.stringify(refused),
    );
    assert.equal(await page.locator('#deliveries-failed').innerText(), `${deliveries} (${deliveries} in the last 24 hours)`);
    assert.equal(await page.locator('#deliveries-due').innerText(), '0');
    assert.equal(await page.locator('#inbox-waiting').innerText(), '0');
    assert.match(await page.locator('#database-kind').innerText(), TEST_STORE === 'pglite' ? /^PGlite \S+ \(embedded, PostgreSQL \d+/ : /^PostgreSQL \d+\.\d+/);
    assert.match(await page.locator('#janitors-late').innerText(), /^\d+(\.\d+)? (ms|s)$/);
    assert.equal(
      await page.locator('#hub-version').innerText(),
      JSON.parse(await import('node:fs').then((fs) => fs.readFileSync(join(ROOT, 'package.json'), 'utf8'))).version,
    );
    await axe(page);
    // The page refreshes its numbers by itself (htmx): a new refusal shows without a reload.
    await postIpn(`${hub.url}/notify/netopia-v1/con_doesnotexist`, 'env_key=AAAA&data=AAAA');
    await page.waitForFunction(
      () =>
        Array.from(document.querySelectorAll('#refused tbody tr')).some(
          (r) => r.textContent?.includes('unknown connection') && r.querySelectorAll('td')[2]?.textContent === '2',
        ),
      undefined,
      { timeout: 25_000 },
    );
    await screenshot(page, 'console-operator-health.png');

    // The same page in Romanian.
    const cookie = await loginCookie(hub.url, users.operator);
    const token = /name="_csrf" value="([^"]+)"/.exec(await (await fetch(`${hub.url}/console/operator`, { headers: { cookie } })).text())![1]!;
    assert.equal((await postForm(`${hub.url}/console/language`, { _csrf: token, language: 'ro' }, { cookie })).status, 303);
    const ro = await (await fetch(`${hub.url}/console/operator`, { headers: { cookie } })).text();
    assert.match(ro, /<h1>Starea hubului<\/h1>/);
    assert.match(ro, /Notificări refuzate în ultima oră/);
    assert.equal((await postForm(`${hub.url}/console/language`, { _csrf: token, language: 'en' }, { cookie })).status, 303);
    await page.context().close();
  });

  it("refuses the merchant's admin and viewer: no Operator entry, 403 on every page and form", async () => {
    for (const email of [users.admin, users.viewer]) {
      const page = await newPage();
      await logIn(page, email);
      const nav = page.getByRole('navigation', { name: 'Sections' });
      assert.equal(await nav.getByRole('link', { name: 'Operator' }).count(), 0, `${email} sees no Operator entry`);
      assert.ok((await nav.getByRole('link').count()) >= 1);
      for (const path of ['/console/operator', '/console/operator/merchants', '/console/operator/onpay']) {
        const r = await page.goto(`${hub.url}${path}`);
        assert.equal(r!.status(), 403, `${email} ${path}`);
        assert.ok(!(await page.content()).includes(A.key.slice(0, 12)));
      }
      await axe(page);
      await page.context().close();
      const cookie = await loginCookie(hub.url, email);
      const token = /name="_csrf" value="([^"]+)"/.exec(await (await fetch(`${hub.url}/console/payments`, { headers: { cookie } })).text())![1]!;
      for (const path of ['/console/operator/merchants', '/console/operator/onpay']) {
        const r = await postForm(`${hub.url}${path}`, { _csrf: token, name: 'Sneaky SRL' }, { cookie });
        assert.equal(r.status, 403, `${email} POST ${path}`);
      }
    }
    const names = (await apiClient(hub.url, hub.adminKey)('GET', '/v1/merchants')).body.data.map((m: { name: string }) => m.name);
    assert.ok(!names.includes('Sneaky SRL'), 'no merchant was created by a merchant user');
  });

  it('the payments list for the operator (the README screenshot), then: axe found nothing serious, no CSP violation', async () => {
    const page = await newPage();
    await logIn(page, users.operator);
    await page.goto(`${hub.url}/console/payments`);
    assert.equal((await page.locator('#results tbody tr').count()) >= 2, true);
    await axe(page);
    await screenshot(page, 'console-payments.png');
    await page.context().close();
    assert.deepEqual(axeFindings, []);
    assert.deepEqual(pageErrors, []);
  });
});
