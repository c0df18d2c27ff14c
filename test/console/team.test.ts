import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser } from '../support/browser.js';
import { loginCookie, makeUser, navFor, PASSWORD, postForm } from '../support/console.js';
import { apiClient, startTestHub, type TestHub } from '../support/hub.js';
import { watchPages } from '../support/page-watch.js';

/**
 * The console's Team section in headless Chromium: API keys created (shown once) and revoked (refused by the API at
 * once), the last key revoked only after a warning, the merchant's key of before still working, a viewer invited
 * who sets a password through the shown link and then neither sees nor opens the section, a disabled user's open
 * session ending at once, the last admin protected, the operator choosing the merchant, another merchant's keys and
 * users answering 404 by URL, Romanian strings; axe-core on every page and no Content-Security-Policy violation.
 * With INCASSO_SHOTS=<dir>, each step leaves a screenshot there.
 */

let hub: TestHub;
let browser: Browser;
const A = { id: '', key: '' };
const B = { id: '', key: '' };
const C = { id: '', key: '' };
const people = { adminA: '', adminARo: '', adminB: '', adminC: '', operator: '' };
const viewerEmail = 'casier@libraria.ro';
let bUserId = '';
let bKeyId = '';
const watch = watchPages(() => browser);
const { pageErrors, axeFindings, newPage } = watch;
const SHOTS = process.env.INCASSO_SHOTS;

async function check(page: Page, shot?: string) {
  await watch.axe(page);
  if (SHOTS && shot) {
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: `${SHOTS}/${shot}.png`, fullPage: true });
  }
}

async function logIn(page: Page, email: string, password = PASSWORD) {
  await page.goto(`${hub.url}/console/login`);
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL((url) => !url.pathname.endsWith('/login'));
}

const navLinks = (page: Page, name = 'Sections') => page.getByRole('navigation', { name }).getByRole('link').allInnerTexts();
const merchantStatus = async (key: string) => (await apiClient(hub.url, key)('GET', '/v1/merchant')).status;

/** A logged-in session over HTTP, with its anti-forgery token (read from the team page). */
async function httpSession(email: string) {
  const cookie = await loginCookie(hub.url, email);
  const text = await (await fetch(`${hub.url}/console/team`, { headers: { cookie } })).text();
  const csrf = /name="_csrf" value="([^"]+)"/.exec(text)?.[1];
  assert.ok(csrf, 'the team page carries the anti-forgery token');
  return { cookie, csrf };
}

before(async () => {
  [hub, browser] = await Promise.all([startTestHub({ emulators: false }), launchBrowser()]);
  const admin = apiClient(hub.url, hub.adminKey);
  for (const [m, name] of [
    [A, 'Librăria Mică SRL'],
    [B, 'Alt Magazin SRL'],
    [C, 'Un Singur SRL'],
  ] as const) {
    const r = await admin('POST', '/v1/merchants', { name });
    assert.equal(r.status, 201);
    m.id = r.body.id;
    m.key = r.body.api_key;
  }
  people.adminA = (await makeUser(hub.url, hub.adminKey, 'sefa@libraria.ro', 'admin', A.id)).email;
  people.adminARo = (await makeUser(hub.url, hub.adminKey, 'contabil@libraria.ro', 'admin', A.id, 'ro')).email;
  const b = await makeUser(hub.url, hub.adminKey, 'admin@altmagazin.ro', 'admin', B.id);
  people.adminB = b.email;
  bUserId = b.id;
  people.adminC = (await makeUser(hub.url, hub.adminKey, 'admin@unsingur.ro', 'admin', C.id)).email;
  people.operator = (await makeUser(hub.url, hub.adminKey, 'ops@hub.example', 'operator', null)).email;
  bKeyId = (await apiClient(hub.url, B.key)('GET', '/v1/merchant/api-keys')).body.data[0].id;
});

after(async () => {
  await browser?.close();
  await hub?.close();
});

