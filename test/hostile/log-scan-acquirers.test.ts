import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser } from '../support/browser.js';
import { apiClient, eventually, startTestHub, type TestHub } from '../support/hub.js';
import { startWebhookListener } from '../support/webhook-listener.js';
import { formatOnpayDate } from '../../src/services/onpay/values.js';
import { assertRoutesLogged, leaks, SecretList, secretLeaks } from '../support/log-scan.js';

/**
 * Secrets never reach the logs at LOG_LEVEL=debug in the flows added with NETOPIA v2, MultiSafepay, Nexi and Volt:
 * a NETOPIA v2 payment paid on its hosted page and refunded, a conversational payment step with a callback, the
 * OnPay partner API (activation, get_link per acquirer with the emulators' test accounts, the payer on each
 * acquirer's page in Chromium, refunds, the reports), and requests carrying keys where they do not belong. Every
 * secret the flows handled is collected — API keys, MultiSafepay's api_key, Nexi's mac_key, Volt's client_secret,
 * password and notification_secret, NETOPIA v2's api_key, OnPay activation and production keys, the platform's
 * private key, the callback secret, Volt's OAuth tokens — and every captured log line is searched for each, and for the card numbers
 * and CVVs typed.
 */

const CARDS = { v2: '9900004810225098', multisafepay: '5500000000000004', nexi: '5255000000000001' } as const;
const CVV = { v2: '111', acquirers: '123' } as const;

let hub: TestHub;
let browser: Browser;
let listener: Awaited<ReturnType<typeof startWebhookListener>>;
const secrets = new SecretList();
let linesAfterFlows = 0;

async function credentialsOf(connectionId: string): Promise<Record<string, string>> {
  const row = await hub.store.db.selectFrom('connections').selectAll().where('id', '=', connectionId).executeTakeFirstOrThrow();
  return JSON.parse(hub.ctx.vault.decrypt(row.credentials_encrypted, `connection:${row.id}`));
}

/** A NETOPIA v2 payment paid over HTTP (the hosted card form posted as a browser without scripts would). */
async function payV2(paymentUrl: string) {
  const hand = await fetch(paymentUrl, { redirect: 'manual' });
  assert.equal(hand.status, 303);
  const paid = await fetch(hand.headers.get('location')!, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ card_number: CARDS.v2, expiry: '12/30', cvv: CVV.v2 }).toString(),
  });
  assert.equal(paid.status, 303, await paid.text());
}

