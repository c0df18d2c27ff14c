import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { apiClient, startTestHub, type TestHub } from '../support/hub.js';
import {
  anyString,
  contentType,
  describeFailures,
  describeLogLines,
  errorLogLines,
  extraHeaders,
  FUZZ_HTTP_RUNS,
  FUZZ_SEED,
  fuzzHttp,
  pathSegment,
  percentEncode,
  rawHttpClient,
  type RawResponse,
} from '../support/fuzz.js';
import { mutateJson, wrongJsonValue, type JsonMutation } from '../support/fuzz-notify.js';
import { problemCheck } from '../support/fuzz-api.js';

/**
 * The conversational payment step (`POST /v1/payment-steps`, `GET /v1/payment-steps/{conversation_id}`) under fire:
 * FUZZ_HTTP_RUNS generated steps — the seed's field table with fields made wrong, missing, of another type, in the other
 * party, arbitrary JSON and bytes, any Content-Type — sixteen in flight, conversations reused so that repeats and
 * conflicts happen. Every answer must be a 201/200 payment step or an RFC 9457 problem with a 4xx status, never a
 * 5xx, and the hub must not log errors because of them.
 */

let hub: TestHub;
let client: ReturnType<typeof rawHttpClient>;
let apiKey = '';

before(async () => {
  hub = await startTestHub({ emulators: true, logLevel: 'error' });
  client = rawHttpClient(hub.url, 16);
  const merchant = await apiClient(hub.url, hub.adminKey)('POST', '/v1/merchants', { name: 'Fuzz Chat SRL' });
  apiKey = merchant.body.api_key;
  const api = apiClient(hub.url, apiKey);
  for (const [code, provider] of [
    ['payments-app', 'netopia-v2'],
    ['msp', 'multisafepay'],
    ['nexi', 'nexi'],
  ] as const) {
    const c = await api('POST', '/v1/connections', { code, provider, environment: 'emulator' });
    assert.equal(c.status, 201, JSON.stringify(c.body));
  }
});

after(async () => {
  client?.close();
  await hub?.close();
});

/** The seed's field table, as a user answers the prompts. */
const fields = fc.record(
  {
    Amount: fc.oneof(
      fc.constantFrom('125.50', '99,90', '1000', '0.01', 125.5, 0.3, 1),
      fc.integer({ min: 1, max: 99_999_999 }).map((n) => (n / 100).toFixed(2)),
    ),
    Currency: fc.constantFrom('RON', 'EUR', 'EUR', 'GBP', 'ron', 'JPY'),
    Email: fc.constantFrom('ana.pop@example.ro', 'a@b.co', 'ion+chat@example.com'),
    Phone: fc.constantFrom('0712 345 678', '+40712345678', '(0712) 345-678'),
    FirstName: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }),
    LastName: fc.constantFrom('Pop', 'Ionescu', 'Ștefănescu'),
    City: fc.constantFrom('Cluj-Napoca', 'Chișinău', 'Milano'),
    Country: fc.constantFrom('642', 642, '498', '380', '826'),
    State: fc.constantFrom('Cluj', 'MI', 'Londra'),
    ZipCode: fc.constantFrom('400001', 'MD-2001', '20121'),
    Details: fc.constantFrom('Str. Memorandumului 28', 'Via Roma 1'),
  },
  { requiredKeys: ['Amount', 'Email', 'Phone', 'FirstName', 'LastName', 'City', 'Country', 'State', 'ZipCode', 'Details'] },
);

const validStep = fc.record(
  {
    connection: fc.constantFrom('payments-app', 'payments-app', 'msp', 'nexi'),
    conversation_id: fc.oneof(
      { arbitrary: fc.constantFrom('conv-1', 'conv-2', 'conv-3'), weight: 1 },
      { arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 40 }), weight: 3 },
    ),
    step: fc.constantFrom('payment', 'retry', 'p2'),
    language: fc.constantFrom('ro', 'en', '642', '498', 'xx'),
    description: fc.constantFrom('Plată comandă', 'Payment'),
    callback_url: fc.constantFrom('https://chat.example/cb', 'http://127.0.0.1:9/cb'),
    Payment: fields,
    PaymentShipping: fc.dictionary(
      fc.constantFrom('City', 'Country', 'Details', 'ZipCode', 'Email'),
      fc.constantFrom('Chișinău', '498', 'Bd. Ștefan cel Mare 1', 'MD-2001', 'x@y.md', ''),
    ),
  },
  { requiredKeys: ['connection', 'conversation_id', 'Payment'] },
);

