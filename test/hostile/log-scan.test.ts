import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser } from '../support/browser.js';
import { apiClient, eventually, startTestHub, type TestHub } from '../support/hub.js';
import { crcOf, ipnBody, openRequest, postIpn, sandboxCredentials, VANILO_CERT, VANILO_KEY } from '../support/netopia-v1.js';
import { startWebhookListener } from '../support/webhook-listener.js';
import { assertRoutesLogged, leaks, SecretList, secretLeaks } from '../support/log-scan.js';

/**
 * Secrets never reach the logs, even at LOG_LEVEL=debug: the end-to-end flows run (merchants and keys,
 * connections with real key material, webhook endpoints, payments paid and declined in Chromium on the
 * emulator's card page, IPNs accepted and refused, a failing webhook delivery and its redelivery, requests
 * with keys in the wrong places), every secret the flows handled is collected, and every captured log line
 * is searched for each of them.
 */

const SUCCESS_CARD = '9900004810225098';
const DECLINE_CARD = '9900518572831942';
const CVV = '111';

let hub: TestHub;
let browser: Browser;
let listener: Awaited<ReturnType<typeof startWebhookListener>>;
let failing: Awaited<ReturnType<typeof startWebhookListener>>;

/** label → secret text that must not appear in any log line. */
const secrets = new SecretList();
/** How many log lines the flows produced, per kind, so that the scan cannot pass on an empty log. */
let linesAfterFlows = 0;

async function payWithCard(page: Page, pan: string) {
  await page.getByLabel(/^(Card number|Număr card)$/).fill(pan);
  await page.getByLabel(/^(Expiry date|Data expirării)$/).fill('12/30');
  await page.getByLabel('CVV').fill(CVV);
  await page.getByRole('button', { name: /^(Pay|Plătește)$/ }).click();
}

