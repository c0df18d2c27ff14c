import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser } from '../support/browser.js';
import { startTestHub, type TestHub } from '../support/hub.js';
import { TEST_CARDS as MULTISAFEPAY_CARDS } from '../../emulators/multisafepay/cards.js';
import { TEST_CARDS as NETOPIA_V1_CARDS } from '../../emulators/netopia-v1/card-outcomes.js';
import { TEST_CARD_OUTCOMES as NETOPIA_V2_CARDS } from '../../emulators/netopia-v1/page-text.js';
import { TEST_CARDS as NEXI_CARDS } from '../../emulators/nexi/test-cards.js';
import { SANDBOX_BANKS } from '../../emulators/volt/banks.js';

/**
 * /sandbox/ on a hub started as `npm start` starts it: every emulator mounted, with what it plays, its base URL,
 * each of its test cards (or banks) from its own table, a way to open an account that works, its back office,
 * and the webhook inbox.
 */

let hub: TestHub;
let browser: Browser;
let page: Page;

before(async () => {
  hub = await startTestHub();
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const response = await page.goto(`${hub.url}/sandbox/`);
  assert.equal(response?.status(), 200);
  assert.match(response?.headers()['content-security-policy'] ?? '', /default-src 'none'/);
});

after(async () => {
  await browser?.close();
  await hub?.close();
});

const sections: Array<{ id: string; heading: RegExp; prefix: string; provider: string; instruments: () => string[] }> = [
  {
    id: 'netopia-v1',
    heading: /NETOPIA Payments API v1/,
    prefix: '/sandbox/netopia/v1',
    provider: 'netopia-v1',
    instruments: () => [...NETOPIA_V1_CARDS.keys()],
  },
  {
    id: 'netopia-v2',
    heading: /NETOPIA Payments API v2/,
    prefix: '/sandbox/netopia/v2',
    provider: 'netopia-v2',
    instruments: () => NETOPIA_V2_CARDS.map((c) => c.pan),
  },
  { id: 'multisafepay', heading: /MultiSafepay/, prefix: '/sandbox/multisafepay', provider: 'multisafepay', instruments: () => [...MULTISAFEPAY_CARDS.keys()] },
  { id: 'nexi', heading: /Nexi XPay/, prefix: '/sandbox/nexi', provider: 'nexi', instruments: () => NEXI_CARDS.map((c) => c.pan) },
  { id: 'volt', heading: /Volt/, prefix: '/sandbox/volt', provider: 'volt', instruments: () => SANDBOX_BANKS.map((b) => b.name) },
];

describe('the sandbox index', () => {
  it('lists every emulator mounted with its base URL and every test card or bank of its own table, with its outcome', async () => {
    await page.getByRole('heading', { name: 'Sandbox', level: 1 }).waitFor();
    const nav = page.getByRole('navigation', { name: 'Emulators' });
    assert.equal(await nav.getByRole('link').count(), sections.length + 1);
    for (const s of sections) {
      const section = page.getByRole('region', { name: s.heading });
      await section.waitFor();
      assert.match((await section.textContent()) ?? '', new RegExp(`Base URL${(hub.url + s.prefix).replace(/[/.]/g, '\\$&')}`));
      const rows = section.getByRole('table').getByRole('row');
      const expected = s.instruments();
      assert.equal(await rows.count(), expected.length + 1, s.id);
      const firstCells = await section.locator('tbody tr td:first-child').allTextContents();
      assert.deepEqual(firstCells, expected, s.id);
      // Every row says what happens.
      for (const outcome of await section.locator('tbody tr td:last-child').allTextContents()) assert.ok(outcome.trim().length > 3, s.id);
    }
    const v1 = page.getByRole('region', { name: /NETOPIA Payments API v1/ });
    assert.match((await v1.getByRole('row').filter({ hasText: '9900518572831942' }).textContent()) ?? '', /declined: 20 \(Insufficient funds\)/i);
    assert.match((await v1.getByRole('row').filter({ hasText: '9900009184214768' }).textContent()) ?? '', /3-D Secure/);
    await page.getByRole('region', { name: 'Webhook inbox' }).getByText(`${hub.url}/sandbox/inbox/{name}`).waitFor();
    const widths = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, window: window.innerWidth }));
    assert.ok(widths.scroll <= widths.window, `the page is ${widths.scroll} px wide in a ${widths.window} px window`);
  });

  it("each emulator's account route, as the page gives it, opens a sandbox account", async () => {
    for (const s of sections) {
      const text = (await page.getByRole('region', { name: s.heading }).textContent()) ?? '';
      const route = new RegExp(`POST (${s.prefix.replace(/[/.]/g, '\\$&')}/accounts)`).exec(text)?.[1];
      assert.ok(route, `${s.id}: the account route is given`);
      assert.ok(text.includes(`--provider ${s.provider} --environment emulator`), `${s.id}: the hub's way is given`);
      const response = await fetch(hub.url + route, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"Index test"}' });
      assert.equal(response.status, 201, `${s.id}: ${await response.clone().text()}`);
    }
  });

  it('links to the NETOPIA v1 back office (its login) and says how to read the others', async () => {
    await Promise.all([page.waitForURL(/\/sandbox\/netopia\/v1\/orders$/), page.getByRole('link', { name: 'GET /sandbox/netopia/v1/orders' }).click()]);
    await page.getByRole('heading', { name: 'Sandbox back office: log in' }).waitFor();
    await page.goto(`${hub.url}/sandbox/`);
    for (const path of ['/sandbox/netopia/v2/orders/{ntpID}', '/sandbox/nexi/back-office/links/{alias}/{codTrans}', '/sandbox/volt/payments']) {
      await page.getByText(path, { exact: false }).first().waitFor();
    }
  });

  it('/sandbox redirects to /sandbox/; a JSON client gets the same description', async () => {
    const redirect = await fetch(`${hub.url}/sandbox`, { redirect: 'manual' });
    assert.equal(redirect.status, 301);
    assert.equal(redirect.headers.get('location'), '/sandbox/');
    const json = await (await fetch(`${hub.url}/sandbox/`, { headers: { accept: 'application/json' } })).json();
    assert.deepEqual(
      json.emulators.map((e: { id: string; baseUrl: string }) => [e.id, e.baseUrl]),
      sections.map((s) => [s.id, hub.url + s.prefix]),
    );
  });
});