describe('the Team section in a browser', () => {
  let admin: Page;
  let viewerLink = '';
  let viewerPage: Page;

  it("lists the merchant's key of before (it keeps working) and its users; the navigation shows Team", async () => {
    admin = await newPage();
    await logIn(admin, people.adminA);
    assert.deepEqual(await navLinks(admin), navFor('admin'));
    assert.ok(navFor('admin').includes('Team'));
    await admin.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Team' }).click();
    await admin.waitForURL(`${hub.url}/console/team`);
    await admin.getByRole('heading', { name: 'Team and API keys of Librăria Mică SRL' }).waitFor();
    const keys = admin.getByRole('table', { name: 'API keys, oldest first' });
    const first = await keys.locator('tbody tr').first().locator('td').allInnerTexts();
    assert.equal(first[0], 'default');
    assert.equal(first[1], `${A.key.slice(0, 9)}…`);
    assert.equal(first[4], 'active');
    assert.equal(await merchantStatus(A.key), 200, 'the key of before works');
    const users = await admin.getByRole('table', { name: 'Console users, oldest first' }).locator('tbody tr td:first-child').allInnerTexts();
    assert.deepEqual(users, ['sefa@libraria.ro (you)', 'contabil@libraria.ro']);
    assert.ok(!(await admin.content()).includes('admin@altmagazin.ro'), "never another merchant's user");
    await check(admin, '01-team');
  });

  it('creates a key: shown once, it works against the API; revoked, it is refused at once', async () => {
    await admin.getByLabel('Name of the new key').fill('magazin online');
    await admin.getByRole('button', { name: 'Create the key' }).click();
    const shown = admin.getByLabel('The new API key');
    await shown.waitFor();
    const secret = await shown.inputValue();
    assert.match(secret, /^sk_/);
    await check(admin, '02-key-created');
    const asNew = apiClient(hub.url, secret);
    const me = await asNew('GET', '/v1/merchant');
    assert.equal(me.status, 200);
    assert.equal(me.body.id, A.id);
    // Shown once: the POST answered 303, so a reload asks for the page again (no second key) and the key is gone.
    assert.match(admin.url(), /\/console\/team\?shown=/);
    const keyIds = async () => ((await apiClient(hub.url, A.key)('GET', '/v1/merchant/api-keys')).body.data as Array<{ id: string }>).map((k) => k.id);
    const keysBefore = await keyIds();
    await admin.reload();
    await admin.getByRole('status').filter({ hasText: 'is not shown again' }).waitFor();
    assert.equal(await admin.getByLabel('The new API key').count(), 0);
    assert.ok(!(await admin.content()).includes(secret), 'not after a reload');
    assert.deepEqual(await keyIds(), keysBefore, 'the reload made no key');
    await check(admin);
    await admin.goto(`${hub.url}/console/team`);
    assert.ok(!(await admin.content()).includes(secret), 'the key is never shown again');
    await admin.getByRole('button', { name: 'Revoke the key magazin online' }).click();
    await admin.getByRole('status').filter({ hasText: 'The key magazin online is revoked' }).waitFor();
    assert.equal((await asNew('GET', '/v1/merchant')).status, 401, 'refused at once');
    assert.equal(await merchantStatus(A.key), 200, 'the other key still works');
    const row = await admin.getByRole('row').filter({ hasText: 'magazin online' }).locator('td').allInnerTexts();
    assert.match(row[4]!, /^revoked /);
    assert.equal(await admin.getByRole('button', { name: 'Revoke the key magazin online' }).count(), 0);
    await check(admin, '03-key-revoked');
  });

  it('invites a viewer, who sets a password through the shown link and then neither sees nor opens Team', async () => {
    await admin.getByLabel('E-mail').fill(viewerEmail);
    await admin.getByLabel('Role', { exact: true }).selectOption('viewer');
    await admin.getByRole('button', { name: 'Invite' }).click();
    const shown = admin.getByLabel('One-time link to set the password');
    await shown.waitFor();
    viewerLink = await shown.inputValue();
    assert.match(viewerLink, /\/console\/set-password\?token=/);
    await check(admin, '04-invited');
    viewerPage = await newPage();
    await viewerPage.goto(viewerLink);
    await viewerPage.getByLabel('New password').fill(PASSWORD);
    await viewerPage.getByLabel('Repeat the password').fill(PASSWORD);
    await viewerPage.getByRole('button', { name: 'Save the password' }).click();
    await viewerPage.getByRole('status').filter({ hasText: 'Your password is set' }).waitFor();
    await logIn(viewerPage, viewerEmail);
    await viewerPage.waitForURL(`${hub.url}/console/overview`);
    assert.deepEqual(await navLinks(viewerPage), navFor('viewer'));
    assert.ok(!navFor('viewer').includes('Team'), 'no Team entry');
    assert.equal((await viewerPage.goto(`${hub.url}/console/team`))!.status(), 403);
    await viewerPage.getByRole('heading', { name: 'Not allowed' }).waitFor();
    await check(viewerPage);
    // Nor by a form sent with the viewer's own session and token.
    const viewerCookie = await loginCookie(hub.url, viewerEmail);
    const viewerText = await (await fetch(`${hub.url}/console/payments`, { headers: { cookie: viewerCookie } })).text();
    const viewer = { cookie: viewerCookie, csrf: /name="_csrf" value="([^"]+)"/.exec(viewerText)![1]! };
    const keysBefore = (await apiClient(hub.url, A.key)('GET', '/v1/merchant/api-keys')).body.data.length;
    const r = await postForm(`${hub.url}/console/team/keys`, { _csrf: viewer.csrf, name: 'by a viewer' }, { cookie: viewer.cookie });
    assert.equal(r.status, 403);
    assert.equal((await apiClient(hub.url, A.key)('GET', '/v1/merchant/api-keys')).body.data.length, keysBefore, 'no key was made');
    await admin.goto(`${hub.url}/console/team`);
    const row = await admin.getByRole('row').filter({ hasText: viewerEmail }).locator('td').allInnerTexts();
    assert.deepEqual([row[1], row[2], row[4]], ['viewer', 'English', 'active']);
    assert.notEqual(row[3], 'never', 'the last login is shown');
  });

  it("changes a user's role; the last admin can be neither demoted nor disabled", async () => {
    await admin.getByLabel(`Role of ${viewerEmail}`).selectOption('admin');
    await admin.getByRole('row').filter({ hasText: viewerEmail }).getByRole('button', { name: 'Change role' }).click();
    await admin
      .getByRole('status')
      .filter({ hasText: `${viewerEmail} is now admin.` })
      .waitFor();
    await admin.getByLabel(`Role of ${viewerEmail}`).selectOption('viewer');
    await admin.getByRole('row').filter({ hasText: viewerEmail }).getByRole('button', { name: 'Change role' }).click();
    await admin
      .getByRole('status')
      .filter({ hasText: `${viewerEmail} is now viewer.` })
      .waitFor();
    // C has one admin: it may neither disable nor demote itself.
    const c = await newPage();
    await logIn(c, people.adminC);
    await c.goto(`${hub.url}/console/team`);
    await c.getByRole('button', { name: `Disable ${people.adminC}` }).click();
    await c.getByRole('alert').filter({ hasText: 'Refused: the merchant would have no enabled admin left.' }).waitFor();
    await check(c, '05-last-admin');
    await c.getByLabel(`Role of ${people.adminC}`).selectOption('viewer');
    await c.getByRole('button', { name: 'Change role' }).click();
    await c.getByRole('alert').filter({ hasText: 'Refused' }).waitFor();
    await c.goto(`${hub.url}/console/team`);
    const row = await c.getByRole('row').filter({ hasText: people.adminC }).locator('td').allInnerTexts();
    assert.deepEqual([row[1], row[4]], ['admin', 'active']);
  });

  it('revoking the last key warns first, and only then leaves the merchant without API access', async () => {
    const c = await newPage();
    await logIn(c, people.adminC);
    await c.goto(`${hub.url}/console/team`);
    await c.getByRole('button', { name: 'Revoke the key default' }).click();
    await c.getByRole('heading', { name: 'Revoke the last key?' }).waitFor();
    await check(c, '06-last-key-warning');
    assert.equal(await merchantStatus(C.key), 200, 'not revoked before the confirmation');
    await c.getByRole('button', { name: 'Revoke it anyway' }).click();
    await c.getByRole('status').filter({ hasText: 'The key default is revoked' }).waitFor();
    await c.getByRole('alert').filter({ hasText: 'This merchant has no active API key' }).waitFor();
    assert.equal(await merchantStatus(C.key), 401);
    await check(c, '07-no-keys');
  });

  it('disabling a user logs out their open session at once; a new password link is shown once; enabling lets them back', async () => {
    await viewerPage.goto(`${hub.url}/console/payments`);
    assert.equal(new URL(viewerPage.url()).pathname, '/console/payments', 'the viewer is logged in');
    await admin.goto(`${hub.url}/console/team`);
    await admin.getByRole('button', { name: `Disable ${viewerEmail}` }).click();
    await admin
      .getByRole('status')
      .filter({ hasText: `${viewerEmail} is disabled` })
      .waitFor();
    const row = await admin.getByRole('row').filter({ hasText: viewerEmail }).locator('td').allInnerTexts();
    assert.equal(row[4], 'disabled');
    await check(admin, '08-disabled');
    await viewerPage.goto(`${hub.url}/console/payments`);
    await viewerPage.waitForURL(/\/console\/login\?/);
    assert.match(viewerPage.url(), /expired=1/);
    // The login is refused (the form comes back with its alert; no wait for a page that will not come).
    await viewerPage.goto(`${hub.url}/console/login`);
    await viewerPage.getByLabel('E-mail').fill(viewerEmail);
    await viewerPage.getByLabel('Password').fill(PASSWORD);
    await viewerPage.getByRole('button', { name: 'Log in' }).click();
    await viewerPage.getByRole('alert').filter({ hasText: 'The e-mail or the password is not right.' }).waitFor();
    await admin.getByRole('button', { name: `Enable ${viewerEmail}` }).click();
    await admin
      .getByRole('status')
      .filter({ hasText: `${viewerEmail} is enabled again.` })
      .waitFor();
    await admin.getByRole('button', { name: `New password link for ${viewerEmail}` }).click();
    const link = await admin.getByLabel('One-time link to set the password').inputValue();
    assert.match(link, /\/console\/set-password\?token=/);
    assert.notEqual(link, viewerLink);
    const reset = await newPage();
    await reset.goto(link);
    await reset.getByLabel('New password').fill('a brand new long password');
    await reset.getByLabel('Repeat the password').fill('a brand new long password');
    await reset.getByRole('button', { name: 'Save the password' }).click();
    await reset.getByRole('status').filter({ hasText: 'Your password is set' }).waitFor();
    await logIn(reset, viewerEmail, 'a brand new long password');
    await reset.waitForURL(`${hub.url}/console/overview`);
  });

  it("another merchant's key and user by URL answer 404, and change nothing", async () => {
    const s = await httpSession(people.adminA);
    for (const path of [
      `/console/team/keys/${bKeyId}/revoke`,
      `/console/team/users/${bUserId}/disable`,
      `/console/team/users/${bUserId}/role`,
      `/console/team/users/${bUserId}/password-link`,
      '/console/team/keys/key_00000000000000000000000000/revoke',
    ]) {
      const r = await postForm(`${hub.url}${path}`, { _csrf: s.csrf, confirm: 'yes', role: 'viewer', merchant: B.id }, { cookie: s.cookie });
      assert.equal(r.status, 404, path);
    }
    assert.equal(await merchantStatus(B.key), 200, "B's key still works");
    const b = await httpSession(people.adminB);
    const text = await (await fetch(`${hub.url}/console/team`, { headers: { cookie: b.cookie } })).text();
    assert.match(text, /admin@altmagazin\.ro/);
    assert.doesNotMatch(text, /disabled/, "B's admin was not disabled");
    // An admin's ?merchant= is ignored: it always sees its own merchant.
    const mine = await (await fetch(`${hub.url}/console/team?merchant=${B.id}`, { headers: { cookie: s.cookie } })).text();
    assert.match(mine, /Librăria Mică SRL/);
    assert.doesNotMatch(mine, /admin@altmagazin\.ro/);
  });

  it('the operator picks the merchant, then manages its keys', async () => {
    const ops = await newPage();
    await logIn(ops, people.operator);
    await ops.goto(`${hub.url}/console/team`);
    await check(ops, '09-operator-pick');
    await ops.getByLabel('Merchant', { exact: true }).selectOption(B.id);
    await ops.getByRole('button', { name: 'Show' }).click();
    await ops.getByRole('heading', { name: 'Team and API keys of Alt Magazin SRL' }).waitFor();
    await ops.getByLabel('Name of the new key').fill('suport');
    await ops.getByRole('button', { name: 'Create the key' }).click();
    const secret = await ops.getByLabel('The new API key').inputValue();
    assert.equal((await apiClient(hub.url, secret)('GET', '/v1/merchant')).body.id, B.id);
    await ops.getByRole('button', { name: 'Revoke the key suport' }).click();
    await ops.getByRole('status').filter({ hasText: 'The key suport is revoked' }).waitFor();
    assert.match(ops.url(), new RegExp(`merchant=${B.id}`));
    assert.equal((await apiClient(hub.url, secret)('GET', '/v1/merchant')).status, 401);
    await check(ops, '10-operator-merchant');
    const missing = await ops.goto(`${hub.url}/console/team?merchant=mer_00000000000000000000000000`);
    assert.equal(missing!.status(), 404);
  });

  it('speaks Romanian to a Romanian admin', async () => {
    const ro = await newPage();
    await logIn(ro, people.adminARo);
    assert.deepEqual(await navLinks(ro, 'Secțiuni'), navFor('admin', 'ro'));
    assert.ok(navFor('admin', 'ro').includes('Echipă'));
    await ro.goto(`${hub.url}/console/team`);
    await ro.getByRole('heading', { name: 'Chei API' }).waitFor();
    await ro.getByRole('heading', { name: 'Utilizatori' }).waitFor();
    await check(ro, '11-ro');
  });

  it('axe found no serious or critical violation, and no page reported a CSP violation or a script error', () => {
    assert.deepEqual(axeFindings, []);
    // A refusal's own status (403 for the viewer, 404 by URL, 409 for the last admin or key, 401 for a refused
    // login) is logged by Chromium as a failed load; anything else (a CSP violation, a script error) is not allowed.
    assert.deepEqual(
      pageErrors.filter((e) => !/the server responded with a status of (401|403|404|409)/.test(e)),
      [],
    );
    assert.ok(
      pageErrors.some((e) => /status of 409/.test(e)),
      'the refusals were seen',
    );
  });
});
