import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { apiClient, eventually, startTestHub, type TestHub } from '../support/hub.js';
import { startWebhookListener } from '../support/webhook-listener.js';
import { crcOf, ipnBody, openRequest, postIpn, sandboxCredentials } from '../support/netopia-v1.js';
import { sql } from 'kysely';
import { receiveNotification } from '../../src/services/inbox/index.js';

let hub: TestHub;
let listener: Awaited<ReturnType<typeof startWebhookListener>>;
let api: ReturnType<typeof apiClient>;
let connection: { id: string; notification_url: string };

before(async () => {
  hub = await startTestHub({ emulators: false, outboundAllow: '127.0.0.1' });
  listener = await startWebhookListener();
  const admin = apiClient(hub.url, hub.adminKey);
  const merchant = await admin('POST', '/v1/merchants', { name: 'Cafeneaua Veche SRL' });
  api = apiClient(hub.url, merchant.body.api_key);
  const c = await api('POST', '/v1/connections', { code: 'netopia', provider: 'netopia-v1', environment: 'sandbox', credentials: sandboxCredentials() });
  assert.equal(c.status, 201, JSON.stringify(c.body));
  connection = c.body;
  const wh = await api('POST', '/v1/webhook-endpoints', { url: listener.url });
  listener.setSecret(wh.body.secret);
});
after(async () => {
  await hub?.close();
  await listener?.close();
});

