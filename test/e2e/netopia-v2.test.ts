import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { runInNewContext } from 'node:vm';
import { SignJWT, importPKCS8 } from 'jose';
import type { Browser, Page } from 'playwright-core';
import { sql } from 'kysely';
import { launchBrowser } from '../support/browser.js';
import { apiClient, eventually, startTestHub, type TestHub } from '../support/hub.js';
import { startWebhookListener } from '../support/webhook-listener.js';
import { reconcileOpenAttempts } from '../../src/services/reconcile.js';

/**
 * NETOPIA v2 end to end, through the built-in emulator and a real headless Chromium: the hub opens the payment
 * with /payment/card/start, the customer pays on NETOPIA's hosted page, the JWT-signed IPN reaches the hub,
 * refunds go through /operation/credit, lost IPNs are caught by /operation/status, and the conversational
 * payment step hands a link to a chat and gives it back NETOPIA's status document.
 */

let hub: TestHub;
let browser: Browser;
let listener: Awaited<ReturnType<typeof startWebhookListener>>;
let api: ReturnType<typeof apiClient>;
let connection: { id: string; pos_signature: string };

before(async () => {
  [hub, browser, listener] = await Promise.all([startTestHub({ outboundAllow: '127.0.0.1' }), launchBrowser(), startWebhookListener()]);
  const merchant = await apiClient(hub.url, hub.adminKey)('POST', '/v1/merchants', { name: 'Ceainăria Verde SRL' });
  api = apiClient(hub.url, merchant.body.api_key);
  const c = await api('POST', '/v1/connections', { code: 'payments-app', provider: 'netopia-v2', environment: 'emulator' });
  assert.equal(c.status, 201, JSON.stringify(c.body));
  connection = { id: c.body.id, pos_signature: c.body.credentials.pos_signature };
  const wh = await api('POST', '/v1/webhook-endpoints', { url: listener.url });
  listener.setSecret(wh.body.secret);
});
after(async () => {
  await browser?.close();
  await hub?.close();
  await listener?.close();
});

