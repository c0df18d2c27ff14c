import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { sql } from 'kysely';
import type { Browser, Page } from 'playwright-core';
import { LATE_ANSWER_AMOUNT_SUFFIX } from '../../emulators/nexi/back-office.js';
import { paymentsOverview } from '../../src/services/overview.js';
import { launchBrowser } from '../support/browser.js';
import { billing, loginCookie, makeMerchant, makeUser, navFor, PASSWORD } from '../support/console.js';
import { apiClient, eventually, startTestHub, type TestHub } from '../support/hub.js';
import { CARDS, openPaymentPage, payAtProcessor } from '../support/netopia-customer.js';
import { TEST_STORE } from '../support/store.js';
import { watchPages } from '../support/page-watch.js';

/**
 * The console's overview, with payments made for real: created through the API, paid and declined on the NETOPIA
 * v1 emulator's card page, one expired after a decline, one whose Nexi start answer came too late (outcome unknown),
 * and a few moved back in time to other days. The numbers the page shows (payments and volume by UTC day, success
 * rate per connection, decline reasons, payments waiting and the lists they link to) are checked against what was
 * made; a merchant never sees another's payments; the operator sees all or one merchant; the period changes what
 * counts. In headless Chromium: the charts are drawn (a canvas of non-zero size per table), axe finds nothing serious,
 * no Content-Security-Policy violation; without script the tables show and no chart box takes room.
 */

let hub: TestHub;
let browser: Browser;
const A = { id: '', key: '' };
const B = { id: '', key: '' };
const users = { admin: '', viewerB: '', operator: '' };
const orders: Record<string, string> = {};
const watch = watchPages(() => browser, { viewport: { width: 1280, height: 900 } });
const { pageErrors, axeFindings, newPage, axe } = watch;
const SHOTS = `/tmp/shots-console-overview/${TEST_STORE}`;

const DAY_MS = 86_400_000;
const todayMs = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
const day = (daysAgo: number) => new Date(todayMs - daysAgo * DAY_MS).toISOString().slice(0, 10);

type Api = ReturnType<typeof apiClient>;

