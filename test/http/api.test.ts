import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { apiClient, startTestHub, type TestHub } from '../support/hub.js';
import { openRequest, sandboxCredentials } from '../support/netopia-v1.js';
import { createPaymentOnce, preparePayment, writePayment } from '../../src/services/ledger/index.js';
import { ValidationError } from '../../src/core/validation.js';
import { hashRequest } from '../../src/services/idempotency.js';

let hub: TestHub;
let admin: ReturnType<typeof apiClient>;
let alice: ReturnType<typeof apiClient>;
let bob: ReturnType<typeof apiClient>;
let aliceKey: string;

const billing = { first_name: 'Ana', last_name: 'Pop', email: 'ana@example.ro' };
/** The same JSON value with every object's keys in reverse order. */
function reverseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reverseKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .reverse()
      .map(([k, v]) => [k, reverseKeys(v)]),
  );
}
const paymentBody = (over: Record<string, unknown> = {}) => ({
  connection: 'netopia',
  order_id: 'A-1',
  amount: 2599,
  currency: 'RON',
  description: 'Abonament',
  billing,
  ...over,
});

before(async () => {
  hub = await startTestHub({ emulators: false, metricsListener: true });
  admin = apiClient(hub.url, hub.adminKey);
  const a = await admin('POST', '/v1/merchants', { name: 'Alice SRL' });
  const b = await admin('POST', '/v1/merchants', { name: 'Bob SRL' });
  aliceKey = a.body.api_key;
  alice = apiClient(hub.url, aliceKey);
  bob = apiClient(hub.url, b.body.api_key);
  for (const m of [alice, bob]) {
    const c = await m('POST', '/v1/connections', { code: 'netopia', provider: 'netopia-v1', environment: 'sandbox', credentials: sandboxCredentials() });
    assert.equal(c.status, 201);
  }
});
after(() => hub?.close());

describe('merchants and keys', () => {
  it('the operator creates merchants; the API key is shown once and stored only as a hash', async () => {
    const r = await admin('POST', '/v1/merchants', { name: 'Carol' });
    assert.equal(r.status, 201);
    assert.match(r.body.api_key, /^sk_/);
    const row = await hub.store.db.selectFrom('merchant_api_keys').selectAll().where('merchant_id', '=', r.body.id).executeTakeFirstOrThrow();
    assert.notEqual(row.key_hash, r.body.api_key);
    assert.ok(!JSON.stringify(row).includes(r.body.api_key));
    const list = await admin('GET', '/v1/merchants');
    assert.ok(list.body.data.every((m: Record<string, unknown>) => !('api_key' in m)));
  });
  it('no key → 401, a merchant key on operator endpoints → 403, a wrong key → 401', async () => {
    assert.equal((await apiClient(hub.url)('POST', '/v1/merchants', { name: 'x' })).status, 401);
    assert.equal((await alice('POST', '/v1/merchants', { name: 'x' })).status, 403);
    assert.equal((await apiClient(hub.url, 'sk_wrong')('GET', '/v1/payments')).status, 401);
    const r = await apiClient(hub.url)('GET', '/v1/payments');
    assert.equal(r.status, 401);
    assert.match(r.headers.get('content-type') ?? '', /application\/problem\+json/);
  });
  it('rotating a key stops the old one at once', async () => {
    const m = await admin('POST', '/v1/merchants', { name: 'Rotor' });
    const rotated = await admin('POST', `/v1/merchants/${m.body.id}/rotate-key`);
    assert.equal((await apiClient(hub.url, m.body.api_key)('GET', '/v1/merchant')).status, 401);
    assert.equal((await apiClient(hub.url, rotated.body.api_key)('GET', '/v1/merchant')).body.id, m.body.id);
  });
});