async function createPayment(order: string, amount = 12550, connectionCode = 'payments-app') {
  const r = await api('POST', '/v1/payments', {
    connection: connectionCode,
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

/** NETOPIA's 3-D Secure buttons, in the page's language (the connection's, Romanian, or the payment's). */
const THREE_DS_BUTTONS = { Authorize: /^(Authorize|Autorizează)$/, 'Fail authentication': /^(Fail authentication|Autentificare eșuată)$/ };

async function payWithCard(page: Page, pan: string, options: { cvv?: string; expiry?: string } = {}) {
  await page.getByLabel(/^(Card number|Număr card)$/).fill(pan);
  await page.getByLabel(/^(Expiry date|Data expirării)$/).fill(options.expiry ?? '12/30');
  await page.getByLabel('CVV').fill(options.cvv ?? '111');
  await page.getByRole('button', { name: /^(Pay|Plătește)$/ }).click();
}

/** Opens the payment link, pays, and waits for the hub's return page or the shop. */
async function pay(url: string, pan: string, options: { cvv?: string; expiry?: string; threeDs?: 'Authorize' | 'Fail authentication' } = {}) {
  const page = await browser.newPage();
  try {
    await page.goto(url);
    await page.getByLabel(/^(Card number|Număr card)$/).waitFor();
    assert.match(page.url(), /\/sandbox\/netopia\/v2\//, 'the hub sent the browser to the paymentURL NETOPIA answered');
    await payWithCard(page, pan, options);
    if (options.threeDs) await page.getByRole('button', { name: THREE_DS_BUTTONS[options.threeDs] }).click();
    await page.waitForURL((u) => u.pathname.endsWith('/return') || u.pathname.startsWith('/shop/'));
    if (page.url().includes('/return')) await page.getByRole('alert').or(page.getByRole('status')).first().waitFor();
    return { url: page.url(), text: await page.locator('body').innerText() };
  } finally {
    await page.close();
  }
}

const eventsOf = (paymentId: string) => listener.received.filter((w) => w.event.data.id === paymentId);
async function settledEvents(paymentId: string, type: string, count = 1) {
  await eventually(() => eventsOf(paymentId).filter((w) => w.event.type === type).length >= count, 10_000, `${type} ×${count} for ${paymentId}`);
  await new Promise((r) => setTimeout(r, 250));
  return eventsOf(paymentId);
}

describe('the hosted page with the sandbox success card', () => {
  it('ends paid through the signed IPN; the shop gets payment.paid once, correctly signed', async () => {
    const p = await createPayment('V2-OK');
    const back = await pay(p.payment_url, '9900004810225098');
    assert.match(back.url, /\/shop\/thanks\?/);
    const payment = (await api('GET', `/v1/payments/${p.id}`)).body;
    assert.equal(payment.status, 'paid');
    assert.equal(payment.amount_captured, 12550);
    assert.equal(payment.attempts.length, 1);
    assert.equal(payment.attempts[0].status, 'captured');
    assert.match(payment.attempts[0].processor_reference, /^\d+$/, 'the ntpID');
    assert.equal(payment.attempts[0].pan_masked, '9****5098');
    assert.deepEqual(
      payment.notifications.map((n: { status: string }) => n.status),
      ['applied'],
    );
    const events = await settledEvents(p.id, 'payment.paid');
    assert.deepEqual(
      events.map((e) => e.event.type),
      ['payment.created', 'payment.paid'],
    );
    assert.ok(events.every((e) => e.validSignature));
  });
});

const DECLINES: Array<[string, string, { cvv?: string; expiry?: string }, string]> = [
  ['expired card (any past date)', '9900541631437790', { expiry: '01/21' }, '19'],
  ['insufficient funds', '9900518572831942', {}, '20'],
  ['incorrect CVV (any wrong CVV)', '9900827979991500', { cvv: '999' }, '21'],
  ['high-risk / fraud', '9900334791085173', {}, '16'],
];

describe("the seed's sandbox cards that decline: the attempt keeps its reason, the payment stays payable", () => {
  for (const [name, pan, options, code] of DECLINES) {
    it(`${name} (${code}), then paid with the success card from the same link`, async () => {
      const p = await createPayment(`V2-${code}`);
      const declined = await pay(p.payment_url, pan, options);
      assert.match(declined.url, new RegExp(`/pay/${p.id}/return`));
      assert.match(declined.text, /declined/i);
      let payment = (await api('GET', `/v1/payments/${p.id}`)).body;
      assert.equal(payment.status, 'pending');
      assert.equal(payment.attempts[0].status, 'failed');
      assert.equal(payment.attempts[0].error_code, code);
      assert.ok(payment.attempts[0].error_message);
      const paid = await pay(p.payment_url, '9900004810225098');
      assert.match(paid.url, /\/shop\/thanks\?/);
      payment = (await api('GET', `/v1/payments/${p.id}`)).body;
      assert.equal(payment.status, 'paid');
      assert.deepEqual(
        payment.attempts.map((a: { status: string }) => a.status),
        ['failed', 'captured'],
        'a new NETOPIA order for the new try',
      );
      const events = await settledEvents(p.id, 'payment.paid');
      assert.deepEqual(
        events.map((e) => e.event.type),
        ['payment.created', 'payment.attempt_failed', 'payment.paid'],
      );
    });
  }
});

describe('3-D Secure card', () => {
  it('authorized on the bank page → paid', async () => {
    const p = await createPayment('V2-3DS-OK');
    const back = await pay(p.payment_url, '9900009184214768', { threeDs: 'Authorize' });
    assert.match(back.url, /\/shop\/thanks\?/);
    assert.equal((await api('GET', `/v1/payments/${p.id}`)).body.status, 'paid');
  });
  it('failed authentication → the attempt fails, the payment stays payable', async () => {
    const p = await createPayment('V2-3DS-FAIL');
    const back = await pay(p.payment_url, '9900009184214768', { threeDs: 'Fail authentication' });
    assert.match(back.text, /declined/i);
    const payment = (await api('GET', `/v1/payments/${p.id}`)).body;
    assert.equal(payment.status, 'pending');
    assert.equal(payment.attempts[0].status, 'failed');
  });
});

describe('refunds through /operation/credit: partial, then the rest', () => {
  it('each refund succeeds once; the credit IPN that follows is a duplicate of the answer', async () => {
    const p = await createPayment('V2-REFUND', 20000);
    await pay(p.payment_url, '9900004810225098');
    const first = await api('POST', `/v1/payments/${p.id}/refunds`, { amount: 5000, reason: 'one item returned' }, { 'idempotency-key': 'refund-1' });
    assert.equal(first.status, 201, JSON.stringify(first.body));
    assert.equal(first.body.status, 'succeeded');
    const replay = await api('POST', `/v1/payments/${p.id}/refunds`, { amount: 5000, reason: 'one item returned' }, { 'idempotency-key': 'refund-1' });
    assert.equal(replay.body.id, first.body.id, 'the same key is the same refund');
    let payment = (await api('GET', `/v1/payments/${p.id}`)).body;
    assert.equal(payment.status, 'partially_refunded');
    assert.equal(payment.amount_refunded, 5000);
    const tooMuch = await api('POST', `/v1/payments/${p.id}/refunds`, { amount: 15001 });
    assert.equal(tooMuch.status, 422);
    assert.equal(tooMuch.body.errors[0].field, 'amount');
    const rest = await api('POST', `/v1/payments/${p.id}/refunds`, {});
    assert.equal(rest.status, 201, JSON.stringify(rest.body));
    assert.deepEqual([rest.body.status, rest.body.amount], ['succeeded', 15000]);
    payment = (await api('GET', `/v1/payments/${p.id}`)).body;
    assert.deepEqual([payment.status, payment.amount_refunded], ['refunded', 20000]);
    const again = await api('POST', `/v1/payments/${p.id}/refunds`, { amount: 1 });
    assert.equal(again.status, 422, 'nothing left to refund');
    // NETOPIA's status-8 IPNs arrive after each answer and say the same: recorded as duplicates.
    await eventually(
      async () => {
        const n = (await api('GET', `/v1/payments/${p.id}`)).body.notifications as Array<{ status: string }>;
        return n.filter((x) => x.status === 'duplicate').length >= 2 && n;
      },
      15_000,
      'the credit IPNs',
    );
    const events = await settledEvents(p.id, 'payment.refunded', 2);
    assert.equal(events.filter((e) => e.event.type === 'payment.refunded').length, 2, 'one event per refund');
    const list = (await api('GET', `/v1/payments/${p.id}/refunds`)).body.data;
    assert.deepEqual(
      list.map((r: { amount: number; status: string }) => [r.amount, r.status]),
      [
        [5000, 'succeeded'],
        [15000, 'succeeded'],
      ],
    );
  });

  it('an unpaid payment cannot be refunded', async () => {
    const p = await createPayment('V2-REFUND-UNPAID');
    const r = await api('POST', `/v1/payments/${p.id}/refunds`, {});
    assert.equal(r.status, 422);
  });
});

/** The emulator's platform key: the test plays NETOPIA to forge the IPNs a hostile sender could not. */
async function netopiaKey() {
  const row = await sql<{
    private_key_pem: string;
    public_key_pem: string;
  }>`SELECT private_key_pem, public_key_pem FROM emu_netopia_v2_platform_key LIMIT 1`.execute(hub.ctx.db);
  return row.rows[0]!;
}

const sub = (body: string) => createHash('sha512').update(body).digest('base64');

async function signed(body: string, claims: Record<string, unknown> = {}, keyPem?: string): Promise<string> {
  const key = await importPKCS8(keyPem ?? (await netopiaKey()).private_key_pem, 'RS512');
  return new SignJWT({ iss: 'NETOPIA Payments', aud: connection.pos_signature, sub: sub(body), ...claims })
    .setProtectedHeader({ alg: 'RS512', typ: 'JWT' })
    .setIssuedAt()
    .sign(key);
}

const b64url = (s: string | Buffer) => Buffer.from(s).toString('base64url');

async function postIpn(body: string, token: string | undefined) {
  const r = await fetch(`${hub.url}/notify/netopia-v2/${connection.id}`, { method: 'POST', headers: token ? { 'verification-token': token } : {}, body });
  return { status: r.status, reply: await r.json() };
}

describe('forged and replayed IPNs change nothing', () => {
  let paymentId = '';
  let body = '';
  let snapshot: unknown;

  before(async () => {
    const p = await createPayment('V2-FORGERY', 3000);
    await pay(p.payment_url, '9900004810225098');
    paymentId = p.id;
    const delivered = await sql<{ body: string }>`SELECT body FROM emu_netopia_v2_ipn_deliveries ORDER BY id DESC LIMIT 1`.execute(hub.ctx.db);
    body = delivered.rows[0]!.body;
    assert.match(body, /"status":3/);
    snapshot = (await api('GET', `/v1/payments/${paymentId}`)).body;
  });

  const unchanged = async () => {
    const now = (await api('GET', `/v1/payments/${paymentId}`)).body;
    const strip = (p: any) => ({ ...p, notifications: undefined });
    assert.deepEqual(strip(now), strip(snapshot));
  };

  it('the same IPN again (correctly signed) is a duplicate: success reply, no change', async () => {
    const r = await postIpn(body, await signed(body));
    assert.deepEqual([r.status, r.reply], [200, { errorType: 0, errorCode: null, errorMessage: '' }]);
    await unchanged();
  });

  const refusals: Array<[string, () => Promise<[string, string | undefined]>]> = [
    [
      'a bad signature (signed by another key)',
      async () => {
        const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
        return [body, await signed(body, {}, other)];
      },
    ],
    ['a wrong aud (another POS)', async () => [body, await signed(body, { aud: 'ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ' })]],
    ['the body changed after signing (a refund total raised)', async () => [body.replace('"status":3', '"status":8'), await signed(body)]],
    [
      'alg none',
      async () => {
        const claims = { iss: 'NETOPIA Payments', aud: connection.pos_signature, sub: sub(body), iat: Math.floor(Date.now() / 1000) };
        return [body, `${b64url(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${b64url(JSON.stringify(claims))}.`];
      },
    ],
    [
      "HS512 keyed with NETOPIA's public key (algorithm confusion)",
      async () => {
        const { createHmac } = await import('node:crypto');
        const claims = { iss: 'NETOPIA Payments', aud: connection.pos_signature, sub: sub(body), iat: Math.floor(Date.now() / 1000) };
        const input = `${b64url(JSON.stringify({ alg: 'HS512', typ: 'JWT' }))}.${b64url(JSON.stringify(claims))}`;
        return [
          body,
          `${input}.${createHmac('sha512', (await netopiaKey()).public_key_pem)
            .update(input)
            .digest('base64url')}`,
        ];
      },
    ],
    ['no Verification-token at all', async () => [body, undefined]],
  ];
  for (const [name, make] of refusals) {
    it(`${name} → errorType 2, nothing changes`, async () => {
      const [text, token] = await make();
      const r = await postIpn(text, token);
      assert.equal(r.status, 200);
      assert.equal(r.reply.errorType, 2, JSON.stringify(r.reply));
      assert.equal(typeof r.reply.errorCode, 'number');
      await unchanged();
      const last = await hub.ctx.db
        .selectFrom('notifications')
        .select(['status', 'error'])
        .where('connection_id', '=', connection.id)
        .orderBy('received_at', 'desc')
        .orderBy('id', 'desc')
        .limit(1)
        .executeTakeFirstOrThrow();
      assert.equal(last.status, 'rejected', 'kept in the inbox, marked rejected');
    });
  }
});

describe('a lost IPN is caught by reconciliation (/operation/status)', () => {
  it('an IPN the hub could not verify leaves the payment pending; the status check records it as paid', async () => {
    // A sandbox-style connection to the emulator whose NETOPIA key is wrong: every IPN is refused.
    const account = await (
      await fetch(`${hub.url}/sandbox/netopia/v2/accounts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'reconcile' }),
      })
    ).json();
    const wrongKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const credentials = { api_key: account.api_key, pos_signature: account.pos_signature };
    const c = await api('POST', '/v1/connections', {
      code: 'misconfigured',
      provider: 'netopia-v2',
      environment: 'sandbox',
      credentials: { ...credentials, notify_public_keys: wrongKey },
      settings: { endpoint: `${hub.url}/sandbox/netopia/v2` },
    });
    assert.equal(c.status, 201, JSON.stringify(c.body));
    const p = await createPayment('V2-LOST-IPN', 4200, 'misconfigured');
    await pay(p.payment_url, '9900004810225098');
    let payment = (await api('GET', `/v1/payments/${p.id}`)).body;
    assert.equal(payment.status, 'pending');
    // Unverified, so never linked to the payment: it sits in the inbox as rejected.
    const refused = await eventually(
      () => hub.ctx.db.selectFrom('notifications').select(['status', 'error']).where('connection_id', '=', c.body.id).executeTakeFirst(),
      10_000,
      'the refused IPN',
    );
    assert.equal(refused.status, 'rejected');
    assert.equal(payment.notifications.length, 0);
    // The operator fixes the key; the janitor's next look at attempts older than ten minutes asks NETOPIA.
    const fixed = await api('PATCH', `/v1/connections/${c.body.id}`, { credentials: { ...credentials, notify_public_keys: account.notify_public_key_pem } });
    assert.equal(fixed.status, 200, JSON.stringify(fixed.body));
    await hub.ctx.db
      .updateTable('payment_attempts')
      .set({ created_at: new Date(Date.now() - 11 * 60_000) })
      .where('payment_id', '=', p.id)
      .execute();
    await eventually(
      async () => (await reconcileOpenAttempts(hub.ctx)) >= 0 && (await api('GET', `/v1/payments/${p.id}`)).body.status === 'paid',
      10_000,
      'the status check',
    );
    payment = (await api('GET', `/v1/payments/${p.id}`)).body;
    assert.equal(payment.amount_captured, 4200);
    const sources = await hub.ctx.db.selectFrom('notifications').select(['source', 'status']).where('payment_id', '=', p.id).orderBy('received_at').execute();
    assert.ok(
      sources.some((n) => n.source === 'status_check' && n.status === 'applied'),
      JSON.stringify(sources),
    );
  });
});

describe('the conversational payment step with a NETOPIA v2 payment app', () => {
  const SNIPPET = `// Parse the JSON string from the system variable
let s = JSON.parse([[ConversationInfo]].Payment.Status);

// Map transaction details to Druid entity fields
[[ConversationInfo]].Payment.Id = s.payment.ntpID; // The unique Netopia transaction identifier.
[[ConversationInfo]].Payment.Name = s.payment.data.ISSUER; // The bank name that issued the card
[[ConversationInfo]].Payment.Amount = s.payment.amount;
[[ConversationInfo]].Payment.Currency = s.payment.currency;`;

  it("the link pays; Payment.Status is pushed and polled; the seed's snippet reads it unchanged", async () => {
    const callback = await startWebhookListener();
    try {
      const fields = {
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
      };
      const step = await api('POST', '/v1/payment-steps', {
        connection: 'payments-app',
        conversation_id: 'druid-conv-1',
        callback_url: callback.url,
        Payment: fields,
      });
      assert.equal(step.status, 201, JSON.stringify(step.body));
      callback.setSecret(step.body.callback_secret);
      assert.equal(step.body.Payment.Status, null);
      await pay(step.body.Payment.Url, '9900004810225098');
      const polled = (await api('GET', '/v1/payment-steps/druid-conv-1')).body;
      assert.equal(polled.status, 'paid');
      assert.equal(typeof polled.Payment.Status, 'string');
      const doc = JSON.parse(polled.Payment.Status);
      assert.deepEqual(Object.keys(doc), ['error', 'payment']);
      assert.deepEqual(doc.error, { code: '00', message: 'Approved' });
      assert.deepEqual(Object.keys(doc.payment.data).sort(), ['AuthCode', 'BIN', 'ISSUER', 'ISSUER_COUNTRY', 'RRN']);
      // Druid substitutes [[ConversationInfo]] with the conversation's entity; the snippet runs as written.
      const ConversationInfo = { Payment: { Status: polled.Payment.Status } as Record<string, unknown> };
      runInNewContext(SNIPPET.replaceAll('[[ConversationInfo]]', 'ConversationInfo'), { ConversationInfo, JSON });
      const payment = (await api('GET', `/v1/payments/${polled.payment_id}`)).body;
      assert.equal(ConversationInfo.Payment.Id, payment.attempts[0].processor_reference);
      assert.equal(ConversationInfo.Payment.Name, 'Netopia GB');
      assert.equal(ConversationInfo.Payment.Amount, 125.5);
      assert.equal(ConversationInfo.Payment.Currency, 'RON');
      const pushed = await eventually(() => callback.received.find((w) => w.event.type === 'payment_step.updated'), 10_000, 'the callback');
      assert.ok(pushed.validSignature, 'signed with the callback secret');
      assert.equal(pushed.event.data.conversation_id, 'druid-conv-1');
      assert.equal(pushed.event.data.Payment.Status, polled.Payment.Status);
      assert.equal(callback.received.filter((w) => w.event.type !== 'payment_step.updated').length, 0, 'the callback gets only its conversation');
    } finally {
      await callback.close();
    }
  });
});
