import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser } from '../support/browser.js';
import { billing, makeMerchant, makeUser, PASSWORD, postForm } from '../support/console.js';
import { apiClient, eventually, startTestHub, type TestHub } from '../support/hub.js';
import { startWebhookListener } from '../support/webhook-listener.js';
import { watchPages } from '../support/page-watch.js';

/**
 * The console's Connections section in headless Chromium: NETOPIA v1 and MultiSafepay connections created from
 * the forms generated from their connectors' declared credentials and settings (secrets never in any page, the
 * fingerprint instead), an edit that keeps the secrets (a payment still goes through the emulator; the credentials
 * test still passes), field errors next to their fields (English and Romanian), disable and enable (the API
 * refuses a payment on a disabled connection), "test connection" against the emulator (accepted, and refused
 * with a wrong key), the viewer (no forms, forged POSTs refused), another merchant's connection (404), the
 * operator picking the merchant; axe-core on every page and no Content-Security-Policy violation.
 */

const SHOTS = '/tmp/shots-console-connections';

let hub: TestHub;
let browser: Browser;
let listener: Awaited<ReturnType<typeof startWebhookListener>>;
const A = { id: '', key: '' };
const B = { id: '', key: '', connection: '' };
const users = { admin: '', viewer: '', operator: '' };
/** A NETOPIA v1 sandbox account opened on the emulator, whose credentials the admin types into the form. */
let ntp: { signature: string; certificate: string; private_key: string };
/** MultiSafepay sandbox API keys opened on the emulator. */
let mspKey = '';
const watch = watchPages(() => browser, { timeoutMs: 10_000 });
const { pageErrors, axeFindings, newPage, axe } = watch;
const ids = { ntp: '', msp: '', mspWrong: '' };

async function shot(page: Page, name: string) {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
}

async function logIn(page: Page, email: string) {
  await page.goto(`${hub.url}/console/login`);
  await page.locator('#email').fill(email);
  await page.locator('#password').fill(PASSWORD);
  await page.locator('form[action="/console/login"] button[type=submit]').click();
  await page.waitForURL(/\/console\/overview/);
}

/** The secret material that must never appear in a page: the private key's body and the API key. */
function assertNoSecret(htmlText: string, where: string) {
  const keyBody = ntp.private_key.split('\n').filter((l) => l && !l.startsWith('-----'));
  for (const line of keyBody.slice(0, 3)) assert.ok(!htmlText.includes(line), `the private key shows in ${where}`);
  assert.ok(!htmlText.includes('PRIVATE KEY'), `a private key shows in ${where}`);
  assert.ok(!htmlText.includes(mspKey), `the MultiSafepay API key shows in ${where}`);
}

async function createPayment(code: string, order: string) {
  return apiClient(hub.url, A.key)('POST', '/v1/payments', {
    connection: code,
    order_id: order,
    amount: 1250,
    currency: 'RON',
    description: `Comanda ${order}`,
    billing,
    return_url: listener.shopUrl,
    metadata: { language: 'en' },
  });
}

before(async () => {
  [hub, browser, listener] = await Promise.all([startTestHub(), launchBrowser(), startWebhookListener()]);
  Object.assign(A, await makeMerchant(hub.url, hub.adminKey, 'Librăria Mică SRL'));
  Object.assign(B, await makeMerchant(hub.url, hub.adminKey, 'Alt Magazin SRL'));
  const c = await apiClient(hub.url, B.key)('POST', '/v1/connections', { code: 'netopia', provider: 'netopia-v1', environment: 'emulator' });
  assert.equal(c.status, 201, JSON.stringify(c.body));
  B.connection = c.body.id;
  // Sandbox accounts opened on the emulators over HTTP, as a merchant would in the processors' consoles.
  const account = await fetch(`${hub.url}/sandbox/netopia/v1/accounts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"name":"Librăria Mică"}',
  });
  assert.equal(account.status, 201);
  const a = (await account.json()) as Record<string, string>;
  ntp = { signature: a.signature!, certificate: a.certificate!, private_key: a.private_key! };
  const msp = await fetch(`${hub.url}/sandbox/multisafepay/accounts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"name":"Librăria Mică"}',
  });
  assert.equal(msp.status, 201);
  mspKey = ((await msp.json()) as { api_key: string }).api_key;

  const asA = apiClient(hub.url, A.key);
  const invite = await asA('POST', '/v1/merchant/users', { email: 'admin@libraria.ro', role: 'admin', language: 'en' });
  assert.equal(invite.status, 201, JSON.stringify(invite.body));
  const { setPasswordByLink } = await import('../support/console.js');
  await setPasswordByLink(invite.body.set_password_url);
  users.admin = 'admin@libraria.ro';
  users.viewer = (await makeUser(hub.url, hub.adminKey, 'viewer@libraria.ro', 'viewer', A.id, 'en')).email;
  users.operator = (await makeUser(hub.url, hub.adminKey, 'ops@hub.example', 'operator', null, 'ro')).email;
});

