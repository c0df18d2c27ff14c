import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { apiClient, startTestHub, type TestHub } from '../support/hub.js';
import { sandboxCredentials } from '../support/netopia-v1.js';

/**
 * The payment step of a conversational agent (seed 000): the chat collects `Payment.*` in prompt steps and
 * calls the step; "if any required information is missing or invalid, an error message is displayed until all
 * necessary details are provided". These tests drive the step's validation and its idempotency; the end-to-end
 * run with NETOPIA v2 and `Payment.Status` is in test/e2e/netopia-v2.test.ts.
 */

let hub: TestHub;
let api: ReturnType<typeof apiClient>;

/** The seed's field table, as a user would answer the prompts. */
const SEED_FIELDS = {
  Amount: '125.50',
  Currency: 'RON',
  Email: 'ana.pop@example.ro',
  Phone: '0712 345 678',
  FirstName: 'Ana',
  LastName: 'Pop',
  City: 'Cluj-Napoca',
  Country: '642',
  State: 'Cluj',
  ZipCode: '400001',
  Details: 'Str. Memorandumului 28',
};
const REQUIRED = ['Amount', 'Email', 'Phone', 'FirstName', 'LastName', 'City', 'Country', 'State', 'ZipCode', 'Details'];

const conversation = () => `conv-${randomBytes(6).toString('hex')}`;
const step = (Payment: Record<string, unknown>, over: Record<string, unknown> = {}) =>
  api('POST', '/v1/payment-steps', { connection: 'payments-app', conversation_id: conversation(), Payment, ...over });
const fieldsOf = (body: { errors?: Array<{ field: string }> }) => (body.errors ?? []).map((e) => e.field).sort();

before(async () => {
  hub = await startTestHub({ emulators: false });
  const merchant = await apiClient(hub.url, hub.adminKey)('POST', '/v1/merchants', { name: 'Chat Shop SRL' });
  api = apiClient(hub.url, merchant.body.api_key);
  const c = await api('POST', '/v1/connections', { code: 'payments-app', provider: 'netopia-v1', environment: 'sandbox', credentials: sandboxCredentials() });
  assert.equal(c.status, 201, JSON.stringify(c.body));
});
after(() => hub?.close());