describe('connections keep credentials secret', () => {
  it('never returns credentials, only a fingerprint and the POS signature', async () => {
    const r = await alice('GET', '/v1/connections/netopia');
    assert.equal(r.status, 200);
    assert.match(r.body.credentials.fingerprint, /^sha256:[0-9a-f]{16}$/);
    assert.equal(r.body.credentials.signature, sandboxCredentials().signature);
    assert.ok(!JSON.stringify(r.body).includes('PRIVATE KEY'));
    const row = await hub.store.db.selectFrom('connections').selectAll().where('id', '=', r.body.id).executeTakeFirstOrThrow();
    assert.ok(!row.credentials_encrypted.includes('PRIVATE'), 'encrypted at rest');
  });
  it('validates credentials and settings field by field', async () => {
    const r = await alice('POST', '/v1/connections', {
      code: 'bad',
      provider: 'netopia-v1',
      environment: 'sandbox',
      credentials: { signature: 'nope', certificate: 'x' },
      settings: {},
    });
    assert.equal(r.status, 422);
    assert.deepEqual(r.body.errors.map((e: { field: string }) => e.field).sort(), [
      'credentials.certificate',
      'credentials.private_key',
      'credentials.signature',
    ]);
    const s = await alice('POST', '/v1/connections', {
      code: 'bad2',
      provider: 'netopia-v1',
      environment: 'sandbox',
      credentials: sandboxCredentials(),
      settings: { cipher: 'des', language: 'xx' },
    });
    assert.deepEqual(s.body.errors.map((e: { field: string }) => e.field).sort(), ['settings.cipher', 'settings.language']);
    const p = await alice('POST', '/v1/connections', { code: 'bad3', provider: 'stripe', environment: 'sandbox' });
    assert.equal(p.body.errors[0].field, 'provider');
  });
  it('a duplicate code is a conflict; disabling stops new payments', async () => {
    assert.equal(
      (await alice('POST', '/v1/connections', { code: 'netopia', provider: 'netopia-v1', environment: 'sandbox', credentials: sandboxCredentials() })).status,
      409,
    );
    await alice('POST', '/v1/connections', { code: 'temp', provider: 'netopia-v1', environment: 'sandbox', credentials: sandboxCredentials() });
    assert.equal((await alice('POST', '/v1/connections/temp/disable')).body.status, 'disabled');
    const r = await alice('POST', '/v1/payments', paymentBody({ connection: 'temp' }));
    assert.equal(r.status, 422);
    assert.equal(r.body.errors[0].field, 'connection');
  });
});