/** The payer on each acquirer's page (the selectors of test/e2e/onpay.test.ts). */
const PAY: Record<'multisafepay' | 'nexi' | 'volt', (page: Page) => Promise<void>> = {
  async multisafepay(page) {
    await page.getByRole('group', { name: 'Card brand' }).getByRole('radio', { name: 'Mastercard' }).check();
    await page.getByLabel('Card number', { exact: true }).fill('5500 0000 0000 0004');
    await page.getByLabel('Expiry date', { exact: true }).fill('12/30');
    await page.getByLabel('CVV', { exact: true }).fill(CVV.acquirers);
    await Promise.all([page.waitForURL((u) => u.pathname.includes('/pay/')), page.getByRole('button', { name: 'Pay', exact: true }).click()]);
  },
  async nexi(page) {
    await page.getByRole('radio', { name: 'MasterCard' }).check();
    await page.getByLabel('Card number', { exact: true }).fill('5255 0000 0000 0001');
    await page.getByLabel('Expiry date', { exact: true }).fill('12/30');
    await page.getByLabel('CVV', { exact: true }).fill(CVV.acquirers);
    await Promise.all([page.waitForURL((u) => u.pathname.includes('/pay/')), page.getByRole('button', { name: 'Pay', exact: true }).click()]);
  },
  async volt(page) {
    await page.getByRole('group', { name: 'Choose your bank' }).getByRole('radio').first().check();
    await Promise.all([page.waitForURL(/\/bank\//), page.getByRole('button', { name: 'Continue' }).click()]);
    await Promise.all([page.waitForURL((u) => u.pathname.includes('/pay/')), page.getByRole('button', { name: 'Authorise payment' }).click()]);
  },
};

const form = async (path: string, fields: Record<string, string>) => {
  const r = await fetch(`${hub.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
  return r.json() as Promise<Record<string, any>>;
};

before(async () => {
  [hub, browser, listener] = await Promise.all([startTestHub({ logLevel: 'debug', outboundAllow: '127.0.0.1' }), launchBrowser(), startWebhookListener()]);
  secrets.add('admin key', hub.adminKey);
  const admin = apiClient(hub.url, hub.adminKey);

  // NETOPIA v2: a payment paid on the hosted page, refunded in part, then in full.
  const merchant = await admin('POST', '/v1/merchants', { name: 'Ceainăria Verde SRL' });
  secrets.add('merchant API key', merchant.body.api_key);
  const api = apiClient(hub.url, merchant.body.api_key);
  const v2 = await api('POST', '/v1/connections', { code: 'app', provider: 'netopia-v2', environment: 'emulator' });
  assert.equal(v2.status, 201, JSON.stringify(v2.body));
  secrets.add('NETOPIA v2 api_key', (await credentialsOf(v2.body.id)).api_key);
  const platform = await sql<{ private_key_pem: string }>`SELECT private_key_pem FROM emu_netopia_v2_platform_key LIMIT 1`.execute(hub.store.db);
  secrets.addPem('NETOPIA v2 platform private key', platform.rows[0]!.private_key_pem);
  const wh = await api('POST', '/v1/webhook-endpoints', { url: listener.url });
  listener.setSecret(wh.body.secret);
  secrets.add('webhook secret', wh.body.secret);
  const p = await api('POST', '/v1/payments', {
    connection: 'app',
    order_id: 'LOG-V2',
    amount: 20000,
    currency: 'RON',
    description: 'Comanda LOG-V2',
    billing: { first_name: 'Ioana', last_name: 'Pop', email: 'ioana@example.ro', phone: '0722000111', address: 'Str. Lungă 5', city: 'Brașov', country: 'RO' },
    return_url: listener.shopUrl,
  });
  assert.equal(p.status, 201, JSON.stringify(p.body));
  await payV2(p.body.payment_url);
  await eventually(async () => (await api('GET', `/v1/payments/${p.body.id}`)).body.status === 'paid', 15_000, 'the v2 payment to be paid');
  assert.equal((await api('POST', `/v1/payments/${p.body.id}/refunds`, { amount: 5000, reason: 'one item returned' })).body.status, 'succeeded');
  assert.equal((await api('POST', `/v1/payments/${p.body.id}/refunds`, {})).body.status, 'succeeded');

  // The conversational payment step, with a callback (its secret is shown once).
  const step = await api('POST', '/v1/payment-steps', {
    connection: 'app',
    conversation_id: 'log-conv',
    callback_url: listener.url,
    Payment: {
      Amount: '125.50',
      Currency: 'RON',
      Email: 'ana@example.ro',
      Phone: '+40712345678',
      FirstName: 'Ana',
      LastName: 'Pop',
      City: 'Cluj-Napoca',
      Country: 642,
      State: 'Cluj',
      ZipCode: '400001',
      Details: 'Str. Memorandumului 28',
    },
  });
  assert.equal(step.status, 201, JSON.stringify(step.body));
  secrets.add('payment step callback secret', step.body.callback_secret);
  secrets.add('payment step callback secret (key part)', String(step.body.callback_secret).replace(/^whsec_/, ''));
  await payV2(step.body.Payment.Url);
  await eventually(async () => (await api('GET', '/v1/payment-steps/log-conv')).body.Payment.Status !== null, 15_000, 'Payment.Status');

  // OnPay: a partner activates its key, opens a link per acquirer, the payer pays, the partner reads the reports.
  const partner = await admin('POST', '/v1/onpay/partners', { name: 'Gestionale Rossi SRL' });
  secrets.add('OnPay activation key', partner.body.activation_key);
  secrets.add('OnPay partner native API key', partner.body.api_key);
  const activated = await form('/test/api/get_onpay_key/', { key: partner.body.activation_key });
  const key = activated.onpaykey as string;
  secrets.add('OnPay production key', key);
  const native = apiClient(hub.url, partner.body.api_key);
  const tomorrow = formatOnpayDate(new Date(Date.now() + 86_400_000)).slice(0, 10);
  for (const gateway of ['multisafepay', 'nexi', 'volt'] as const) {
    const account = await (
      await fetch(`${hub.url}/sandbox/${gateway}/accounts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: `Studio ${gateway}` }),
      })
    ).json();
    const fields: Record<string, string> =
      gateway === 'multisafepay'
        ? { gatewayApiKey: account.api_key, gatewaySecretKey: '' }
        : gateway === 'nexi'
          ? { gatewayApiKey: account.alias, gatewaySecretKey: account.mac_key }
          : {
              gatewayApiKey: account.client_id,
              gatewaySecretKey: account.client_secret,
              gatewayUsername: account.username,
              gatewayPassword: account.password,
              gatewayNotificationKey: account.notification_secret,
            };
    if (gateway === 'multisafepay') secrets.add('MultiSafepay api_key', account.api_key);
    if (gateway === 'nexi') secrets.add('Nexi mac_key', account.mac_key);
    if (gateway === 'volt') {
      secrets.add('Volt client_secret', account.client_secret);
      secrets.add('Volt password', account.password);
      secrets.add('Volt notification_secret', account.notification_secret);
    }
    const extId = `LOG-${gateway}`;
    const link = await form('/test/api/get_link/', {
      key,
      gateway,
      ...fields,
      extId,
      orderAmount: '2500',
      orderCurrency: 'EUR',
      orderDescription: 'Ordine',
      expDate: tomorrow,
    });
    assert.equal(link.success, 'true', JSON.stringify(link));
    const page = await browser.newPage();
    try {
      await page.goto(link.link);
      await PAY[gateway](page);
    } finally {
      await page.close();
    }
    const payment = await eventually(
      async () => {
        const list = (await native('GET', `/v1/payments?order_id=${extId}`)).body.data;
        return list[0]?.status === 'paid' && list[0];
      },
      15_000,
      `the ${gateway} payment to be paid`,
    );
    if (gateway !== 'nexi') {
      const refund = await native('POST', `/v1/payments/${payment.id}/refunds`, { amount: 1000 });
      assert.equal(refund.status, 201, JSON.stringify(refund.body));
    }
    const reports = await form('/test/api/get_notifications/', {
      key,
      gateway,
      gatewayApiKey: fields.gatewayApiKey!,
      gatewaySecretKey: fields.gatewaySecretKey!,
      allnotifications: 'true',
    });
    assert.equal(reports.success, 'true', JSON.stringify(reports));
    // Keys where they do not belong: a refused call carrying the acquirer's secrets, a wrong key that is nearly the right one.
    await form('/test/api/get_link/', { key: `${key}x`, gateway, ...fields, extId: `${extId}-2`, orderAmount: '1', expDate: tomorrow });
    await form('/api/get_notifications/', { key, gateway, gatewayApiKey: fields.gatewayApiKey!, gatewaySecretKey: `${fields.gatewaySecretKey}-old` });
  }
  await form('/test/api/get_users/', {
    key,
    datefrom: formatOnpayDate(new Date(Date.now() - 3_600_000)),
    dateto: formatOnpayDate(new Date(Date.now() + 3_600_000)),
  });
  await form('/test/api/get_onpay_key/', { key: partner.body.activation_key });
  await api('POST', '/v1/payment-steps', {
    connection: 'app',
    conversation_id: 'leak',
    Payment: { Amount: '1', Email: key, Details: CARDS.v2, card_number: CARDS.v2, cvv: CVV.v2 },
  });
  // The OAuth tokens the hub obtained from Volt with that secret and password.
  const tokens = await sql<{ access_token: string; refresh_token: string }>`SELECT access_token, refresh_token FROM emu_volt_tokens`.execute(hub.store.db);
  assert.ok(tokens.rows.length > 0, 'the hub authenticated with Volt');
  tokens.rows.forEach((t, i) => {
    secrets.add(`Volt access token ${i + 1}`, t.access_token);
    secrets.add(`Volt refresh token ${i + 1}`, t.refresh_token);
  });
  await eventually(() => listener.received.some((w) => w.event.type === 'payment.refunded'), 10_000, 'the refund webhooks');
  linesAfterFlows = hub.rawLogs.length;
});