describe('the seed field table round-trips into the payment', () => {
  it('billing fields land on the payment; shipping defaults to billing when not collected', async () => {
    const r = await step(SEED_FIELDS);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.match(r.body.Payment.Url, new RegExp(`^${hub.url}/pay/pay_`));
    assert.deepEqual([r.body.Payment.Amount, r.body.Payment.Currency, r.body.Payment.Status, r.body.status], ['125.50', 'RON', null, 'pending']);
    const p = (await api('GET', `/v1/payments/${r.body.payment_id}`)).body;
    assert.equal(p.amount, 12550);
    assert.equal(p.currency, 'RON');
    const payment = await hub.ctx.db.selectFrom('payments').selectAll().where('id', '=', r.body.payment_id).executeTakeFirstOrThrow();
    const expected = {
      type: 'person',
      first_name: 'Ana',
      last_name: 'Pop',
      email: 'ana.pop@example.ro',
      phone: '0712345678',
      city: 'Cluj-Napoca',
      county: 'Cluj',
      zip_code: '400001',
      address: 'Str. Memorandumului 28',
      country: 'RO',
    };
    assert.deepEqual(payment.billing, expected);
    assert.deepEqual(payment.shipping, expected);
  });

  it('collected shipping fields are used, the rest comes from billing', async () => {
    const r = await step(SEED_FIELDS, { PaymentShipping: { City: 'Chișinău', Country: 498, Details: 'Bd. Ștefan cel Mare 1', ZipCode: 'MD-2001' } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const payment = await hub.ctx.db.selectFrom('payments').selectAll().where('id', '=', r.body.payment_id).executeTakeFirstOrThrow();
    assert.deepEqual(payment.shipping, {
      type: 'person',
      first_name: 'Ana',
      last_name: 'Pop',
      email: 'ana.pop@example.ro',
      phone: '0712345678',
      city: 'Chișinău',
      county: 'Cluj',
      zip_code: 'MD-2001',
      address: 'Bd. Ștefan cel Mare 1',
      country: 'MD',
    });
  });

  it('amounts come as numbers or text, with a decimal point or comma', async () => {
    for (const [amount, minor] of [
      [125.5, 12550],
      ['99,90', 9990],
      [0.3, 30],
      ['1000', 100000],
    ] as const) {
      const r = await step({ ...SEED_FIELDS, Amount: amount });
      assert.equal(r.status, 201, `${amount}: ${JSON.stringify(r.body)}`);
      assert.equal((await api('GET', `/v1/payments/${r.body.payment_id}`)).body.amount, minor, String(amount));
    }
  });
});

describe('"an error message is displayed until all necessary details are provided"', () => {
  it('a user who gives the fields one at a time gets the right list each time, and no payment until the end', async () => {
    const id = conversation();
    const before = (await api('GET', '/v1/payments?limit=100')).body.data.length;
    const collected: Record<string, unknown> = {};
    for (const field of REQUIRED) {
      const r = await api('POST', '/v1/payment-steps', { connection: 'payments-app', conversation_id: id, Payment: collected });
      assert.equal(r.status, 422, JSON.stringify(r.body));
      assert.equal(r.body.title, 'Unele date pentru plată lipsesc sau nu sunt corecte');
      assert.deepEqual(
        fieldsOf(r.body),
        REQUIRED.filter((f) => !(f in collected))
          .map((f) => `Payment.${f}`)
          .sort(),
      );
      for (const e of r.body.errors) assert.match(e.message, /^Vă rugăm să ne spuneți .+\.$/, e.message);
      collected[field] = SEED_FIELDS[field as keyof typeof SEED_FIELDS];
    }
    assert.equal((await api('GET', '/v1/payments?limit=100')).body.data.length, before, 'a payment was created before the details were complete');
    const done = await api('POST', '/v1/payment-steps', { connection: 'payments-app', conversation_id: id, Payment: collected });
    assert.equal(done.status, 201, JSON.stringify(done.body));
    assert.equal(done.body.Payment.Currency, 'RON', "the payment app's default currency");
  });

  it('messages come in English when the conversation is in English', async () => {
    const r = await step({ ...SEED_FIELDS, Email: 'not-an-email', Phone: undefined }, { language: 'en' });
    assert.equal(r.status, 422);
    assert.equal(r.body.title, 'Some payment details are missing or invalid');
    assert.deepEqual(r.body.errors, [
      { field: 'Payment.Phone', message: 'Please tell us your phone number.' },
      { field: 'Payment.Email', message: 'Please check your email address: it should look like name@example.com.' },
    ]);
  });

  const invalid: Array<[string, Record<string, unknown>, string, RegExp]> = [
    ['an email without a domain', { Email: 'ana@' }, 'Payment.Email', /nume@exemplu\.ro/],
    ['letters in the phone number', { Phone: '07x2 345 678' }, 'Payment.Phone', /doar cifre/],
    ['a phone number too short to exist', { Phone: '12345' }, 'Payment.Phone', /doar cifre/],
    ['a zero amount', { Amount: '0' }, 'Payment.Amount', /mai mare decât zero/],
    ['a negative amount', { Amount: -5 }, 'Payment.Amount', /mai mare decât zero/],
    ['three decimals in RON', { Amount: '12.345' }, 'Payment.Amount', /cel mult 2 zecimale/],
    ['an amount that is not a number', { Amount: 'o sută' }, 'Payment.Amount', /un număr/],
    ['an unknown currency', { Currency: 'XYZ' }, 'Payment.Currency', /ISO 4217/],
    ['a currency the processor does not take', { Currency: 'JPY' }, 'Payment.Currency', /se acceptă RON/],
    ['a country code that does not exist', { Country: 999 }, 'Payment.Country', /642 pentru România/],
    ['a country given by name', { Country: 'Romania' }, 'Payment.Country', /642 pentru România/],
    ['a first name longer than NETOPIA takes', { FirstName: 'A'.repeat(51) }, 'Payment.FirstName', /cel mult 50 de caractere/],
    ['an address longer than NETOPIA takes', { Details: 'x'.repeat(201) }, 'Payment.Details', /cel mult 200/],
  ];
  for (const [what, change, field, message] of invalid) {
    it(`${what} → ${field}`, async () => {
      const r = await step({ ...SEED_FIELDS, ...change });
      assert.equal(r.status, 422, JSON.stringify(r.body));
      assert.deepEqual(fieldsOf(r.body), [field]);
      assert.match(r.body.errors[0].message, message);
    });
  }

  it('a shipping country is checked too, and named as the delivery one', async () => {
    const r = await step(SEED_FIELDS, { PaymentShipping: { Country: '1000' }, language: 'en' });
    assert.equal(r.status, 422);
    assert.deepEqual(r.body.errors, [
      {
        field: 'PaymentShipping.Country',
        message: 'Please check your country for delivery: we do not recognise it (the ISO 3166-1 numeric code, for example 642 for Romania).',
      },
    ]);
  });

  it('an unknown payment app is a field error, not a crash', async () => {
    const r = await api('POST', '/v1/payment-steps', { connection: 'nope', conversation_id: conversation(), Payment: SEED_FIELDS });
    assert.equal(r.status, 422);
    assert.deepEqual(fieldsOf(r.body), ['connection']);
  });
});

describe('idempotent per conversation step', () => {
  it('asking again returns the same link; other details are a conflict; another step id is a new payment', async () => {
    const id = conversation();
    const body = { connection: 'payments-app', conversation_id: id, Payment: SEED_FIELDS };
    const first = await api('POST', '/v1/payment-steps', body);
    assert.equal(first.status, 201);
    const again = await api('POST', '/v1/payment-steps', body);
    assert.equal(again.status, 200);
    assert.equal(again.body.Payment.Url, first.body.Payment.Url);
    const polled = await api('GET', `/v1/payment-steps/${id}`);
    assert.equal(polled.status, 200);
    assert.equal(polled.body.Payment.Url, first.body.Payment.Url);
    const changed = await api('POST', '/v1/payment-steps', { ...body, Payment: { ...SEED_FIELDS, Amount: '130' } });
    assert.equal(changed.status, 409);
    const next = await api('POST', '/v1/payment-steps', { ...body, step: 'second-order', Payment: { ...SEED_FIELDS, Amount: '130' } });
    assert.equal(next.status, 201);
    assert.notEqual(next.body.payment_id, first.body.payment_id);
    assert.equal((await api('GET', `/v1/payment-steps/${id}?step=second-order`)).body.payment_id, next.body.payment_id);
  });

  it('the same details with their keys in another order are the same step (the same link), not a conflict', async () => {
    const body = { connection: 'payments-app', conversation_id: conversation(), language: 'ro', Payment: SEED_FIELDS };
    const first = await api('POST', '/v1/payment-steps', JSON.stringify(body));
    assert.equal(first.status, 201, JSON.stringify(first.body));
    const reversed = {
      Payment: Object.fromEntries(Object.entries(SEED_FIELDS).reverse()),
      language: 'ro',
      conversation_id: body.conversation_id,
      connection: 'payments-app',
    };
    const again = await api('POST', '/v1/payment-steps', JSON.stringify(reversed));
    assert.deepEqual([again.status, again.body.payment_id], [200, first.body.payment_id]);
    const other = await api('POST', '/v1/payment-steps', JSON.stringify({ ...reversed, Payment: { ...reversed.Payment, City: 'Iași' } }));
    assert.equal(other.status, 409);
  });

  it('concurrent identical requests create one payment', async () => {
    const body = { connection: 'payments-app', conversation_id: conversation(), Payment: SEED_FIELDS };
    const answers = await Promise.all(Array.from({ length: 5 }, () => api('POST', '/v1/payment-steps', body)));
    assert.deepEqual(answers.map((a) => a.status).sort(), [200, 200, 200, 200, 201]);
    assert.equal(new Set(answers.map((a) => a.body.payment_id)).size, 1);
  });

  it('an unknown conversation is a 404 problem', async () => {
    const r = await api('GET', `/v1/payment-steps/${conversation()}`);
    assert.equal(r.status, 404);
    assert.match(r.headers.get('content-type') ?? '', /problem\+json/);
  });
});