describe('creating payments: RFC 9457 problems with one entry per field', () => {
  it('lists every invalid field at once', async () => {
    const r = await alice('POST', '/v1/payments', {
      connection: 'netopia',
      order_id: '',
      amount: 10.5,
      currency: 'lei',
      billing: { first_name: 'A', email: 'not-an-email' },
      colour: 'red',
    });
    assert.equal(r.status, 422);
    assert.match(r.headers.get('content-type') ?? '', /application\/problem\+json/);
    const fields = r.body.errors.map((e: { field: string }) => e.field).sort();
    for (const f of ['amount', 'billing.email', 'billing.last_name', 'colour', 'currency', 'description', 'order_id'])
      assert.ok(fields.includes(f), `${f} in ${fields}`);
  });
  it('refuses a currency the processor does not take, an amount above its limit, and a past expiry', async () => {
    const r = await alice('POST', '/v1/payments', paymentBody({ currency: 'JPY', amount: 10_000_000, expires_at: '2020-01-01T00:00:00Z' }));
    assert.equal(r.status, 422);
    assert.deepEqual(r.body.errors.map((e: { field: string }) => e.field).sort(), ['amount', 'currency', 'expires_at']);
  });
  it('malformed JSON and a wrong content type are problems too, not 500s', async () => {
    const bad = await alice('POST', '/v1/payments', '{"amount":', { 'content-type': 'application/json' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.status, 400);
    const form = await alice('POST', '/v1/payments', 'a=b', { 'content-type': 'application/x-www-form-urlencoded' });
    assert.equal(form.status, 415);
    const big = await alice('POST', '/v1/payments', JSON.stringify({ ...paymentBody(), description: 'x'.repeat(2_000_000) }), {
      'content-type': 'application/json',
    });
    assert.equal(big.status, 413);
  });
  it('creates a payment with a payment_url and its first attempt', async () => {
    const r = await alice('POST', '/v1/payments', paymentBody({ metadata: { invoice: 'F-2026-001' }, return_url: 'https://shop.example/thanks' }));
    assert.equal(r.status, 201);
    assert.equal(r.body.status, 'pending');
    assert.equal(r.body.amount, 2599);
    assert.equal(r.body.payment_url, `${hub.url}/pay/${r.body.id}`);
    assert.equal(r.body.attempts.length, 1);
    assert.equal(r.body.attempts[0].status, 'created');
    assert.deepEqual(r.body.metadata, { invoice: 'F-2026-001' });
  });
});

describe('Idempotency-Key (Stripe semantics)', () => {
  it('same key and body → the stored response; other body → 422', async () => {
    const first = await alice('POST', '/v1/payments', paymentBody({ order_id: 'IDEM-1' }), { 'idempotency-key': 'key-1' });
    const second = await alice('POST', '/v1/payments', paymentBody({ order_id: 'IDEM-1' }), { 'idempotency-key': 'key-1' });
    assert.equal(second.status, 201);
    assert.equal(second.body.id, first.body.id);
    assert.equal(second.headers.get('idempotent-replayed'), 'true');
    const other = await alice('POST', '/v1/payments', paymentBody({ order_id: 'IDEM-2' }), { 'idempotency-key': 'key-1' });
    assert.equal(other.status, 422);
    // keys are per merchant
    const bobs = await bob('POST', '/v1/payments', paymentBody({ order_id: 'IDEM-1' }), { 'idempotency-key': 'key-1' });
    assert.notEqual(bobs.body.id, first.body.id);
  });
  it('the same request with its keys in another order, at any depth, is replayed; a really different one is still refused', async () => {
    const body = paymentBody({ order_id: 'IDEM-ORDER', billing: { ...billing, city: 'Iași', country: 'RO' }, metadata: { cart: 'c-1', step: 2 } });
    const first = await alice('POST', '/v1/payments', JSON.stringify(body), { 'idempotency-key': 'key-order' });
    assert.equal(first.status, 201, JSON.stringify(first.body));
    const reordered = JSON.stringify(reverseKeys(body));
    assert.notEqual(reordered, JSON.stringify(body));
    const again = await alice('POST', '/v1/payments', reordered, { 'idempotency-key': 'key-order' });
    assert.deepEqual([again.status, again.body.id, again.headers.get('idempotent-replayed')], [201, first.body.id, 'true']);
    const different = await alice('POST', '/v1/payments', JSON.stringify(reverseKeys({ ...body, billing: { ...body.billing, city: 'Cluj' } })), {
      'idempotency-key': 'key-order',
    });
    assert.equal(different.status, 422);
    assert.match(different.body.detail, /already used with a different request/);
    assert.equal((await alice('GET', '/v1/payments?order_id=IDEM-ORDER')).body.data.length, 1);
  });
  it('a key stored before the canonical hash (over the body as it came) still replays the same request', async () => {
    const body = paymentBody({ order_id: 'IDEM-LEGACY' });
    const { legacyHash, hash } = hashRequest('POST', '/v1/payments', body);
    assert.notEqual(legacyHash, hash);
    const first = await alice('POST', '/v1/payments', body, { 'idempotency-key': 'key-legacy' });
    assert.equal(first.status, 201);
    // The row as an earlier version stored it.
    await hub.store.db
      .updateTable('idempotency_keys')
      .set({ request_hash: legacyHash })
      .where('key', '=', 'key-legacy')
      .where('request_hash', '=', hash)
      .execute();
    const replay = await alice('POST', '/v1/payments', body, { 'idempotency-key': 'key-legacy' });
    assert.deepEqual([replay.status, replay.body.id, replay.headers.get('idempotent-replayed')], [201, first.body.id, 'true']);
    assert.equal((await alice('POST', '/v1/payments', paymentBody({ order_id: 'IDEM-LEGACY-2' }), { 'idempotency-key': 'key-legacy' })).status, 422);
  });
  it('concurrent requests with one key have one effect', async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, () => alice('POST', '/v1/payments', paymentBody({ order_id: 'RACE' }), { 'idempotency-key': 'race-key' })),
    );
    const ids = new Set(results.filter((r) => r.status === 201).map((r) => r.body.id));
    assert.equal(ids.size, 1, JSON.stringify(results.map((r) => r.status)));
    const rows = await hub.store.db.selectFrom('payments').select('id').where('order_id', '=', 'RACE').execute();
    assert.equal(rows.length, 1);
  });
  it('a connection disabled between the read and the write: no payment, no event, the key stays free', async () => {
    await alice('POST', '/v1/connections', { code: 'late', provider: 'netopia-v1', environment: 'sandbox', credentials: sandboxCredentials() });
    const { merchant_id: merchantId } = await hub.store.db.selectFrom('connections').select('merchant_id').where('code', '=', 'late').executeTakeFirstOrThrow();
    const prepared = await preparePayment(hub.ctx, hub.store.db, merchantId, paymentBody({ connection: 'late', order_id: 'LATE' }));
    assert.equal((await alice('POST', '/v1/connections/late/disable')).body.status, 'disabled');
    await assert.rejects(
      writePayment(hub.ctx, hub.store.db, prepared, { key: 'late-key', hash: 'h' }),
      (e: Error) => e instanceof ValidationError && /connection: is disabled/.test(e.message),
    );
    assert.equal((await hub.store.db.selectFrom('payments').select('id').where('order_id', '=', 'LATE').execute()).length, 0);
    assert.equal((await hub.store.db.selectFrom('events').select('id').where('payment_id', '=', prepared.payment.id).execute()).length, 0);
    assert.equal((await hub.store.db.selectFrom('idempotency_keys').select('key').where('key', '=', 'late-key').execute()).length, 0);
    // Enabled again (a newer version of the row than the one the payment was built from): the same request and
    // key go through once, with one event; then the key replays.
    assert.equal((await alice('PATCH', '/v1/connections/late', { status: 'active' })).body.status, 'active');
    await assert.rejects(writePayment(hub.ctx, hub.store.db, prepared, { key: 'late-key', hash: 'h' }), /connection: is disabled/);
    const body = paymentBody({ connection: 'late', order_id: 'LATE' });
    const created = await createPaymentOnce(hub.ctx, merchantId, body, { key: 'late-key', hash: 'h' });
    assert.deepEqual([created.status, created.replayed], [201, false]);
    assert.equal((await createPaymentOnce(hub.ctx, merchantId, body, { key: 'late-key', hash: 'h' })).replayed, true);
    const id = (created.body as { id: string }).id;
    assert.equal((await hub.store.db.selectFrom('events').select('type').where('payment_id', '=', id).execute()).map((e) => e.type).join(), 'payment.created');
    assert.equal((await hub.store.db.selectFrom('payments').select('id').where('order_id', '=', 'LATE').execute()).length, 1);
  });
  it('a connection remembered from an earlier payment is re-read once it changes', async () => {
    await alice('POST', '/v1/connections', { code: 'often', provider: 'netopia-v1', environment: 'sandbox', credentials: sandboxCredentials() });
    assert.equal((await alice('POST', '/v1/payments', paymentBody({ connection: 'often' }))).status, 201);
    assert.equal((await alice('POST', '/v1/connections/often/disable')).status, 200);
    const refused = await alice('POST', '/v1/payments', paymentBody({ connection: 'often' }), { 'idempotency-key': 'often-key' });
    assert.equal(refused.status, 422);
    assert.deepEqual(refused.body.errors, [{ field: 'connection', message: 'is disabled' }]);
    await alice('PATCH', '/v1/connections/often', { status: 'active' });
    assert.equal((await alice('POST', '/v1/payments', paymentBody({ connection: 'often' }), { 'idempotency-key': 'often-key' })).status, 201);
    // Re-keyed while remembered: the next payment is sealed with the new POS signature.
    assert.equal(
      (await alice('PATCH', '/v1/connections/often', { credentials: { ...sandboxCredentials(), signature: 'TEST-WXYZ-9876-EFGH-5678' } })).status,
      200,
    );
    const rekeyed = await alice('POST', '/v1/payments', paymentBody({ connection: 'often' }));
    const attempt = await hub.store.db.selectFrom('payment_attempts').select('redirect').where('payment_id', '=', rekeyed.body.id).executeTakeFirstOrThrow();
    assert.match(openRequest((attempt.redirect as unknown as { fields: Record<string, string> }).fields), /<signature>TEST-WXYZ-9876-EFGH-5678<\/signature>/);
    // Every change moves the version forward, even when the clock has not (two changes in one millisecond):
    // a row whose version is ahead of the clock gets one millisecond more.
    await hub.store.db
      .updateTable('connections')
      .set({ updated_at: new Date('2999-01-01T00:00:00.000Z') })
      .where('code', '=', 'often')
      .execute();
    await alice('PATCH', '/v1/connections/often', { settings: {} });
    assert.equal((await alice('GET', '/v1/connections/often')).body.updated_at, '2999-01-01T00:00:00.001Z');
  });
  it('a setting sent as null is cleared (an optional one unset, one with a default back to it); the credentials stay', async () => {
    const made = await alice('POST', '/v1/connections', {
      code: 'clearable',
      provider: 'netopia-v1',
      environment: 'sandbox',
      credentials: sandboxCredentials(),
      settings: { endpoint: 'https://secure.mobilpay.ro/', language: 'en' },
    });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    assert.equal(made.body.settings.endpoint, 'https://secure.mobilpay.ro');
    const sealedTo = async () => {
      const p = await alice('POST', '/v1/payments', paymentBody({ connection: 'clearable' }));
      assert.equal(p.status, 201, JSON.stringify(p.body));
      const attempt = await hub.store.db.selectFrom('payment_attempts').select('redirect').where('payment_id', '=', p.body.id).executeTakeFirstOrThrow();
      return (attempt.redirect as unknown as { url: string }).url;
    };
    assert.match(await sealedTo(), /^https:\/\/secure\.mobilpay\.ro/);
    const cleared = await alice('PATCH', '/v1/connections/clearable', { settings: { endpoint: null } });
    assert.equal(cleared.status, 200, JSON.stringify(cleared.body));
    assert.equal('endpoint' in cleared.body.settings, false, 'the endpoint is unset');
    assert.equal(cleared.body.settings.language, 'en', 'a setting left out keeps its value');
    assert.equal(cleared.body.credentials.fingerprint, made.body.credentials.fingerprint, 'the credentials are kept');
    assert.equal((await alice('GET', '/v1/connections/clearable')).body.settings.endpoint, undefined);
    assert.match(await sealedTo(), /^https:\/\/sandboxsecure\.mobilpay\.ro/, "the environment's URL again");
    const language = await alice('PATCH', '/v1/connections/clearable', { settings: { language: null } });
    assert.equal(language.body.settings.language, 'ro', 'the default again');
    // Clearing what is not set changes nothing else; a required credential sent as null is refused, nothing cleared.
    assert.equal((await alice('PATCH', '/v1/connections/clearable', { settings: { endpoint: null } })).status, 200);
    const noKey = await alice('PATCH', '/v1/connections/clearable', { credentials: { ...sandboxCredentials(), private_key: null } });
    assert.equal(noKey.status, 422, JSON.stringify(noKey.body));
    assert.equal((await alice('GET', '/v1/connections/clearable')).body.credentials.fingerprint, made.body.credentials.fingerprint);
  });
  it('a failed validation is not stored: a corrected retry with the same key succeeds', async () => {
    assert.equal((await alice('POST', '/v1/payments', paymentBody({ currency: 'XXX' }), { 'idempotency-key': 'fix-me' })).status, 422);
    assert.equal((await alice('POST', '/v1/payments', paymentBody(), { 'idempotency-key': 'fix-me' })).status, 201);
  });
});