async function create(api: Api, order: string, amount: number, currency: string, extra: Record<string, unknown> = {}) {
  const r = await api('POST', '/v1/payments', {
    connection: 'netopia',
    order_id: order,
    amount,
    currency,
    description: `Comanda ${order}`,
    billing,
    metadata: { language: 'en' },
    ...extra,
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  orders[order] = r.body.id;
  return r.body as { id: string; payment_url: string };
}

/** The customer pays (or is declined) on NETOPIA's card page; resolves once the hub has recorded the attempt's outcome. */
async function payWith(api: Api, payment: { id: string; payment_url: string }, pan: string, attempts: number) {
  const opened = await openPaymentPage(payment.payment_url);
  assert.equal(opened.kind, 'handoff', JSON.stringify(opened));
  if (opened.kind !== 'handoff') return;
  const result = await payAtProcessor(opened.handoff, { pan });
  assert.equal(result.kind, 'returned');
  await eventually(
    async () => {
      const p = (await api('GET', `/v1/payments/${payment.id}`)).body;
      return p.attempts.length === attempts && ['captured', 'failed'].includes(p.attempts[attempts - 1].status);
    },
    15_000,
    `the outcome of attempt ${attempts} of ${payment.id}`,
  );
}

async function moveTo(order: string, at: string) {
  await sql`UPDATE payments SET created_at = ${new Date(at)} WHERE id = ${orders[order]!}`.execute(hub.store.db);
}

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  [hub, browser] = await Promise.all([startTestHub(), launchBrowser()]);
  // Nexi answers a PayMail for an amount ending in 408 a minute late; the hub gives up on a start after 1.5 s.
  hub.ctx.processorDeadlinesMs = { start: 1500 };
  Object.assign(A, await makeMerchant(hub.url, hub.adminKey, 'Librăria Mică SRL', { netopiaV1: true }));
  Object.assign(B, await makeMerchant(hub.url, hub.adminKey, 'Alt Magazin SRL', { netopiaV1: true }));
  const asA = apiClient(hub.url, A.key);
  const asB = apiClient(hub.url, B.key);
  assert.equal((await asA('POST', '/v1/connections', { code: 'nexi', provider: 'nexi', environment: 'emulator' })).status, 201);

  // Merchant A, on NETOPIA v1:
  await payWith(asA, await create(asA, 'A1-PAID', 4990, 'RON'), CARDS.approved, 1);
  const a2 = await create(asA, 'A2-DECLINED-THEN-PAID', 10000, 'RON');
  await payWith(asA, a2, CARDS.insufficientFunds, 1);
  await payWith(asA, a2, CARDS.approved, 2);
  const a3 = await create(asA, 'A3-DECLINED-THEN-EXPIRED', 2500, 'RON', { expires_at: new Date(Date.now() + 4000).toISOString() });
  await payWith(asA, a3, CARDS.insufficientFunds, 1);
  await payWith(asA, await create(asA, 'A4-DECLINED', 1500, 'RON'), CARDS.expired, 1);
  await create(asA, 'A5-WAITING', 2000, 'RON');
  await payWith(asA, await create(asA, 'A6-PAID-EUR', 1200, 'EUR'), CARDS.approved, 1);
  await payWith(asA, await create(asA, 'A7-PAID-40-DAYS-AGO', 3000, 'RON'), CARDS.approved, 1);
  await payWith(asA, await create(asA, 'A8-PAID-5-DAYS-AGO', 1000, 'RON'), CARDS.approved, 1);
  // ... and on Nexi: the start's answer never comes in time, so the attempt's outcome is unknown.
  const n1 = await asA('POST', '/v1/payments', {
    connection: 'nexi',
    order_id: 'N1-UNKNOWN',
    amount: 1000 + LATE_ANSWER_AMOUNT_SUFFIX,
    currency: 'EUR',
    description: 'Risotto',
    billing: { first_name: 'Giulia', last_name: 'Bianchi', email: 'giulia@example.it', city: 'Milano' },
  });
  assert.equal(n1.status, 201, JSON.stringify(n1.body));
  orders['N1-UNKNOWN'] = n1.body.id;
  await fetch(`${hub.url}/pay/${n1.body.id}`, { redirect: 'manual' }).then((r) => r.text());
  assert.equal((await asA('GET', `/v1/payments/${n1.body.id}`)).body.attempts[0].status, 'unknown');
  await eventually(async () => (await asA('GET', `/v1/payments/${a3.id}`)).body.status === 'expired', 15_000, 'A3 to expire');

  // Merchant B: one paid, one declined (never counted for A).
  await payWith(asB, await create(asB, 'B1-PAID', 7700, 'RON'), CARDS.approved, 1);
  await payWith(asB, await create(asB, 'B2-DECLINED', 3300, 'RON'), CARDS.notPermitted, 1);

  // Other days: the last second of a day and the first of another (UTC), and one outside the last 30 days.
  await moveTo('A1-PAID', `${day(6)}T23:59:59.999Z`);
  await moveTo('A8-PAID-5-DAYS-AGO', `${day(5)}T00:00:00.000Z`);
  await moveTo('A7-PAID-40-DAYS-AGO', `${day(40)}T12:00:00.000Z`);

  users.admin = (await makeUser(hub.url, hub.adminKey, 'admin@libraria.ro', 'admin', A.id)).email;
  users.viewerB = (await makeUser(hub.url, hub.adminKey, 'viewer@altmagazin.ro', 'viewer', B.id, 'ro')).email;
  users.operator = (await makeUser(hub.url, hub.adminKey, 'ops@hub.example', 'operator', null)).email;
});

after(async () => {
  await browser?.close();
  await hub?.close();
});

async function logIn(page: Page, email: string, labels = { email: 'E-mail', password: 'Password', button: 'Log in' }) {
  await page.goto(`${hub.url}/console/login`);
  await page.getByLabel(labels.email).fill(email);
  await page.getByLabel(labels.password).fill(PASSWORD);
  await page.getByRole('button', { name: labels.button }).click();
}

/** A table's body rows as the texts of their cells (read whether its <details> is open or not). */
const rowsOf = (page: Page, figure: string) =>
  page
    .locator(`#${figure} table tbody tr`)
    .evaluateAll((rows) => rows.map((r) => Array.from((r as HTMLTableRowElement).cells).map((c) => c.textContent!.trim())));

/** The by-day table's rows that are not all zero, as [day, created, paid]. */
const busyDays = async (page: Page) => (await rowsOf(page, 'chart-by-day')).filter((r) => r[1] !== '0');
const volumeOf = async (page: Page, currency: string) =>
  (await rowsOf(page, `chart-volume-${currency.toLowerCase()}`)).filter((r) => r[1] !== '0.00').map((r) => `${r[0]} ${r[1]}`);
const waiting = async (page: Page) => [await page.locator('#waiting-pending').innerText(), await page.locator('#waiting-unknown').innerText()];