async function newPayment(amount = 1000, currency = 'RON') {
  const r = await api('POST', '/v1/payments', {
    connection: 'netopia',
    order_id: `ORD-${Math.random().toString(36).slice(2, 8)}`,
    amount,
    currency,
    description: 'Cafea boabe 1kg',
    billing: { first_name: 'Ștefan', last_name: 'Țăran', email: 'stefan@example.ro', phone: '+40712345678', city: 'Cluj-Napoca', country: 'RO' },
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const attempt = await hub.store.db.selectFrom('payment_attempts').selectAll().where('payment_id', '=', r.body.id).executeTakeFirstOrThrow();
  const redirect = attempt.redirect as unknown as { url: string; fields: Record<string, string> };
  return { payment: r.body, attempt, orderXml: openRequest(redirect.fields) };
}

const eventsFor = (paymentId: string) => listener.received.filter((w) => w.event.data.id === paymentId);

describe('the sealed request is built exactly as NETOPIA expects', () => {
  it('posts env_key, data, cipher and iv, with ipn_cipher, the attempt as order id and the amount with two decimals', async () => {
    const { attempt, orderXml } = await newPayment(12345);
    const redirect = attempt.redirect as unknown as { method: string; url: string; fields: Record<string, string> };
    assert.equal(redirect.method, 'POST');
    assert.equal(redirect.url, 'https://sandboxsecure.mobilpay.ro/');
    assert.deepEqual(Object.keys(redirect.fields).sort(), ['cipher', 'data', 'env_key', 'iv']);
    assert.equal(redirect.fields.cipher, 'aes-256-cbc');
    assert.match(orderXml, new RegExp(`<order type="card" id="${attempt.id}" timestamp="\\d{14}">`));
    assert.match(orderXml, /<invoice currency="RON" amount="123.45">/);
    assert.match(orderXml, /<ipn_cipher>aes-256-cbc<\/ipn_cipher>/);
    assert.match(orderXml, /<first_name><!\[CDATA\[%C8%98tefan\]\]><\/first_name>/);
    assert.match(orderXml, new RegExp(`<confirm>${connection.notification_url.replace(/[.]/g, '\\.')}</confirm>`));
  });
});

describe('an IPN is verified, recorded, answered with crc, and told to the merchant exactly once', () => {
  it('confirmed → paid, one signed payment.paid event; the same IPN again changes nothing', async () => {
    const { payment, orderXml } = await newPayment();
    const body = ipnBody(orderXml, { action: 'confirmed', crc: 'abc123' });
    const first = await postIpn(connection.notification_url, body);
    assert.equal(first.status, 200);
    assert.match(first.contentType, /application\/xml/);
    assert.deepEqual(crcOf(first.text), { errorType: 0, errorCode: 0, message: 'abc123' });
    const paid = await api('GET', `/v1/payments/${payment.id}`);
    assert.equal(paid.body.status, 'paid');
    assert.equal(paid.body.amount_captured, 1000);
    assert.equal(paid.body.attempts[0].status, 'captured');
    assert.equal(paid.body.attempts[0].processor_reference, '1203859');
    assert.equal(paid.body.attempts[0].pan_masked, '9****5098');

    for (let i = 0; i < 3; i++) assert.equal(crcOf((await postIpn(connection.notification_url, body)).text).errorType, 0);
    const events = await eventually(() => {
      const e = eventsFor(payment.id).filter((w) => w.event.type === 'payment.paid');
      return e.length >= 1 && e;
    });
    await eventually(async () => (await api('GET', `/v1/payments/${payment.id}`)).body.notifications.length === 4);
    const again = await api('GET', `/v1/payments/${payment.id}`);
    assert.deepEqual(
      again.body.notifications.map((n: { status: string }) => n.status),
      ['applied', 'duplicate', 'duplicate', 'duplicate'],
    );
    // Give the worker time to (wrongly) deliver a second event before counting.
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(eventsFor(payment.id).filter((w) => w.event.type === 'payment.paid').length, 1);
    assert.ok(events[0]!.validSignature, 'Standard Webhooks signature verifies');
    assert.equal(events[0]!.event.data.status, 'paid');
  });

  it('a declined attempt (paid + code 35) is listed with its reason and leaves the payment payable', async () => {
    const { payment, orderXml } = await newPayment();
    const r = await postIpn(connection.notification_url, ipnBody(orderXml, { action: 'paid', error: { code: 35, message: 'Tranzactie respinsa' } }));
    assert.equal(crcOf(r.text).errorType, 0, 'a decline is not a merchant error: plain <crc>');
    const p = await api('GET', `/v1/payments/${payment.id}`);
    assert.equal(p.body.status, 'pending');
    assert.equal(p.body.attempts[0].status, 'failed');
    assert.equal(p.body.attempts[0].error_code, '35');
    assert.equal(p.body.attempts[0].error_message, 'Tranzactie respinsa');
    await eventually(() => eventsFor(payment.id).some((w) => w.event.type === 'payment.attempt_failed'));
  });

  it('preauthorization (paid) then capture (confirmed) then partial and full credit', async () => {
    const { payment, orderXml } = await newPayment(5000);
    const send = async (m: Parameters<typeof ipnBody>[1]) => crcOf((await postIpn(connection.notification_url, ipnBody(orderXml, m))).text);
    assert.equal((await send({ action: 'paid', original_amount: '50.00', processed_amount: '50.00' })).errorType, 0);
    assert.equal((await api('GET', `/v1/payments/${payment.id}`)).body.status, 'authorized');
    await send({ action: 'confirmed', original_amount: '50.00', processed_amount: '50.00' });
    await send({ action: 'credit', original_amount: '50.00', processed_amount: '20.00' });
    let p = (await api('GET', `/v1/payments/${payment.id}`)).body;
    assert.equal(p.status, 'partially_refunded');
    assert.equal(p.amount_refunded, 2000);
    await send({ action: 'credit', original_amount: '50.00', processed_amount: '50.00' });
    p = (await api('GET', `/v1/payments/${payment.id}`)).body;
    assert.equal(p.status, 'refunded');
    assert.equal(p.amount_refunded, 5000);
    const types = await eventually(() => {
      const t = eventsFor(payment.id).map((w) => w.event.type);
      return t.filter((x) => x === 'payment.refunded').length === 2 && t;
    });
    assert.deepEqual(
      types.filter((t) => t !== 'payment.created'),
      ['payment.authorized', 'payment.paid', 'payment.refunded', 'payment.refunded'],
    );
  });

  it('reordered IPNs (credit before confirmed) end in the same state', async () => {
    const { payment, orderXml } = await newPayment(5000);
    const send = (m: Parameters<typeof ipnBody>[1]) => postIpn(connection.notification_url, ipnBody(orderXml, { original_amount: '50.00', ...m }));
    await send({ action: 'credit', processed_amount: '20.00' });
    await send({ action: 'confirmed', processed_amount: '50.00' });
    await send({ action: 'paid_pending', processed_amount: '50.00' });
    const p = (await api('GET', `/v1/payments/${payment.id}`)).body;
    assert.equal(p.status, 'partially_refunded');
    assert.equal(p.amount_captured, 5000);
    assert.equal(p.amount_refunded, 2000);
  });

  it('a burst of different IPNs for one payment, each five times at once, ends as if they came one at a time', async () => {
    const { payment, orderXml } = await newPayment(5000);
    const bodies = (
      [
        { action: 'paid', processed_amount: '50.00' },
        { action: 'confirmed', processed_amount: '50.00' },
        { action: 'credit', processed_amount: '20.00' },
        { action: 'credit', processed_amount: '50.00' },
      ] as const
    ).map((m, i) => ipnBody(orderXml, { original_amount: '50.00', crc: `burst-${i}`, ...m }));
    const replies = await Promise.all(bodies.flatMap((b) => [b, b, b, b, b]).map((b) => postIpn(connection.notification_url, b)));
    for (const r of replies) assert.equal(crcOf(r.text).errorType, 0, r.text);
    const p = (await api('GET', `/v1/payments/${payment.id}`)).body;
    assert.deepEqual([p.status, p.amount_captured, p.amount_refunded], ['refunded', 5000, 5000]);
    assert.equal(p.attempts[0].status, 'refunded');
    assert.equal(p.notifications.length, 20);
    assert.ok(
      p.notifications.every((n: { status: string }) => ['applied', 'duplicate', 'ignored'].includes(n.status)),
      JSON.stringify(p.notifications),
    );
    // Every change made one event, never twice: the events' snapshots are distinct, and the last one is the final state.
    const events = await eventually(() => {
      const e = eventsFor(payment.id).filter((w) => w.event.type !== 'payment.created');
      return e.some((w) => w.event.data.status === 'refunded') && e;
    });
    await new Promise((r) => setTimeout(r, 300));
    const seen = eventsFor(payment.id)
      .filter((w) => w.event.type !== 'payment.created')
      .map((w) => `${w.event.type} ${w.event.data.status} ${w.event.data.amount_captured} ${w.event.data.amount_refunded}`);
    assert.equal(new Set(seen).size, seen.length, seen.join('; '));
    assert.equal(seen.length, events.length);
    assert.equal(seen.filter((e) => e.startsWith('payment.refunded refunded')).length, 1);
  });

  it('converts RON amounts of a foreign-currency invoice back to the invoice currency', async () => {
    const { payment, orderXml } = await newPayment(3300, 'USD');
    await postIpn(connection.notification_url, ipnBody(orderXml, { action: 'confirmed', original_amount: '132.69', processed_amount: '132.69' }));
    await postIpn(connection.notification_url, ipnBody(orderXml, { action: 'credit', original_amount: '132.69', processed_amount: '66.35' }));
    const p = (await api('GET', `/v1/payments/${payment.id}`)).body;
    assert.equal(p.amount_captured, 3300);
    assert.equal(p.amount_refunded, 1650);
  });
});

describe('"durable before acknowledged": a stored notification is never lost', () => {
  it('notifications arriving in one turn are stored by one statement, byte for byte, and each is answered as if alone', async () => {
    const paid = await Promise.all([newPayment(), newPayment(), newPayment()]);
    const form = 'application/x-www-form-urlencoded';
    const inbound = (body: Buffer | string) => ({
      body: Buffer.from(body),
      contentType: form,
      headers: { 'content-type': form, 'x-forwarded-for': '203.0.113.9' },
      remoteAddr: '127.0.0.1',
    });
    const binary = Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x3d, 0x26, 0x0a]); // not UTF-8, with a NUL: must be kept as it came
    const calls: Array<[string, ReturnType<typeof inbound>]> = [
      ...paid.map(({ orderXml }, i): [string, ReturnType<typeof inbound>] => [
        connection.id,
        inbound(ipnBody(orderXml, { action: 'confirmed', crc: `turn-${i}` })),
      ]),
      ['con_doesnotexist', inbound(ipnBody(paid[0]!.orderXml, { action: 'confirmed' }))],
      [connection.id, inbound(binary)],
    ];
    const replies = await Promise.all(calls.map(([connectionId, n]) => receiveNotification(hub.ctx, 'netopia-v1', connectionId, n)));
    assert.deepEqual(
      replies.map((r) => crcOf(String(r.body)).errorType),
      [0, 0, 0, 2, 2],
    );
    // received_at is the time its transaction started (later updates rewrite the row, so xmin would not tell).
    const stored = await sql<{ received: string; body: Buffer; connection_id: string | null; status: string; headers: Record<string, string> }>`
      SELECT received_at::text AS received, body, connection_id, status, headers FROM notifications WHERE received_at > now() - interval '1 minute' ORDER BY received_at DESC, id DESC LIMIT 5`.execute(
      hub.store.db,
    );
    const rows = stored.rows;
    assert.equal(new Set(rows.map((r) => r.received)).size, 1, 'one statement stored the turn');
    const byBody = new Map(rows.map((r) => [Buffer.from(r.body).toString('hex'), r]));
    for (const [connectionId, n] of calls) {
      const row = byBody.get(n.body.toString('hex'));
      assert.ok(row, `stored byte for byte: ${n.body.subarray(0, 16).toString('hex')}`);
      assert.equal(row.connection_id, connectionId);
      assert.equal(row.headers['x-forwarded-for'], '203.0.113.9');
    }
    for (const { payment } of paid) assert.equal((await api('GET', `/v1/payments/${payment.id}`)).body.status, 'paid');
    assert.deepEqual(rows.map((r) => r.status).sort(), ['applied', 'applied', 'applied', 'rejected', 'rejected']);
  });

  it('a notification stored but never processed (the process died before applying it) is applied by the worker', async () => {
    const { payment, orderXml } = await newPayment();
    const body = ipnBody(orderXml, { action: 'confirmed', purchase: '7700001' });
    await hub.store.db
      .insertInto('notifications')
      .values({
        id: 'ntf_0000000000stalestalestale',
        provider: 'netopia-v1',
        connection_id: connection.id,
        body: Buffer.from(body),
        content_type: 'application/x-www-form-urlencoded',
        status: 'received',
        received_at: new Date(Date.now() - 120_000),
      })
      .execute();
    const p = await eventually(async () => {
      const b = (await api('GET', `/v1/payments/${payment.id}`)).body;
      return b.status === 'paid' && b;
    });
    assert.equal(p.notifications[0].id, 'ntf_0000000000stalestalestale');
    assert.equal(p.notifications[0].status, 'applied');
    // The processor's own retry of the same IPN is then a duplicate.
    assert.equal(crcOf((await postIpn(connection.notification_url, body)).text).errorType, 0);
    assert.equal((await api('GET', `/v1/payments/${payment.id}`)).body.notifications[1].status, 'duplicate');
  });
});