const PATHS = [
  'connection',
  'conversation_id',
  'step',
  'language',
  'description',
  'callback_url',
  'Payment',
  'PaymentShipping',
  'Payment.Amount',
  'Payment.Currency',
  'Payment.Email',
  'Payment.Phone',
  'Payment.FirstName',
  'Payment.Country',
  'Payment.Details',
  'Payment.Extra',
  'PaymentShipping.City',
  'PaymentShipping.Country',
  'Payment.__proto__',
  'colour',
];

const wrong: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: wrongJsonValue, weight: 4 },
  {
    arbitrary: fc.constantFrom(
      '-1',
      '0',
      '0,00',
      '1.005',
      '1e3',
      '99999999999',
      '1.000.000',
      'NaN',
      'Infinity',
      1e308,
      -0,
      'x'.repeat(1001),
      'javascript:alert(1)',
      'http://',
      'ftp://x',
      `https://a.example/${'x'.repeat(3000)}`,
    ),
    weight: 2,
  },
  { arbitrary: fc.dictionary(anyString(10), fc.oneof(anyString(20), fc.integer(), fc.constant(null)), { maxKeys: 35 }), weight: 1 },
);

const edit: fc.Arbitrary<JsonMutation> = fc.oneof(
  fc.record({ path: fc.constantFrom(...PATHS), value: wrong }),
  fc.record({ path: fc.constantFrom(...PATHS), drop: fc.constant(true as const) }),
);

const stepBody: fc.Arbitrary<string | Buffer | undefined> = fc.oneof(
  { arbitrary: validStep.map((b) => JSON.stringify(b)), weight: 4 },
  {
    arbitrary: fc.tuple(validStep, fc.array(edit, { minLength: 1, maxLength: 3 })).map(([b, edits]) => {
      const doc = structuredClone(b) as Record<string, unknown>;
      for (const e of edits) mutateJson(doc, e);
      return JSON.stringify(doc);
    }),
    weight: 10,
  },
  { arbitrary: fc.anything().map((v) => JSON.stringify(v) ?? 'null'), weight: 2 },
  { arbitrary: fc.json(), weight: 1 },
  { arbitrary: anyString(200), weight: 1 },
  { arbitrary: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)), weight: 1 },
  {
    arbitrary: fc.constantFrom(
      undefined,
      '',
      'null',
      '{}',
      '{"Payment":{}}',
      '{"connection":"payments-app","conversation_id":"c","Payment":{"Amount":"1"},"Payment":null}',
      `{"Payment":${'{"a":'.repeat(2000)}1${'}'.repeat(2000)}}`,
      JSON.stringify({ connection: 'payments-app', conversation_id: 'c', Payment: { Details: 'x'.repeat(1_100_000) } }),
    ),
    weight: 1,
  },
);

interface StepCase {
  body: string | Buffer | undefined;
  contentType: string | undefined;
  headers: Record<string, string>;
}

const stepCase: fc.Arbitrary<StepCase> = fc.record({
  body: stepBody,
  contentType: contentType(['application/json', 'application/json; charset=utf-8']),
  headers: extraHeaders(3),
});

function stepCheck(r: RawResponse): string | undefined {
  if (r.status === 201 || r.status === 200) {
    const s = JSON.parse(r.text) as { object?: string; payment_id?: string; Payment?: { Url?: string; Amount?: string; Status?: unknown } };
    if (
      s.object !== 'payment_step' ||
      !/^pay_/.test(s.payment_id ?? '') ||
      !s.Payment?.Url?.startsWith(`${hub.url}/pay/`) ||
      !/^\d+(\.\d+)?$/.test(s.Payment.Amount ?? '')
    )
      return `${r.status} with an unexpected body`;
    return undefined;
  }
  if (r.status < 400) return `unexpected HTTP ${r.status}`;
  return problemCheck(r);
}