after(async () => {
  await browser?.close();
  await hub?.close();
  await listener?.close();
});

describe('log scan at LOG_LEVEL=debug, acquirer flows: secrets never reach a log line', () => {
  it('the flows were logged at debug level, every route they used included', () => {
    assert.equal(hub.ctx.logger.level, 'debug');
    assert.ok(
      hub.logs.some((l) => l.level === 20),
      'lines at debug level were written',
    );
    assert.ok(linesAfterFlows > 100, `only ${linesAfterFlows} log lines`);
    assertRoutesLogged(hub, [
      '/v1/payments',
      '/v1/payment-steps',
      '/pay/',
      '/sandbox/netopia/v2/',
      '/notify/netopia-v2/',
      '/test/api/get_link/',
      '/test/api/get_notifications/',
      '/api/get_notifications/',
      '/test/api/get_onpay_key/',
      '/sandbox/multisafepay/',
      '/notify/multisafepay/',
      '/sandbox/nexi/',
      '/notify/nexi/',
      '/sandbox/volt/',
      '/notify/volt/',
    ]);
    assert.ok(
      hub.logs.some((l) => l.msg === 'processor call'),
      'the calls to the acquirers were logged',
    );
    assert.ok(secrets.size >= 20, `only ${secrets.size} secrets collected`);
    for (const [label, value] of secrets) assert.equal(leaks([JSON.stringify({ msg: 'x', value: `…${value}…` })], value).length, 1, label);
  });

  it('no log line contains an API key, an acquirer secret, an OnPay key, private key material, a card number or a CVV', () => {
    const lines = hub.rawLogs.slice();
    const found: string[] = [];
    found.push(...secretLeaks(lines, secrets));
    for (const pan of Object.values(CARDS)) for (const where of leaks(lines, pan)) found.push(`card number ${pan.slice(0, 4)}… in ${where}`);
    for (const spaced of ['5500 0000 0000 0004', '5255 0000 0000 0001'])
      for (const where of leaks(lines, spaced)) found.push(`card number ${spaced.slice(0, 4)}… in ${where}`);
    lines.forEach((line, i) => {
      for (const cvv of Object.values(CVV))
        if (line.includes(`"${cvv}"`) || line.includes(`cvv=${cvv}`) || line.includes(`cvv2=${cvv}`))
          found.push(`a CVV in line ${i + 1}: ${line.slice(0, 200)}`);
    });
    assert.deepEqual(found, []);
  });
});