after(async () => {
  await browser?.close();
  await hub?.close();
  await listener?.close();
});

describe('the Connections section', () => {
  let page: Page;

  it('creates a NETOPIA v1 connection from its generated form: listed with its fingerprint, no secret in any page', async () => {
    page = await newPage();
    await logIn(page, users.admin);
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Connections' }).click();
    await page.getByRole('heading', { name: 'Connections', level: 1 }).waitFor();
    await page.getByText('This merchant has no connection yet.').waitFor();
    await axe(page);
    await page.getByRole('link', { name: 'New connection' }).click();
    await axe(page);
    await page.getByRole('link', { name: /NETOPIA.*v1/ }).click();
    await page.getByRole('heading', { name: /New connection: NETOPIA/ }).waitFor();
    // The form is the connector's declaration: its credentials and settings fields, by their labels.
    await page.getByLabel('Code').fill('ntp-form');
    await page.getByLabel('Environment').selectOption('sandbox');
    await page.getByLabel('POS signature').fill(ntp.signature.toLowerCase());
    await page.getByLabel('NETOPIA public certificate (PEM)').fill(ntp.certificate);
    await page.getByLabel('Merchant private key (PEM)').fill(ntp.private_key);
    assert.equal(await page.getByLabel('Default currency').inputValue(), 'RON', 'the declared default');
    assert.deepEqual(await page.getByLabel('Envelope cipher').locator('option').allInnerTexts(), ['aes-256-cbc', 'rc4']);
    await page.getByLabel('Processor endpoint').fill(`${hub.url}/sandbox/netopia/v1`);
    await axe(page);
    await shot(page, 'new-netopia-v1');
    await page.getByRole('button', { name: 'Create the connection' }).click();
    await page.getByRole('status').filter({ hasText: 'The connection is created.' }).waitFor();
    ids.ntp = new URL(page.url()).pathname.split('/').pop()!;
    const api = await apiClient(hub.url, A.key)('GET', '/v1/connections/ntp-form');
    assert.equal(api.status, 200);
    assert.equal(api.body.environment, 'sandbox');
    assert.equal(api.body.credentials.signature, ntp.signature, 'normalized as the API normalizes it (upper case)');
    assertNoSecret(await page.content(), 'the detail page');
    await axe(page);
    await shot(page, 'detail-netopia-v1');
    await page.getByRole('link', { name: 'Back to the connections' }).click();
    const row = page.locator('tbody tr').filter({ hasText: 'ntp-form' });
    await row.waitFor();
    const cells = await row.locator('td').allInnerTexts();
    assert.equal(cells[2], "Sandbox (the processor's test environment)");
    assert.equal(cells[3], 'active');
    assert.equal(cells[4], api.body.credentials.fingerprint);
    assert.match(cells[4]!, /^sha256:[0-9a-f]{16}$/);
    assertNoSecret(await page.content(), 'the list');
    await axe(page);
  });

  it('creates a MultiSafepay connection too, and its test says the credentials are accepted; a wrong key is refused', async () => {
    for (const [code, key] of [
      ['msp', mspKey],
      ['msp-wrong', 'not-the-key-at-all'],
    ] as const) {
      await page.goto(`${hub.url}/console/connections/new?provider=multisafepay`);
      await page.getByLabel('Code').fill(code);
      await page.getByLabel('Environment').selectOption('sandbox');
      await page.getByLabel('API key').fill(key);
      assert.equal(await page.getByLabel('Locale').inputValue(), 'en_US', 'the declared default');
      await page.getByLabel('Processor endpoint').fill(`${hub.url}/sandbox/multisafepay/v1/json`);
      await page.getByRole('button', { name: 'Create the connection' }).click();
      await page.getByRole('status').filter({ hasText: 'The connection is created.' }).waitFor();
      assertNoSecret(await page.content(), `the ${code} page`);
      await page.getByRole('button', { name: 'Test the connection' }).click();
      const verdict = code === 'msp' ? 'Credentials accepted' : 'Credentials refused';
      await page.locator('#verdict').getByText(verdict).waitFor();
      if (code === 'msp') {
        ids.msp = new URL(page.url()).pathname.split('/').pop()!;
        await shot(page, 'test-accepted');
      } else ids.mspWrong = new URL(page.url()).pathname.split('/').pop()!;
      await axe(page);
    }
    // Without script, the test is a plain form post answering the whole page with the verdict.
    const context = await browser.newContext({ javaScriptEnabled: false });
    const p = await newPage(context);
    await logIn(p, users.admin);
    await p.goto(`${hub.url}/console/connections/${ids.mspWrong}`);
    await p.getByRole('button', { name: 'Test the connection' }).click();
    await p
      .locator('#verdict')
      .getByText(/^Credentials refused: MultiSafepay.* does not accept them\.$/)
      .waitFor();
    await context.close();
  });

  it('a wrong value is refused by the same validation as the API, shown next to its field; nothing is created', async () => {
    await page.goto(`${hub.url}/console/connections/new?provider=netopia-v1`);
    await page.getByLabel('Code').fill('bad one');
    await page.getByLabel('Environment').selectOption('sandbox');
    await page.getByLabel('POS signature').fill('NOT-A-SIGNATURE');
    await page.getByLabel('NETOPIA public certificate (PEM)').fill('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----');
    await page.getByLabel('Merchant private key (PEM)').fill('secret material typed by mistake');
    await page.getByRole('button', { name: 'Create the connection' }).click();
    await page.getByRole('alert').filter({ hasText: 'The connection was not saved' }).waitFor();
    // The service checks the code, processor and environment first (as the API answers), then the rest.
    assert.match(await page.locator('#code-error').innerText(), /1-64 letters, digits/);
    assert.equal(await page.getByLabel('Code').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.getByLabel('Merchant private key (PEM)').inputValue(), '', 'a secret is never sent back, even a wrong one');
    await page.getByLabel('Code').fill('good-code');
    await page.getByLabel('Merchant private key (PEM)').fill('secret material typed by mistake');
    await page.getByRole('button', { name: 'Create the connection' }).click();
    await page.locator('#credentials-signature-error').waitFor();
    assert.equal(await page.locator('#code-error').count(), 0);
    assert.match(await page.locator('#credentials-signature-error').innerText(), /must be the POS signature/);
    assert.match(await page.locator('#credentials-certificate-error').innerText(), /NETOPIA's public certificate/);
    assert.match(await page.locator('#credentials-private_key-error').innerText(), /RSA private key/);
    assert.equal(await page.getByLabel('POS signature').inputValue(), 'NOT-A-SIGNATURE', 'what was typed is kept');
    assert.equal(await page.getByLabel('Merchant private key (PEM)').inputValue(), '', 'a secret is never sent back, even a wrong one');
    assert.ok(!(await page.content()).includes('secret material typed by mistake'));
    await axe(page);
    await shot(page, 'field-errors');
    const list = await apiClient(hub.url, A.key)('GET', '/v1/connections');
    assert.deepEqual(list.body.data.map((c: { code: string }) => c.code).sort(), ['msp', 'msp-wrong', 'ntp-form']);
  });

  it('edits a setting without retyping the secrets: the secrets are kept (a payment goes through the emulator, the test passes)', async () => {
    const before = (await apiClient(hub.url, A.key)('GET', '/v1/connections/ntp-form')).body;
    await page.goto(`${hub.url}/console/connections/${ids.ntp}`);
    assert.equal(await page.getByLabel('Merchant private key (PEM)').inputValue(), '', 'the secret is not rendered back');
    assert.equal(await page.getByLabel('NETOPIA public certificate (PEM)').inputValue(), '', 'a credential the API does not show back is not rendered either');
    assert.equal(await page.getByLabel('POS signature').inputValue(), ntp.signature, 'the public credential is');
    assert.equal(await page.getByLabel('Processor endpoint').inputValue(), `${hub.url}/sandbox/netopia/v1`);
    await page.getByLabel('Payment page language').selectOption('en');
    await axe(page);
    await shot(page, 'edit-netopia-v1');
    await page.getByRole('button', { name: 'Save the changes' }).click();
    await page.getByRole('status').filter({ hasText: 'The changes are saved.' }).waitFor();
    const afterEdit = (await apiClient(hub.url, A.key)('GET', '/v1/connections/ntp-form')).body;
    assert.equal(afterEdit.settings.language, 'en');
    assert.equal(afterEdit.credentials.fingerprint, before.credentials.fingerprint, 'the credentials are the same');
    // The kept private key still opens NETOPIA's IPN: a payment is paid through the emulator's card page.
    const created = await createPayment('ntp-form', 'EDIT-1');
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const payer = await newPage();
    await payer.goto(created.body.payment_url);
    await payer.getByLabel('Card number').fill('9900004810225098');
    await payer.getByLabel('Expiry date').fill('12/30');
    await payer.getByLabel('CVV').fill('111');
    await payer.getByRole('button', { name: 'Pay', exact: true }).click();
    await eventually(
      async () => (await apiClient(hub.url, A.key)('GET', `/v1/payments/${created.body.id}`)).body.status === 'paid',
      15_000,
      'the payment is paid through the edited connection',
    );
    await payer.context().close();
    // MultiSafepay: a new locale, the API key left blank; the credentials test still passes.
    await page.goto(`${hub.url}/console/connections/${ids.msp}`);
    await page.getByLabel('Locale').fill('ro_RO');
    await page.getByRole('button', { name: 'Save the changes' }).click();
    await page.getByRole('status').filter({ hasText: 'The changes are saved.' }).waitFor();
    await page.getByRole('button', { name: 'Test the connection' }).click();
    await page.locator('#verdict').getByText('Credentials accepted').waitFor();
    // A wrong setting on edit: shown at its field, nothing saved.
    await page.getByLabel('Locale').fill('not a locale');
    await page.getByRole('button', { name: 'Save the changes' }).click();
    assert.match(await page.locator('#settings-locale-error').innerText(), /must be a locale such as en_US/);
    assert.equal((await apiClient(hub.url, A.key)('GET', '/v1/connections/msp')).body.settings.locale, 'ro_RO');
    await axe(page);
    // A new secret typed replaces the stored one (the wrong key made right): the fingerprint changes, the test passes.
    const wrongBefore = (await apiClient(hub.url, A.key)('GET', '/v1/connections/msp-wrong')).body.credentials.fingerprint;
    await page.goto(`${hub.url}/console/connections/${ids.mspWrong}`);
    await page.getByLabel('API key').fill(mspKey);
    await page.getByRole('button', { name: 'Save the changes' }).click();
    await page.getByRole('status').filter({ hasText: 'The changes are saved.' }).waitFor();
    assert.notEqual((await apiClient(hub.url, A.key)('GET', '/v1/connections/msp-wrong')).body.credentials.fingerprint, wrongBefore);
    await page.getByRole('button', { name: 'Test the connection' }).click();
    await page.locator('#verdict').getByText('Credentials accepted').waitFor();
  });

  it('clears an optional setting emptied in the form, and never a secret left blank', async () => {
    const before = (await apiClient(hub.url, A.key)('GET', '/v1/connections/ntp-form')).body;
    assert.equal(before.settings.endpoint, `${hub.url}/sandbox/netopia/v1`);
    await page.goto(`${hub.url}/console/connections/${ids.ntp}`);
    await page.getByLabel('Processor endpoint').fill('');
    await page.getByRole('button', { name: 'Save the changes' }).click();
    await page.getByRole('status').filter({ hasText: 'The changes are saved.' }).waitFor();
    const cleared = (await apiClient(hub.url, A.key)('GET', '/v1/connections/ntp-form')).body;
    assert.equal(cleared.settings.endpoint, undefined, 'the endpoint is cleared');
    assert.equal(cleared.settings.language, before.settings.language, 'the other settings are kept');
    assert.equal(cleared.credentials.fingerprint, before.credentials.fingerprint, 'the secrets left blank are kept');
    assert.equal(await page.getByLabel('Processor endpoint').inputValue(), '');
    assert.equal(await page.getByLabel('Merchant private key (PEM)').inputValue(), '');
    await axe(page);
    // Typed again, it is set again (the emulator, for the tests that follow).
    await page.getByLabel('Processor endpoint').fill(`${hub.url}/sandbox/netopia/v1`);
    await page.getByRole('button', { name: 'Save the changes' }).click();
    await page.getByRole('status').filter({ hasText: 'The changes are saved.' }).waitFor();
    const back = (await apiClient(hub.url, A.key)('GET', '/v1/connections/ntp-form')).body;
    assert.equal(back.settings.endpoint, `${hub.url}/sandbox/netopia/v1`);
    assert.equal(back.credentials.fingerprint, before.credentials.fingerprint);
  });

  it('disables a connection (the API refuses a payment on it), then enables it again', async () => {
    await page.goto(`${hub.url}/console/connections/${ids.ntp}`);
    await page.getByRole('button', { name: 'Disable the connection' }).click();
    await page.getByRole('status').filter({ hasText: 'The connection is disabled' }).waitFor();
    assert.equal(await page.locator('dl.facts .status').innerText(), 'disabled');
    await axe(page);
    const refused = await createPayment('ntp-form', 'DIS-1');
    assert.equal(refused.status, 422, JSON.stringify(refused.body));
    assert.ok(JSON.stringify(refused.body).includes('is disabled'));
    await page.goto(`${hub.url}/console/connections`);
    assert.equal(await page.locator('tbody tr').filter({ hasText: 'ntp-form' }).locator('td').nth(3).innerText(), 'disabled');
    await page.goto(`${hub.url}/console/connections/${ids.ntp}`);
    await page.getByRole('button', { name: 'Enable the connection' }).click();
    await page.getByRole('status').filter({ hasText: 'The connection is enabled.' }).waitFor();
    assert.equal((await createPayment('ntp-form', 'DIS-2')).status, 201);
  });

  it('says when the processor offers no credentials test (NETOPIA v1 has no API to ask)', async () => {
    await page.goto(`${hub.url}/console/connections/${ids.ntp}`);
    assert.equal(await page.getByRole('button', { name: 'Test the connection' }).count(), 0);
    await page.getByText('offers no harmless call to check credentials with').waitFor();
    const forged = await page.context().request.post(`${hub.url}/console/connections/${ids.ntp}/test`, {
      form: { _csrf: await csrfOf(page) },
      headers: { origin: hub.url },
    });
    assert.equal(forged.status(), 200);
    assert.match(await forged.text(), /offers no harmless call to check credentials with/);
  });

  it("another merchant's connection by URL is a 404, for reading and for every action", async () => {
    const r = await page.goto(`${hub.url}/console/connections/${B.connection}`);
    assert.equal(r!.status(), 404);
    await axe(page);
    const csrf = await csrfOf(page);
    for (const [path, form] of [
      ['', { 'settings.language': 'en' }],
      ['/status', { status: 'disabled' }],
      ['/test', {}],
    ] as const) {
      const forged = await page.context().request.post(`${hub.url}/console/connections/${B.connection}${path}`, {
        form: { _csrf: csrf, ...form },
        headers: { origin: hub.url },
        maxRedirects: 0,
      });
      assert.equal(forged.status(), 404, path);
    }
    const theirs = (await apiClient(hub.url, B.key)('GET', '/v1/connections/netopia')).body;
    assert.equal(theirs.status, 'active');
    assert.equal(theirs.settings.language, 'ro');
    await page.context().close();
  });

  it('a viewer reads the connections but gets no form, and a forged POST is refused (403) and changes nothing', async () => {
    const p = await newPage();
    await logIn(p, users.viewer);
    await p.goto(`${hub.url}/console/connections`);
    await p.locator('tbody tr').filter({ hasText: 'ntp-form' }).waitFor();
    assert.equal(await p.getByRole('link', { name: 'New connection' }).count(), 0);
    await axe(p);
    await p.goto(`${hub.url}/console/connections/${ids.ntp}`);
    await p.getByText('Your role can see this connection but not change it.').waitFor();
    // The only forms are the layout's (language, log out).
    const actions = await p.locator('main form').count();
    assert.equal(actions, 0, 'no form in the page body');
    assertNoSecret(await p.content(), "the viewer's page");
    await axe(p);
    assert.equal((await p.goto(`${hub.url}/console/connections/new?provider=netopia-v1`))!.status(), 403);
    const csrf = await csrfOf(p);
    const cookie = (await p.context().cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
    for (const [path, form] of [
      [`/${ids.ntp}/status`, { status: 'disabled' }],
      [`/${ids.ntp}`, { 'settings.language': 'ro' }],
      [`/${ids.msp}/test`, {}],
      ['/new', { provider: 'multisafepay', code: 'by-viewer', environment: 'emulator' }],
    ] as const) {
      const r = await postForm(`${hub.url}/console/connections${path}`, { _csrf: csrf, ...form }, { cookie });
      assert.equal(r.status, 403, path);
    }
    const api = apiClient(hub.url, A.key);
    const c = (await api('GET', '/v1/connections/ntp-form')).body;
    assert.equal(c.status, 'active');
    assert.equal(c.settings.language, 'en');
    assert.equal((await api('GET', '/v1/connections/by-viewer')).status, 404);
    await p.context().close();
  });

  it('the operator picks the merchant, and reads the field errors in Romanian', async () => {
    const p = await newPage();
    await logIn(p, users.operator);
    await p.goto(`${hub.url}/console/connections`);
    await p.getByRole('heading', { name: 'Conexiuni', level: 1 }).waitFor();
    await axe(p);
    await p.getByLabel('Alegeți comerciantul').selectOption(A.id);
    await p.getByRole('button', { name: 'Afișează' }).click();
    await p.locator('tbody tr').filter({ hasText: 'ntp-form' }).waitFor();
    assert.equal(await p.locator('tbody tr').filter({ hasText: 'netopia' }).filter({ hasNotText: 'ntp-form' }).count(), 0, "not B's");
    await p.getByRole('link', { name: 'Conexiune nouă' }).click();
    await p.getByRole('link', { name: /NETOPIA.*v1/ }).click();
    await p.getByLabel('Cod').fill('ntp-ops');
    await p.getByLabel('Mediu').selectOption('sandbox');
    await p.getByLabel('Semnătura POS').fill('greșit');
    await p.getByRole('button', { name: 'Creează conexiunea' }).click();
    await p.getByRole('alert').filter({ hasText: 'Conexiunea nu a fost salvată' }).waitFor();
    assert.equal(await p.locator('#credentials-signature-error').innerText(), 'Această valoare nu are forma așteptată.');
    assert.equal(await p.locator('#credentials-private_key-error').innerText(), 'Acest câmp este obligatoriu.');
    assert.equal(await p.locator('html').getAttribute('lang'), 'ro');
    await axe(p);
    await shot(p, 'operator-ro-errors');
    // The operator creates for the merchant chosen: provisioned on the built-in emulator.
    await p.getByLabel('Mediu').selectOption('emulator');
    await p.getByRole('button', { name: 'Creează conexiunea' }).click();
    await p.getByRole('status').filter({ hasText: 'Conexiunea a fost creată.' }).waitFor();
    assert.equal((await apiClient(hub.url, A.key)('GET', '/v1/connections/ntp-ops')).body.environment, 'emulator');
    assert.equal((await apiClient(hub.url, B.key)('GET', '/v1/connections/ntp-ops')).status, 404);
    await p.getByText('Datele de acces au fost create de emulatorul inclus').waitFor();
    await axe(p);
    assert.equal((await p.goto(`${hub.url}/console/connections?merchant=mer_nobody`))!.status(), 404);
    await p.context().close();
  });

  it('no page broke the content security policy or threw, and axe found nothing serious or critical', () => {
    assert.deepEqual(
      pageErrors.filter((e) => !/the server responded with a status of (400|403|404|422)/.test(e)),
      [],
    );
    assert.deepEqual(axeFindings, []);
  });
});

/** The session's anti-forgery token, as the page's own forms carry it. */
async function csrfOf(page: Page): Promise<string> {
  return (await page.locator('input[name="_csrf"]').first().getAttribute('value'))!;
}