describe('POST /v1/payment-steps: a 201/200 payment step or a 4xx problem document, whatever is sent', () => {
  it(`${FUZZ_HTTP_RUNS} generated steps (the seed's fields made wrong, arbitrary JSON and bytes, content types, repeated conversations)`, async (t) => {
    const logsFrom = hub.logs.length;
    const result = await fuzzHttp({
      arbitrary: stepCase,
      send: (c) =>
        client.request({
          method: 'POST',
          path: '/v1/payment-steps',
          headers: { ...c.headers, authorization: `Bearer ${apiKey}`, ...(c.contentType !== undefined ? { 'content-type': c.contentType } : {}) },
          body: c.body,
        }),
      check: (_c, r) => stepCheck(r),
    });
    t.diagnostic(`${result.cases} cases, INCASSO_FUZZ_SEED=${FUZZ_SEED}, answers by HTTP status ${JSON.stringify(result.statuses)}`);
    const errors = errorLogLines(hub, logsFrom);
    assert.ok((result.statuses['201'] ?? 0) > FUZZ_HTTP_RUNS / 100, `too few steps created a payment: ${JSON.stringify(result.statuses)}`);
    assert.ok((result.statuses['422'] ?? 0) > FUZZ_HTTP_RUNS / 10, `too few field refusals: ${JSON.stringify(result.statuses)}`);
    assert.equal(result.failures.length, 0, `${describeFailures('POST /v1/payment-steps', result)}\nerror log lines:\n${describeLogLines(errors)}`);
    assert.equal(errors.length, 0, `the fuzz made the hub log ${errors.length} error lines:\n${describeLogLines(errors)}`);
  });
});

describe('GET /v1/payment-steps/{conversation_id}: 200 or a 4xx problem for any id and step', () => {
  const runs = Math.max(100, Math.floor(FUZZ_HTTP_RUNS / 4));
  it(`${runs} generated conversation ids and step filters`, async (t) => {
    const logsFrom = hub.logs.length;
    const result = await fuzzHttp({
      arbitrary: fc.record({
        id: fc.oneof(
          fc.constantFrom('conv-1', 'conv-2', 'conv-3', 'x'.repeat(129), '%00', '%2F', '..'),
          pathSegment(140).filter((s) => s.length > 0),
        ),
        query: fc.array(
          fc.tuple(fc.constantFrom('step', 'Step', 'step[]', 'x'), fc.oneof(anyString(70).map(percentEncode), fc.constantFrom('payment', 'retry', '', '%00'))),
          { maxLength: 2 },
        ),
      }),
      runs,
      send: (c) =>
        client.request({
          method: 'GET',
          path: `/v1/payment-steps/${c.id}${c.query.length ? `?${c.query.map(([k, v]) => `${k}=${v}`).join('&')}` : ''}`,
          headers: { authorization: `Bearer ${apiKey}` },
        }),
      check: (_c, r) => (r.status === 200 ? stepCheck(r) : r.status < 400 ? `unexpected HTTP ${r.status}` : problemCheck(r)),
    });
    t.diagnostic(`${result.cases} cases, INCASSO_FUZZ_SEED=${FUZZ_SEED}, answers by HTTP status ${JSON.stringify(result.statuses)}`);
    const errors = errorLogLines(hub, logsFrom);
    assert.ok((result.statuses['200'] ?? 0) > 0, `no step was found: ${JSON.stringify(result.statuses)}`);
    assert.equal(result.failures.length, 0, `${describeFailures('GET /v1/payment-steps/…', result)}\nerror log lines:\n${describeLogLines(errors)}`);
    assert.equal(errors.length, 0, `the fuzz made the hub log ${errors.length} error lines:\n${describeLogLines(errors)}`);
  });
});