describe("a merchant can never see or touch another merchant's data", () => {
  it('payments, connections and webhook endpoints are invisible across merchants', async () => {
    const p = await alice('POST', '/v1/payments', paymentBody({ order_id: 'PRIVATE' }));
    assert.equal((await bob('GET', `/v1/payments/${p.body.id}`)).status, 404);
    assert.ok(!(await bob('GET', '/v1/payments?order_id=PRIVATE')).body.data.length);
    const ac = await alice('GET', '/v1/connections/netopia');
    assert.equal((await bob('GET', `/v1/connections/${ac.body.id}`)).status, 404);
    assert.equal((await bob('POST', '/v1/payments', paymentBody({ connection: ac.body.id }))).status, 422);
    const we = await alice('POST', '/v1/webhook-endpoints', { url: 'https://alice.example/hooks' });
    assert.equal((await bob('GET', `/v1/webhook-endpoints/${we.body.id}`)).status, 404);
    assert.equal((await bob('PATCH', `/v1/webhook-endpoints/${we.body.id}`, { status: 'disabled' })).status, 404);
  });
  it('the operator acts for one merchant only when naming it', async () => {
    assert.equal((await admin('GET', '/v1/payments')).status, 403);
    const me = await alice('GET', '/v1/merchant');
    const r = await admin('GET', '/v1/payments', undefined, { 'incasso-merchant': me.body.id });
    assert.equal(r.status, 200);
    assert.ok(r.body.data.length > 0);
  });
});

