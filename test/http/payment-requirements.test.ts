import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { apiClient, startTestHub, type TestHub } from '../support/hub.js';
import { CONNECTORS } from '../../src/connectors/registry.js';

/**
 * What each connector declares it requires of a payment (capabilities: the largest amount, the payer fields its
 * processor refuses a payment without) is checked when the payment is asked for, on every surface that creates
 * one, so a payment its processor could never open is refused with a field error instead of being accepted
 * (201) and failing each time the payer opens it. Payments made before the check get a clear page.
 */

let hub: TestHub;
let api: ReturnType<typeof apiClient>;

const CURRENCY: Record<string, string> = { 'netopia-v1': 'RON', 'netopia-v2': 'RON', multisafepay: 'EUR', nexi: 'EUR', volt: 'EUR' };
const BILLING = { first_name: 'Ana', last_name: 'Pop', email: 'ana@example.ro', city: 'Iași' };
const order = () => `REQ-${randomBytes(5).toString('hex')}`;
const payment = (over: Record<string, unknown> = {}) => ({
  connection: 'netopia-v2',
  order_id: order(),
  amount: 15000,
  currency: 'RON',
  description: 'Ceai',
  billing: BILLING,
  ...over,
});
const fieldsOf = (body: { errors?: Array<{ field: string }> }) => (body.errors ?? []).map((e) => e.field).sort();

before(async () => {
  hub = await startTestHub({ emulators: true });
  const merchant = await apiClient(hub.url, hub.adminKey)('POST', '/v1/merchants', { name: 'Requirements SRL' });
  api = apiClient(hub.url, merchant.body.api_key);
  for (const provider of Object.keys(CONNECTORS)) {
    const c = await api('POST', '/v1/connections', { code: provider, provider, environment: 'emulator' });
    assert.equal(c.status, 201, JSON.stringify(c.body));
  }
});
after(() => hub?.close());

describe('POST /v1/payments refuses what the connector can never open', () => {
  it('a netopia-v2 payment without billing.city (or with a blank one) is a 422 naming billing.city, and nothing is created', async () => {
    const { city: _city, ...noCity } = BILLING;
    for (const billing of [noCity, { ...BILLING, city: '   ' }]) {
      const id = order();
      const r = await api('POST', '/v1/payments', payment({ order_id: id, billing }));
      assert.equal(r.status, 422, JSON.stringify(r.body));
      assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/);
      assert.deepEqual(fieldsOf(r.body), ['billing.city']);
      assert.match(r.body.errors[0].message, /required by netopia-v2/);
      assert.equal((await api('GET', `/v1/payments?order_id=${id}`)).body.data.length, 0);
    }
  });

  it('a netopia-v2 payment of 9007199254740991 is a 422 naming amount', async () => {
    const r = await api('POST', '/v1/payments', payment({ amount: 9007199254740991 }));
    assert.equal(r.status, 422, JSON.stringify(r.body));
    assert.deepEqual(fieldsOf(r.body), ['amount']);
    assert.match(r.body.errors[0].message, /at most 9999999999 minor units for netopia-v2/);
  });

  it('both problems at once are both named', async () => {
    const r = await api(
      'POST',
      '/v1/payments',
      payment({ amount: 9007199254740991, billing: { first_name: 'Ana', last_name: 'Pop', email: 'ana@example.ro' } }),
    );
    assert.deepEqual(fieldsOf(r.body), ['amount', 'billing.city']);
  });

  for (const [provider, connector] of Object.entries(CONNECTORS)) {
    it(`${provider}: its declared maximum (${connector.capabilities.maxAmountMinor}) is created and opened by its processor; one more is refused`, async () => {
      const max = connector.capabilities.maxAmountMinor;
      assert.ok(Number.isSafeInteger(max) && max > 0);
      const over = await api('POST', '/v1/payments', payment({ connection: provider, currency: CURRENCY[provider], amount: max + 1 }));
      assert.equal(over.status, 422, JSON.stringify(over.body));
      assert.deepEqual(fieldsOf(over.body), ['amount']);
      const ok = await api('POST', '/v1/payments', payment({ connection: provider, currency: CURRENCY[provider], amount: max }));
      assert.equal(ok.status, 201, JSON.stringify(ok.body));
      const page = await fetch(`${hub.url}/pay/${ok.body.id}`, { redirect: 'manual' });
      const text = await page.text();
      // A hand-off: a redirect to the processor's page, or the form that posts to it (NETOPIA v1).
      assert.ok(page.status === 303 || (page.status === 200 && /Redirecting to payment/.test(text)), `${page.status} ${text.slice(0, 300)}`);
      const attempts = (await api('GET', `/v1/payments/${ok.body.id}`)).body.attempts as Array<{ status: string; error_message: string | null }>;
      assert.equal(attempts.length, 1);
      assert.notEqual(attempts[0]!.status, 'failed', attempts[0]!.error_message ?? '');
    });
  }
});