describe('the overview', () => {
  it("shows a merchant's numbers for the last 30 days, landing there after login, charts drawn under the policy", async () => {
    const page = await newPage();
    await logIn(page, users.admin);
    await page.waitForURL(`${hub.url}/console/overview`);
    assert.deepEqual(await page.getByRole('navigation', { name: 'Sections' }).getByRole('link').allInnerTexts(), navFor('admin'));
    assert.equal(navFor('admin')[0], 'Overview');
    assert.equal(await page.getByLabel('Period').inputValue(), '30');
    assert.equal(await page.getByLabel('Merchant').count(), 0, 'a merchant user chooses no merchant');
    assert.match(await page.locator('#overview-scope').innerText(), new RegExp(`from ${day(29)} to ${day(0)} .*your merchant`));

    // Payments by day: 30 rows (zeros included); A1 on the day before A8's, by UTC; A7 (40 days ago) not counted.
    assert.equal((await rowsOf(page, 'chart-by-day')).length, 30);
    assert.deepEqual(await busyDays(page), [
      [day(6), '1', '1'],
      [day(5), '1', '1'],
      [day(0), '6', '2'],
    ]);
    await page.getByText('Created: 8. Paid: 4.').waitFor();
    // Paid volume, per currency.
    assert.deepEqual(await volumeOf(page, 'RON'), [`${day(6)} 49.90`, `${day(5)} 10.00`, `${day(0)} 100.00`]);
    assert.deepEqual(await volumeOf(page, 'EUR'), [`${day(0)} 12.00`]);
    await page.getByText('Total: 159.90 RON (payments paid: 3).').waitFor();
    await page.getByText('Total: 12.00 EUR (payments paid: 1).').waitFor();
    // Success per connection: NETOPIA 4 paid of 5 final (A3 expired; A4, A5 still pending); Nexi none final.
    assert.deepEqual(await rowsOf(page, 'chart-success'), [
      ['netopia', 'netopia-v1', '7', '4', '5', '80.0%'],
      ['nexi', 'nexi', '1', '0', '0', 'none final yet'],
    ]);
    // Decline reasons: insufficient funds twice (A2's first attempt, A3), the expired card once (A4).
    const declines = await rowsOf(page, 'chart-declines');
    assert.deepEqual(
      declines.map((r) => [r[0], r[1], r[3]]),
      [
        ['20', 'netopia-v1', '2'],
        ['19', 'netopia-v1', '1'],
      ],
    );
    assert.ok(
      declines.every((r) => r[2]!.length > 0),
      'each code has its message',
    );
    // Waiting: A4, A5 and N1 pending; N1's outcome unknown.
    assert.deepEqual(await waiting(page), ['3', '1']);

    // The charts: one canvas per table, drawn at a size, named; the tables folded into their <details>.
    const figures = ['chart-by-day', 'chart-volume-ron', 'chart-volume-eur', 'chart-success', 'chart-declines'];
    for (const id of figures) {
      const canvas = page.locator(`#${id} canvas`);
      await canvas.waitFor();
      const box = await canvas.boundingBox();
      assert.ok(box && box.width > 100 && box.height > 50, `${id}: a drawn canvas, not ${JSON.stringify(box)}`);
      assert.equal(await canvas.getAttribute('role'), 'img');
      assert.ok((await canvas.getAttribute('aria-label'))!.length > 20, `${id}: the chart is named`);
      assert.equal(await page.locator(`#${id} details`).getAttribute('open'), null, `${id}: the table folds away once the chart is drawn`);
      // The canvas has ink on it: Chart.js drew the bars.
      const painted = await canvas.evaluate((c: HTMLCanvasElement) => {
        const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        let ink = 0;
        for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) ink++;
        return ink;
      });
      assert.ok(painted > 500, `${id}: ${painted} painted pixels`);
    }
    assert.equal(await page.locator('script:not([src])').count(), 0, 'no inline script');
    await page.screenshot({ path: `${SHOTS}/overview-merchant.png`, fullPage: true });
    await page.locator('#chart-success details summary').click();
    assert.equal(await page.locator('#chart-success table').isVisible(), true, 'the table opens again');
    await axe(page);
    await page.context().close();
  });

  it('links the payments waiting to the payment list filtered the same way', async () => {
    const page = await newPage();
    await logIn(page, users.admin);
    await page.waitForURL(`${hub.url}/console/overview`);
    await page.getByRole('link', { name: 'List them: pending' }).click();
    await page.waitForURL(new RegExp(`/console/payments\\?status=pending&from=${day(29)}$`));
    assert.deepEqual((await page.locator('#results tbody tr td:nth-child(2)').allInnerTexts()).sort(), ['A4-DECLINED', 'A5-WAITING', 'N1-UNKNOWN']);
    await page.goBack();
    await page.getByRole('link', { name: 'List them: attempt outcome unknown' }).click();
    await page.waitForURL(/status=unknown/);
    assert.deepEqual(await page.locator('#results tbody tr td:nth-child(2)').allInnerTexts(), ['N1-UNKNOWN']);
    assert.equal(await page.getByLabel('Status').inputValue(), 'unknown');
    await axe(page);
    await page.context().close();
  });

  it('counts over the period chosen: 7 days, 90 days (the payment of 40 days ago)', async () => {
    const page = await newPage();
    await logIn(page, users.admin);
    await page.waitForURL(`${hub.url}/console/overview`);
    await page.getByLabel('Period').selectOption('90');
    await page.getByRole('button', { name: 'Show' }).click();
    await page.waitForURL(/days=90/);
    assert.equal((await rowsOf(page, 'chart-by-day')).length, 90);
    await page.getByText('Created: 9. Paid: 5.').waitFor();
    await page.getByText('Total: 189.90 RON (payments paid: 4).').waitFor();
    assert.deepEqual((await busyDays(page))[0], [day(40), '1', '1']);
    assert.deepEqual((await rowsOf(page, 'chart-success'))[0], ['netopia', 'netopia-v1', '8', '5', '6', '83.3%']);
    await page.goto(`${hub.url}/console/overview?days=7`);
    assert.equal((await rowsOf(page, 'chart-by-day')).length, 7);
    await page.getByText('Created: 8. Paid: 4.').waitFor();
    const bad = await page.goto(`${hub.url}/console/overview?days=5`);
    assert.equal(bad!.status(), 400);
    assert.match(await page.getByRole('alert').innerText(), /the period is 7, 30 or 90 days/);
    assert.equal((await rowsOf(page, 'chart-by-day')).length, 30, 'the default period instead');
    await axe(page);
    await page.context().close();
  });

  it("never counts another merchant's payments: B's viewer sees B's alone (in Romanian), whatever the address asks", async () => {
    const page = await newPage();
    await logIn(page, users.viewerB);
    await page.waitForURL(`${hub.url}/console/overview`);
    await page.getByRole('heading', { name: 'Prezentare generală', level: 1 }).waitFor();
    for (const url of ['/console/overview', `/console/overview?merchant=${A.id}`]) {
      await page.goto(hub.url + url);
      await page.getByText('Create: 2. Plătite: 1.').waitFor();
      assert.deepEqual(await volumeOf(page, 'RON'), [`${day(0)} 77.00`]);
      assert.equal(await page.locator('#chart-volume-eur').count(), 0);
      assert.deepEqual(await rowsOf(page, 'chart-success'), [['netopia', 'netopia-v1', '2', '1', '1', '100.0%']]);
      assert.deepEqual(
        (await rowsOf(page, 'chart-declines')).map((r) => [r[0], r[3]]),
        [['34', '1']],
      );
      assert.deepEqual(await waiting(page), ['1', '0']);
    }
    await page.locator('#chart-declines canvas').waitFor();
    await axe(page);
    await page.screenshot({ path: `${SHOTS}/overview-viewer-ro.png`, fullPage: true });
    await page.context().close();
  });

  it('shows the operator every merchant, or the one chosen', async () => {
    const page = await newPage();
    await logIn(page, users.operator);
    await page.waitForURL(`${hub.url}/console/overview`);
    await page.getByText('Created: 10. Paid: 5.').waitFor();
    await page.getByText('Total: 236.90 RON (payments paid: 4).').waitFor();
    // Ordered by merchant, then connection code.
    const success = [
      ['netopia · Librăria Mică SRL', 'netopia-v1', '7', '4', '5', '80.0%'],
      ['nexi · Librăria Mică SRL', 'nexi', '1', '0', '0', 'none final yet'],
    ];
    const bSuccess = ['netopia · Alt Magazin SRL', 'netopia-v1', '2', '1', '1', '100.0%'];
    assert.deepEqual(await rowsOf(page, 'chart-success'), A.id < B.id ? [...success, bSuccess] : [bSuccess, ...success]);
    assert.deepEqual(
      (await rowsOf(page, 'chart-declines')).map((r) => [r[0], r[3]]),
      [
        ['20', '2'],
        ['19', '1'],
        ['34', '1'],
      ],
    );
    assert.deepEqual(await waiting(page), ['4', '1']);
    await page.screenshot({ path: `${SHOTS}/overview-operator.png`, fullPage: true });
    await axe(page);
    await page.getByLabel('Merchant').selectOption(B.id);
    await page.getByRole('button', { name: 'Show' }).click();
    await page.waitForURL(new RegExp(`merchant=${B.id}`));
    await page.getByText('Created: 2. Paid: 1.').waitFor();
    assert.match(await page.locator('#overview-scope').innerText(), /merchant Alt Magazin SRL/);
    assert.deepEqual(await waiting(page), ['1', '0']);
    // The list behind a figure keeps the merchant chosen: B's one pending payment, not the hub's four.
    await page.locator('a[aria-describedby="waiting-pending"]').click();
    await page.waitForURL(new RegExp(`/console/payments\\?merchant=${B.id}&status=pending`));
    assert.equal(await page.getByLabel('Merchant').inputValue(), B.id);
    assert.deepEqual(await page.locator('#results tbody tr td:nth-child(3)').allInnerTexts(), [B.id]);
    await axe(page);
    const bad = await page.goto(`${hub.url}/console/overview?merchant=mer_nobody`);
    assert.equal(bad!.status(), 400);
    await page.getByText('Created: 10. Paid: 5.').waitFor();
    await page.context().close();
  });

  it('works without script: the tables show, no chart box takes room', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await newPage(context);
    await logIn(page, users.admin);
    await page.waitForURL(`${hub.url}/console/overview`);
    assert.equal(await page.locator('canvas').count(), 0);
    for (const id of ['chart-by-day', 'chart-volume-ron', 'chart-success', 'chart-declines']) {
      assert.equal(await page.locator(`#${id} table`).isVisible(), true, `${id}: its table shows`);
      assert.equal(await page.locator(`#${id} .chart-box`).isVisible(), false);
    }
    assert.deepEqual((await rowsOf(page, 'chart-success'))[0], ['netopia', 'netopia-v1', '7', '4', '5', '80.0%']);
    await page.getByLabel('Period').selectOption('7');
    await page.getByRole('button', { name: 'Show' }).click();
    await page.waitForURL(/days=7/);
    assert.equal((await rowsOf(page, 'chart-by-day')).length, 7);
    await page.screenshot({ path: `${SHOTS}/overview-no-script.png`, fullPage: true });
    await context.close();
  });

  it('serves Chart.js and the chart script from the hub, versioned, cached, to anyone', async () => {
    const cookie = await loginCookie(hub.url, users.admin);
    const text = await (await fetch(`${hub.url}/console/overview`, { headers: { cookie } })).text();
    const scripts = [...text.matchAll(/<script src="([^"]+)"/g)].map((m) => m[1]!);
    assert.ok(
      scripts.some((s) => /^\/console\/assets\/chart-\d+\.\d+\.\d+\.umd\.min\.js$/.test(s)),
      scripts.join(),
    );
    assert.ok(
      scripts.some((s) => /^\/console\/assets\/overview-charts-[0-9a-f]{12}\.js$/.test(s)),
      scripts.join(),
    );
    for (const s of scripts) {
      const r = await fetch(hub.url + s);
      assert.equal(r.status, 200, s);
      assert.match(r.headers.get('content-type')!, /^text\/javascript/);
      assert.match(r.headers.get('cache-control')!, /immutable/);
      assert.ok(!(await r.text()).includes('sourceMappingURL'), `${s} names no source map the hub does not serve`);
    }
  });

  it('the service groups by UTC day on either store, and scopes by merchant', async () => {
    const a = await paymentsOverview(hub.ctx, A.id, 30);
    const b = await paymentsOverview(hub.ctx, B.id, 30);
    const all = await paymentsOverview(hub.ctx, null, 30);
    assert.equal(a.created + b.created, all.created);
    assert.deepEqual(
      a.days.filter((d) => d.created).map((d) => d.day),
      [day(6), day(5), day(0)],
    );
    assert.deepEqual(
      a.volume.map((v) => [v.currency, v.total, v.paid]),
      [
        ['RON', 15990, 3],
        ['EUR', 1200, 1],
      ],
    );
    assert.equal(a.since.toISOString(), `${day(29)}T00:00:00.000Z`);
  });

  it('no page broke the content security policy or threw, and axe found nothing serious or critical', () => {
    assert.deepEqual(
      pageErrors.filter((e) => !/the server responded with a status of (400|404)/.test(e)),
      [],
    );
    assert.deepEqual(axeFindings, []);
  });
});