describe('bad input gets the protocol reply (error_type 2), never a 500, and records nothing as paid', () => {
  const cases: Array<[string, () => Promise<{ body: string; contentType?: string }>]> = [
    ['an empty body', async () => ({ body: '' })],
    ['a malformed form', async () => ({ body: '%%%&&&==' })],
    ['bad base64', async () => ({ body: 'env_key=***&data=!!!&cipher=rc4' })],
    ['an unknown cipher', async () => ({ body: new URLSearchParams({ env_key: 'AAAA', data: 'AAAA', cipher: 'des' }).toString() })],
    ['a JSON body', async () => ({ body: '{"env_key":1}', contentType: 'application/json' })],
  ];
  for (const [name, make] of cases) {
    it(name, async () => {
      const { body, contentType } = await make();
      const r = await postIpn(connection.notification_url, body, contentType);
      assert.equal(r.status, 200);
      assert.equal(crcOf(r.text).errorType, 2);
    });
  }

  it('a tampered ciphertext, an IPN sealed for another key, XML with DOCTYPE, an unknown order, an amount mismatch', async () => {
    const { payment, orderXml } = await newPayment();
    const good = new URLSearchParams(ipnBody(orderXml, { action: 'confirmed' }));
    const tampered = new URLSearchParams(good);
    const data = Buffer.from(tampered.get('data')!, 'base64');
    data[data.length - 20] ^= 0xff;
    tampered.set('data', data.toString('base64'));
    const doctype = ipnBody(
      orderXml.replace('<?xml version="1.0" encoding="utf-8"?>\n', '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE order [<!ENTITY x "y">]>\n'),
      { action: 'confirmed' },
    );
    const unknown = ipnBody(orderXml.replace(/id="att_[0-9a-z]+"/, 'id="att_00000000000000000000000000"'), { action: 'confirmed' });
    const mismatch = ipnBody(orderXml.replace('amount="10.00"', 'amount="0.01"'), { action: 'confirmed', original_amount: '0.01', processed_amount: '0.01' });
    for (const body of [tampered.toString(), doctype, unknown, mismatch]) {
      const r = await postIpn(connection.notification_url, body);
      assert.equal(r.status, 200);
      assert.equal(crcOf(r.text).errorType, 2, r.text);
    }
    const p = (await api('GET', `/v1/payments/${payment.id}`)).body;
    assert.equal(p.status, 'pending');
    assert.ok(p.notifications.every((n: { status: string }) => n.status === 'rejected'));
    assert.ok(p.notifications.some((n: { error: string }) => /amount mismatch/.test(n.error)));
  });

  it('a huge body and an unknown connection', async () => {
    const paidBefore = (await hub.store.db.selectFrom('payments').select('id').where('status', '=', 'paid').execute()).length;
    const huge = await postIpn(connection.notification_url, 'env_key=' + 'A'.repeat(400 * 1024));
    assert.equal(huge.status, 200);
    assert.equal(crcOf(huge.text).errorType, 2);
    const unknown = await postIpn(`${hub.url}/notify/netopia-v1/con_nope`, 'env_key=AAAA&data=AAAA');
    assert.equal(crcOf(unknown.text).errorType, 2);
    const paidAfter = (await hub.store.db.selectFrom('payments').select('id').where('status', '=', 'paid').execute()).length;
    assert.equal(paidAfter, paidBefore);
  });

  it('every notification, even rejected, is kept with its raw bytes', async () => {
    const rows = await hub.store.db.selectFrom('notifications').select(['status', 'body']).execute();
    assert.ok(rows.length > 10);
    assert.ok(rows.every((r) => r.body instanceof Uint8Array));
  });
});