describe('a payment made before the check', () => {
  /** A payment as the hub accepted it before creation checked the connector's requirements. */
  async function legacyPayment(change: { amount?: number; billing?: Record<string, unknown> }): Promise<string> {
    const r = await api('POST', '/v1/payments', payment());
    assert.equal(r.status, 201, JSON.stringify(r.body));
    if (change.amount !== undefined) {
      await sql`UPDATE payments SET amount = ${change.amount} WHERE id = ${r.body.id}`.execute(hub.store.db);
      await sql`UPDATE payment_attempts SET amount = ${change.amount} WHERE payment_id = ${r.body.id}`.execute(hub.store.db);
    }
    if (change.billing) await sql`UPDATE payments SET billing = ${JSON.stringify(change.billing)} WHERE id = ${r.body.id}`.execute(hub.store.db);
    return r.body.id;
  }

  it('of 9007199254740991 gets a clear page on every visit, never a 500, and no failed attempts pile up', async () => {
    const id = await legacyPayment({ amount: 9007199254740991 });
    for (let visit = 0; visit < 2; visit++) {
      const page = await fetch(`${hub.url}/pay/${id}`, { redirect: 'manual' });
      assert.equal(page.status, 200);
      const text = await page.text();
      assert.match(
        text,
        /This payment cannot be made: the amount is above the most the processor \(netopia-v2\) accepts, 99999999\.99 RON\. Please contact the merchant\./,
      );
    }
    const p = (await api('GET', `/v1/payments/${id}`)).body;
    assert.equal(p.status, 'pending');
    assert.deepEqual(
      p.attempts.map((a: { status: string }) => a.status),
      ['created'],
    );
  });

  it('without a city gets a page that says so, and no attempt is sent to NETOPIA', async () => {
    const id = await legacyPayment({ billing: { first_name: 'Ana', last_name: 'Pop', email: 'ana@example.ro' } });
    const page = await fetch(`${hub.url}/pay/${id}`, { redirect: 'manual' });
    assert.equal(page.status, 200);
    assert.match(await page.text(), /needs the payer(&#39;|')s city \(billing details\)/);
    const p = (await api('GET', `/v1/payments/${id}`)).body;
    assert.deepEqual(
      p.attempts.map((a: { status: string; processor_reference: string | null }) => [a.status, a.processor_reference]),
      [['created', null]],
    );
  });
});

describe('the payment step refuses in its own words', () => {
  const fields = {
    Amount: '125.50',
    Currency: 'RON',
    Email: 'ana.pop@example.ro',
    Phone: '0712345678',
    FirstName: 'Ana',
    LastName: 'Pop',
    City: 'Cluj-Napoca',
    Country: '642',
    State: 'Cluj',
    ZipCode: '400001',
    Details: 'Str. Memorandumului 28',
  };
  const step = (Payment: Record<string, unknown>, language = 'en') =>
    api('POST', '/v1/payment-steps', { connection: 'netopia-v2', conversation_id: `conv-${randomBytes(6).toString('hex')}`, language, Payment });

  it("an amount above NETOPIA v2's maximum is a Payment.Amount error, in the conversation's language", async () => {
    const en = await step({ ...fields, Amount: '100000000' });
    assert.equal(en.status, 422, JSON.stringify(en.body));
    assert.deepEqual(en.body.errors, [{ field: 'Payment.Amount', message: 'Please check the amount: at most 99999999.99 RON.' }]);
    const ro = await step({ ...fields, Amount: '100000000' }, 'ro');
    assert.deepEqual(ro.body.errors, [{ field: 'Payment.Amount', message: 'Vă rugăm să verificați suma: cel mult 99999999.99 RON.' }]);
    const ok = await step({ ...fields, Amount: '99999999.99' });
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
  });

  it('a missing city is still one Payment.City error, not two', async () => {
    const { City: _city, ...noCity } = fields;
    const r = await step(noCity);
    assert.deepEqual(r.body.errors, [{ field: 'Payment.City', message: 'Please tell us your city.' }]);
  });
});