before(async () => {
  [hub, browser, listener, failing] = await Promise.all([
    startTestHub({ logLevel: 'debug', outboundAllow: '127.0.0.1' }),
    launchBrowser(),
    startWebhookListener(),
    startWebhookListener({ respond: () => 500 }),
  ]);
  secrets.add('admin key', hub.adminKey);
  const admin = apiClient(hub.url, hub.adminKey);

  // Merchants and keys (one rotated: the old and the new key are both secrets).
  const a = await admin('POST', '/v1/merchants', { name: 'Librăria Mică SRL' });
  assert.equal(a.status, 201);
  secrets.add('merchant API key', a.body.api_key);
  const b = await admin('POST', '/v1/merchants', { name: 'Rotor SRL' });
  secrets.add('second merchant API key (before rotation)', b.body.api_key);
  const rotated = await admin('POST', `/v1/merchants/${b.body.id}/rotate-key`);
  assert.equal(rotated.status, 200);
  secrets.add('second merchant API key (after rotation)', rotated.body.api_key);
  assert.equal((await admin('GET', '/v1/merchants')).status, 200);
  assert.equal((await admin('GET', '/v1/payments', undefined, { 'incasso-merchant': a.body.id })).status, 200);
  const api = apiClient(hub.url, a.body.api_key);

  // Connections: the emulator one (key material provisioned by the hub) and a sandbox one with the vanilo pair.
  const emu = await api('POST', '/v1/connections', { code: 'emu', provider: 'netopia-v1', environment: 'emulator' });
  assert.equal(emu.status, 201, JSON.stringify(emu.body));
  const emuRow = await hub.store.db.selectFrom('connections').selectAll().where('id', '=', emu.body.id).executeTakeFirstOrThrow();
  const emuCredentials = JSON.parse(hub.ctx.vault.decrypt(emuRow.credentials_encrypted, `connection:${emuRow.id}`)) as { private_key: string };
  secrets.addPem('emulator connection private key', emuCredentials.private_key);
  const platform = await sql<{ private_key_pem: string }>`SELECT private_key_pem FROM emu_netopia_v1_platform_key`.execute(hub.store.db);
  secrets.addPem('emulator platform private key', platform.rows[0]!.private_key_pem);

  const sbx = await api('POST', '/v1/connections', { code: 'sbx', provider: 'netopia-v1', environment: 'sandbox', credentials: sandboxCredentials() });
  assert.equal(sbx.status, 201, JSON.stringify(sbx.body));
  secrets.addPem('sandbox connection private key', VANILO_KEY);
  secrets.addPem('sandbox connection certificate', VANILO_CERT);
  // Key material in the wrong places: a refused connection, a credentials update.
  const misplaced = await api('POST', '/v1/connections', {
    code: 'oops',
    provider: 'netopia-v1',
    environment: 'sandbox',
    credentials: { signature: 'nope', certificate: VANILO_KEY, private_key: VANILO_CERT },
  });
  assert.equal(misplaced.status, 422);
  assert.equal((await api('PATCH', '/v1/connections/sbx', { credentials: sandboxCredentials(), settings: { language: 'en' } })).status, 200);

  // Webhook endpoints: a working receiver and one that always fails.
  const ok = await api('POST', '/v1/webhook-endpoints', { url: listener.url });
  assert.equal(ok.status, 201);
  listener.setSecret(ok.body.secret);
  secrets.add('webhook secret', ok.body.secret);
  secrets.add('webhook secret (key part)', String(ok.body.secret).replace(/^whsec_/, ''));
  const bad = await api('POST', '/v1/webhook-endpoints', { url: failing.url });
  assert.equal(bad.status, 201);
  secrets.add('failing webhook secret', bad.body.secret);
  secrets.add('failing webhook secret (key part)', String(bad.body.secret).replace(/^whsec_/, ''));

  // Payments paid and declined by a customer in Chromium on the emulator's card page.
  const payment = async (order: string, connection: string) => {
    const r = await api('POST', '/v1/payments', {
      connection,
      order_id: order,
      amount: 4990,
      currency: 'RON',
      description: `Comanda ${order}`,
      return_url: listener.shopUrl,
      billing: {
        first_name: 'Ioana',
        last_name: 'Dumitrescu',
        email: 'ioana@example.ro',
        phone: '0722000111',
        address: 'Str. Lungă 5',
        city: 'Brașov',
        country: 'RO',
      },
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const attempt = await hub.store.db.selectFrom('payment_attempts').selectAll().where('payment_id', '=', r.body.id).executeTakeFirstOrThrow();
    const fields = (attempt.redirect as unknown as { fields: Record<string, string> }).fields;
    secrets.add(`payment request env_key (${order})`, fields.env_key);
    secrets.add(`payment request data (${order})`, fields.data);
    return { id: r.body.id as string, url: r.body.payment_url as string, fields };
  };
  const paid = await payment('LOG-OK', 'emu');
  const declined = await payment('LOG-DECLINE', 'emu');
  const page = await browser.newPage();
  try {
    await page.goto(paid.url);
    await payWithCard(page, SUCCESS_CARD);
    await page.waitForURL(/\/shop\/thanks\?/);
    await page.goto(declined.url);
    await payWithCard(page, DECLINE_CARD);
    await page.getByRole('alert').waitFor();
    assert.match(await page.getByRole('alert').innerText(), /declined/i);
  } finally {
    await page.close();
  }
  assert.equal((await api('GET', `/v1/payments/${paid.id}`)).body.status, 'paid');
  const declinedNow = (await api('GET', `/v1/payments/${declined.id}`)).body;
  assert.equal(declinedNow.attempts[0].error_code, '20');

  // IPNs to the sandbox connection: accepted, duplicated, tampered with, and for the wrong amount.
  const sp = await payment('LOG-IPN', 'sbx');
  const orderXml = openRequest(sp.fields);
  const good = ipnBody(orderXml, { action: 'confirmed', crc: 'log-scan-crc' });
  const notifyUrl = sbx.body.notification_url as string;
  assert.equal(crcOf((await postIpn(notifyUrl, good)).text).errorType, 0);
  assert.equal(crcOf((await postIpn(notifyUrl, good)).text).errorType, 0);
  const tampered = new URLSearchParams(good);
  tampered.set(
    'data',
    tampered.get('data')!.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')),
  );
  assert.equal(crcOf((await postIpn(notifyUrl, tampered.toString())).text).errorType, 2);
  const wrongAmount = ipnBody(orderXml.replace('amount="49.90"', 'amount="4.99"'), { action: 'confirmed', original_amount: '4.99', processed_amount: '4.99' });
  assert.equal(crcOf((await postIpn(notifyUrl, wrongAmount)).text).errorType, 2);
  for (const body of [good, tampered.toString(), wrongAmount]) {
    const form = new URLSearchParams(body);
    secrets.add(`IPN env_key ${secrets.size}`, form.get('env_key')!);
    secrets.add(`IPN data ${secrets.size}`, form.get('data')!);
  }
  // The IPNs the emulator sent for the card payments (the hub keeps their raw bytes).
  const received = await hub.store.db.selectFrom('notifications').select('body').where('connection_id', '=', emu.body.id).execute();
  assert.ok(received.length >= 2, 'the emulator notified both card payments');
  for (const n of received) {
    const form = new URLSearchParams(Buffer.from(n.body).toString('latin1'));
    secrets.add(`emulator IPN env_key ${secrets.size}`, form.get('env_key')!);
    secrets.add(`emulator IPN data ${secrets.size}`, form.get('data')!);
  }

  // Keys and card data where they do not belong: the hub must not echo them into a log line.
  const anonymous = apiClient(hub.url);
  await anonymous('GET', '/v1/payments', undefined, { authorization: `Token ${a.body.api_key}` });
  await anonymous('GET', '/v1/payments', undefined, { authorization: `Bearer ${a.body.api_key} extra` });
  await anonymous('GET', '/v1/merchants', undefined, { authorization: `Bearer ${hub.adminKey}x` });
  await api('POST', '/v1/merchants', { name: 'x' });
  await api('POST', '/v1/payments', `{"card_number":"${SUCCESS_CARD}","cvv":"${CVV}","api_key":"${a.body.api_key}",`, { 'content-type': 'application/json' });
  await api('POST', '/v1/payments', { connection: 'emu', card_number: SUCCESS_CARD, cvv: CVV, secret: ok.body.secret });

  // The failing endpoint: retried, then redelivered by hand.
  const failedDelivery = await eventually(
    async () => {
      const list = await api('GET', `/v1/webhook-endpoints/${bad.body.id}/deliveries`);
      return list.body.data.find((d: { attempts: number; last_status_code: number | null }) => d.attempts >= 2 && d.last_status_code === 500);
    },
    20_000,
    'a webhook delivery to fail twice',
  );
  const callsBefore = failing.calls;
  assert.equal((await api('POST', `/v1/webhook-deliveries/${failedDelivery.id}/redeliver`)).status, 202);
  await eventually(() => failing.calls > callsBefore, 10_000, 'the redelivery');
  await eventually(() => listener.received.some((w) => w.event.type === 'payment.paid' && w.validSignature), 10_000, 'payment.paid at the working endpoint');
  linesAfterFlows = hub.rawLogs.length;
});

after(async () => {
  await browser?.close();
  await hub?.close();
  await listener?.close();
  await failing?.close();
});

describe('log scan at LOG_LEVEL=debug: secrets never reach a log line', () => {
  it('the flows were logged: JSON lines with level, time and message, at debug level', () => {
    assert.ok(linesAfterFlows > 60, `only ${linesAfterFlows} log lines`);
    assert.equal(hub.ctx.logger.level, 'debug');
    assert.ok(hub.ctx.logger.isLevelEnabled('debug'));
    for (const [i, line] of hub.rawLogs.entries()) {
      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(line);
      } catch {
        assert.fail(`log line ${i + 1} is not JSON: ${line.slice(0, 200)}`);
      }
      assert.equal(typeof parsed.level, 'number', `line ${i + 1} has no level`);
      assert.equal(typeof parsed.time, 'number', `line ${i + 1} has no time`);
      assert.equal(typeof parsed.msg, 'string', `line ${i + 1} has no msg`);
    }
    // The requests of every flow are in the log (so the scan below reads the lines the flows produced).
    assertRoutesLogged(hub, [
      '/v1/merchants',
      '/v1/connections',
      '/v1/webhook-endpoints',
      '/v1/payments',
      '/pay/',
      '/sandbox/netopia/v1/card/',
      '/notify/netopia-v1/',
      '/v1/webhook-deliveries/',
    ]);
    assert.ok(
      hub.logs.some((l) => l.msg === 'notification rejected'),
      'the refused IPNs were logged',
    );
    assert.ok(secrets.size >= 40, `only ${secrets.size} secrets collected`);
    // The search itself finds a secret however a log line would carry it (raw or JSON-escaped).
    for (const [label, value] of secrets) assert.equal(leaks([JSON.stringify({ msg: 'x', value: `…${value}…` })], value).length, 1, label);
  });

  it('no log line contains a key, a webhook secret, PEM key or certificate material, an envelope, a card number or the CVV', () => {
    const lines = hub.rawLogs.slice();
    const found: string[] = [];
    found.push(...secretLeaks(lines, secrets));
    for (const pan of [SUCCESS_CARD, DECLINE_CARD]) for (const where of leaks(lines, pan)) found.push(`card number ${pan.slice(0, 4)}… in ${where}`);
    lines.forEach((line, i) => {
      if (line.includes(`"${CVV}"`)) found.push(`the CVV as a JSON value in line ${i + 1}: ${line.slice(0, 200)}`);
    });
    assert.deepEqual(found, []);
  });

  it("LOG_LEVEL=debug adds debug lines of the hub's own", () => {
    const debugLines = hub.logs.filter((l) => l.level === 20);
    const levels = [...new Set(hub.logs.map((l) => l.level))].sort();
    assert.ok(
      debugLines.length > 0,
      `the hub wrote ${hub.logs.length} lines at levels ${JSON.stringify(levels)} and none at debug (20): a debug-level scan is no stronger than an info-level one`,
    );
  });

  it("the README's webhook inbox link with ?secret=whsec_… does not put the secret in the log", async () => {
    // README step 6: "the signed payment.paid event at http://127.0.0.1:8080/sandbox/inbox/demo?secret=whsec_..."
    const api = apiClient(hub.url, hub.adminKey);
    const merchant = await api('POST', '/v1/merchants', { name: 'Inbox demo' });
    const m = apiClient(hub.url, merchant.body.api_key);
    const endpoint = await m('POST', '/v1/webhook-endpoints', { url: `${hub.url}/sandbox/inbox/log-scan-demo` });
    assert.equal(endpoint.status, 201);
    const from = hub.rawLogs.length;
    const page = await fetch(`${hub.url}/sandbox/inbox/log-scan-demo?secret=${endpoint.body.secret}`);
    assert.equal(page.status, 200);
    await page.text();
    await eventually(() => hub.rawLogs.length > from, 5_000, 'the request to be logged');
    const found = [
      ...leaks(hub.rawLogs.slice(from), endpoint.body.secret),
      ...leaks(hub.rawLogs.slice(from), String(endpoint.body.secret).replace(/^whsec_/, '')),
    ];
    assert.deepEqual(found, [], 'the webhook secret is logged with the request URL');
  });
});