describe('listing payments: filters and cursor pagination', () => {
  it('pages through newest first without gaps or repeats', async () => {
    for (let i = 0; i < 7; i++) await bob('POST', '/v1/payments', paymentBody({ order_id: `PAGE-${i}` }));
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const r: { body: { data: Array<{ id: string; order_id: string }>; next_cursor: string | null } } = await bob(
        'GET',
        `/v1/payments?limit=3${cursor ? `&starting_after=${cursor}` : ''}`,
      );
      seen.push(...r.body.data.filter((p) => p.order_id.startsWith('PAGE-')).map((p) => p.order_id));
      cursor = r.body.next_cursor;
    } while (cursor);
    assert.deepEqual(seen, ['PAGE-6', 'PAGE-5', 'PAGE-4', 'PAGE-3', 'PAGE-2', 'PAGE-1', 'PAGE-0']);
    const filtered = await bob('GET', '/v1/payments?order_id=PAGE-3&status=pending');
    assert.equal(filtered.body.data.length, 1);
    assert.equal((await bob('GET', '/v1/payments?limit=0')).status, 422);
    assert.equal((await bob('GET', '/v1/payments?status=bogus')).status, 422);
  });
});

describe('operations endpoints', () => {
  it('serves OpenAPI 3.1 generated from the validating schemas, readable docs, health, readiness and metrics', async () => {
    const spec = await apiClient(hub.url)('GET', '/openapi.json');
    assert.equal(spec.body.openapi, '3.1.0');
    const create = spec.body.paths['/v1/payments'].post;
    assert.ok(create.requestBody.content['application/json'].schema.properties.amount);
    assert.equal((await fetch(`${hub.url}/docs/`)).status, 200);
    assert.deepEqual((await apiClient(hub.url)('GET', '/healthz')).body, { status: 'ok' });
    assert.deepEqual((await apiClient(hub.url)('GET', '/readyz')).body, { status: 'ready' });
    // Metrics only on their own listener (INCASSO_METRICS_PORT): the public one refuses them, with or without a key.
    assert.equal((await fetch(`${hub.url}/metrics`)).status, 404);
    assert.equal((await fetch(`${hub.url}/metrics`, { headers: { authorization: `Bearer ${hub.adminKey}` } })).status, 404);
    assert.ok(hub.metricsUrl && !hub.metricsUrl.startsWith(hub.url + '/'));
    const metrics = await (await fetch(hub.metricsUrl)).text();
    assert.match(metrics, /incasso_http_requests_total/);
    assert.match(metrics, /incasso_webhook_delivery_lag_seconds/);
    assert.match(metrics, /incasso_notifications_total/);
    const missing = await apiClient(hub.url)('GET', '/v1/nothing-here');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.title, 'Not found');
  });
});

describe('payment pages answer bad links with a page, not an error', () => {
  it('unknown or malformed payment links get a 4xx page or problem', async () => {
    for (const path of ['/pay/pay_nope', '/pay/pay_nope/return', `/pay/${'x'.repeat(500)}`, '/pay/%00%ff']) {
      const r = await fetch(hub.url + path);
      assert.ok([400, 404, 414].includes(r.status), `${path} → ${r.status}`);
      assert.match(r.headers.get('content-type') ?? '', /text\/html|problem/);
    }
  });
});
