import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { apiClient, startTestHub, type TestHub } from '../support/hub.js';
import { sandboxCredentials } from '../support/netopia-v1.js';
import { problemCheck } from '../support/fuzz-api.js';
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
  headerValue,
  pathSegment,
  percentEncode,
  rawHttpClient,
} from '../support/fuzz.js';

/**
 * The merchant API under fire: FUZZ_HTTP_RUNS generated `POST /v1/payments` requests (and a quarter as many GETs
 * with arbitrary ids and filters), sixteen in flight, against one hub. Every answer must be a 201/200 or an
 * RFC 9457 problem document with a 4xx status — never a 5xx — and the hub must not log errors because of them.
 */

let hub: TestHub;
let client: ReturnType<typeof rawHttpClient>;
let apiKey: string;

before(async () => {
  // Only lines at error level are asserted on; not formatting ~20 000 request lines keeps the run short.
  hub = await startTestHub({ emulators: true, logLevel: 'error' });
  client = rawHttpClient(hub.url, 16);
  const merchant = await apiClient(hub.url, hub.adminKey)('POST', '/v1/merchants', { name: 'Fuzz SRL' });
  apiKey = merchant.body.api_key;
  const api = apiClient(hub.url, apiKey);
  const emu = await api('POST', '/v1/connections', { code: 'emu', provider: 'netopia-v1', environment: 'emulator' });
  assert.equal(emu.status, 201, JSON.stringify(emu.body));
  const sbx = await api('POST', '/v1/connections', { code: 'sbx', provider: 'netopia-v1', environment: 'sandbox', credentials: sandboxCredentials() });
  assert.equal(sbx.status, 201, JSON.stringify(sbx.body));
});

after(async () => {
  client?.close();
  await hub?.close();
});

// ---------------------------------------------------------------------------------------------------
// POST /v1/payments

const billing = fc.record(
  {
    type: fc.constantFrom('person', 'company'),
    first_name: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }),
    last_name: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }),
    email: fc.constantFrom('ana@example.ro', 'ion.popescu+shop@example.com', 'a@b.co', 'x@xn--80ak6aa92e.com'),
    phone: fc.stringMatching(/^\+?[0-9]{6,15}$/),
    address: fc.string({ unit: 'grapheme', maxLength: 80 }),
    city: fc.string({ maxLength: 30 }),
    country: fc.stringMatching(/^[A-Z]{2}$/),
    company: fc.string({ maxLength: 40 }),
  },
  { requiredKeys: ['first_name', 'last_name', 'email'] },
);

const futureDate = fc.integer({ min: 60_000, max: 5 * 365 * 86_400_000 }).map((ms) => new Date(Date.now() + ms).toISOString());

const validPayment = fc.record(
  {
    connection: fc.constantFrom('emu', 'sbx'),
    order_id: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 64 }),
    amount: fc.integer({ min: 1, max: 9_999_900 }),
    currency: fc.constantFrom('RON', 'EUR', 'USD', 'GBP', 'MDL'),
    description: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 120 }),
    billing,
    shipping: billing,
    return_url: fc.constantFrom('https://shop.example/thanks', 'http://127.0.0.1:9/back?x=1&y=%20', 'https://xn--80ak6aa92e.com/'),
    expires_at: futureDate,
    metadata: fc.dictionary(fc.string({ maxLength: 20 }), fc.oneof(fc.string({ maxLength: 50 }), fc.integer(), fc.boolean(), fc.constant(null)), {
      maxKeys: 5,
    }),
  },
  { requiredKeys: ['connection', 'order_id', 'amount', 'currency', 'description', 'billing'] },
);

/** Values that are wrong, or right in a way code rarely expects. */
const wrongValue: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: anyString(80), weight: 4 },
  { arbitrary: fc.anything(), weight: 2 },
  { arbitrary: fc.constantFrom(-1, 0, 1.5, -0, 1e308, 2 ** 53, 2 ** 53 - 1, 9_999_901, 10_000_000, 1e-7, true, false, null, [], {}, [1], { a: 1 }), weight: 2 },
  { arbitrary: fc.constantFrom('ron', 'RO N', 'XXX', 'JPY', 'KWD', 'RON\u0000', 'ЯОН'), weight: 1 },
  {
    arbitrary: fc.constantFrom(
      '2020-01-01',
      '2030-02-30T00:00:00Z',
      '2030-01-01T24:00:00Z',
      '9999-12-31T23:59:60Z',
      '2030-06-30T23:59:60Z',
      '0000-01-01T00:00:00Z',
      '2030-01-01T00:00:00+14:00',
      '2030-01-01T00:00:00-23:59',
      '2030-01-01t00:00:00z',
      '+275760-09-13T00:00:00Z',
      '2030-01-01T00:00:00.123456789Z',
      '1970-01-01T00:00:00Z',
    ),
    weight: 1,
  },
  {
    arbitrary: fc.constantFrom(
      'javascript:alert(1)',
      'http://',
      'http://[::1',
      'https://ex ample.com',
      `https://a.example/${'x'.repeat(3000)}`,
      'HTTP://A.EXAMPLE',
      'file:///etc/passwd',
      'http://user:pass@host/',
      '//evil.example',
    ),
    weight: 1,
  },
  { arbitrary: fc.constantFrom('x'.repeat(501), 'x'.repeat(65), 'ș'.repeat(200), 'x'.repeat(100_000)), weight: 1 },
);

const FIELD_PATHS = [
  'connection',
  'order_id',
  'amount',
  'currency',
  'description',
  'billing',
  'billing.first_name',
  'billing.last_name',
  'billing.email',
  'billing.phone',
  'billing.country',
  'billing.type',
  'billing.extra',
  'shipping',
  'shipping.email',
  'return_url',
  'expires_at',
  'metadata',
  'metadata.key',
  'metadata.__proto__',
  'colour',
];

function setPath(target: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
  const copy = structuredClone(target);
  const parts = path.split('.');
  let node: Record<string, unknown> = copy;
  for (const part of parts.slice(0, -1)) {
    if (typeof node[part] !== 'object' || node[part] === null) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  Object.defineProperty(node, parts[parts.length - 1]!, { value, enumerable: true, writable: true, configurable: true });
  return copy;
}

function deletePath(target: Record<string, unknown>, path: string): Record<string, unknown> {
  const copy = structuredClone(target);
  const parts = path.split('.');
  let node: Record<string, unknown> | undefined = copy;
  for (const part of parts.slice(0, -1)) node = typeof node?.[part] === 'object' ? (node[part] as Record<string, unknown>) : undefined;
  if (node) delete node[parts[parts.length - 1]!];
  return copy;
}

const paymentBody: fc.Arbitrary<string | Buffer | undefined> = fc.oneof(
  { arbitrary: validPayment.map((b) => JSON.stringify(b)), weight: 3 },
  // one field wrong
  { arbitrary: fc.tuple(validPayment, fc.constantFrom(...FIELD_PATHS), wrongValue).map(([b, path, v]) => JSON.stringify(setPath(b, path, v))), weight: 10 },
  // two or three fields wrong or missing
  {
    arbitrary: fc
      .tuple(
        validPayment,
        fc.array(fc.tuple(fc.constantFrom(...FIELD_PATHS), fc.option(wrongValue, { nil: undefined, freq: 3 })), { minLength: 2, maxLength: 3 }),
      )
      .map(([b, edits]) =>
        JSON.stringify(edits.reduce((acc, [path, v]) => (v === undefined ? deletePath(acc, path) : setPath(acc, path, v)), b as Record<string, unknown>)),
      ),
    weight: 4,
  },
  { arbitrary: fc.anything().map((v) => JSON.stringify(v)), weight: 3 },
  { arbitrary: fc.json(), weight: 2 },
  { arbitrary: anyString(200), weight: 1 },
  { arbitrary: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)), weight: 1 },
  {
    arbitrary: fc.constantFrom(
      undefined,
      '',
      'null',
      '{"__proto__":{"admin":true},"amount":1}',
      '{"constructor":{"prototype":{"polluted":1}}}',
      '{"amount":1,"amount":"x"}',
      '{"amount":1e400}',
      '{"amount":-0}',
      '{"amount":1.0,"currency":"RON"}',
      '{"a":"\\ud800"}',
      '{"a":"\\u0000"}',
      '\ufeff{}',
      '{"amount":1}garbage',
      `[${'['.repeat(5000)}${']'.repeat(5000)}]`,
      `{"metadata":${'{"a":'.repeat(2000)}1${'}'.repeat(2000)}}`,
      JSON.stringify({ description: 'x'.repeat(1_100_000) }),
    ),
    weight: 1,
  },
);

interface PaymentCase {
  body: string | Buffer | undefined;
  contentType: string | undefined;
  idempotencyKey: string | undefined;
  headers: Record<string, string>;
}

const paymentCase: fc.Arbitrary<PaymentCase> = fc.record({
  body: paymentBody,
  contentType: contentType(['application/json', 'application/json; charset=utf-8']),
  idempotencyKey: fc.option(fc.oneof(headerValue(300), fc.uuid(), fc.constantFrom('k', 'same-key', 'x'.repeat(255), 'x'.repeat(256))), {
    nil: undefined,
    freq: 3,
  }),
  headers: extraHeaders(3),
});

describe('POST /v1/payments: a 201 or a 4xx problem document, whatever is sent', () => {
  it(`${FUZZ_HTTP_RUNS} generated requests (bodies, content types, Idempotency-Key bytes, headers)`, async (t) => {
    const logsFrom = hub.logs.length;
    const result = await fuzzHttp({
      arbitrary: paymentCase,
      send: (c) =>
        client.request({
          method: 'POST',
          path: '/v1/payments',
          headers: {
            ...c.headers,
            authorization: `Bearer ${apiKey}`,
            ...(c.contentType !== undefined ? { 'content-type': c.contentType } : {}),
            ...(c.idempotencyKey !== undefined ? { 'idempotency-key': c.idempotencyKey } : {}),
          },
          body: c.body,
        }),
      check: (_c, r) => {
        if (r.status === 201) {
          const p = JSON.parse(r.text) as { id?: string; status?: string; payment_url?: string };
          if (!/^pay_[0-9a-z]{26}$/.test(p.id ?? '') || p.status !== 'pending' || !p.payment_url) return `201 with an unexpected body`;
          return undefined;
        }
        if (r.status >= 200 && r.status < 400) return `unexpected HTTP ${r.status}`;
        return problemCheck(r);
      },
    });
    t.diagnostic(`${result.cases} cases, INCASSO_FUZZ_SEED=${FUZZ_SEED}, answers by HTTP status ${JSON.stringify(result.statuses)}`);
    const errors = errorLogLines(hub, logsFrom);
    assert.ok(
      result.statuses['201'] && result.statuses['201'] > FUZZ_HTTP_RUNS / 50,
      `too few valid payments reached the ledger: ${JSON.stringify(result.statuses)}`,
    );
    assert.equal(result.failures.length, 0, `${describeFailures('POST /v1/payments', result)}\nerror log lines:\n${describeLogLines(errors)}`);
    assert.equal(errors.length, 0, `the fuzz made the hub log ${errors.length} error lines:\n${describeLogLines(errors)}`);
  });
});

// ---------------------------------------------------------------------------------------------------
// GET routes of the merchant API with arbitrary ids and query strings

const LIST_QUERY_KEYS = ['status', 'order_id', 'connection', 'created_gte', 'created_lte', 'starting_after', 'limit'];

const queryValue = fc.oneof(
  anyString(40).map(percentEncode),
  fc.constantFrom(
    'pending',
    'paid',
    'bogus',
    '0',
    '1',
    '100',
    '101',
    '-1',
    '1e2',
    '',
    '2020-01-01T00:00:00Z',
    '0000-01-01T00:00:00Z',
    '9999-12-31T23:59:60Z',
    '2030-06-30T23:59:60Z',
    '1969-12-31T23:59:59.999Z',
    '-000001-01-01T00:00:00Z',
    'pay_zzzzzzzzzzzzzzzzzzzzzzzzzz',
    'emu',
    'sbx',
    '%00',
    '%ZZ',
  ),
);

const getCase = fc.record({
  route: fc.constantFrom(
    'payments-list',
    '/v1/payments/',
    '/v1/connections/',
    '/v1/webhook-endpoints/',
    '/v1/webhook-deliveries/',
    '/v1/webhook-endpoints/:id/deliveries',
  ),
  segment: pathSegment(70),
  query: fc.array(fc.tuple(fc.oneof(fc.constantFrom(...LIST_QUERY_KEYS), queryKey()), queryValue), { maxLength: 4 }),
});

function queryKey() {
  return fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz_[]'.split('')), minLength: 1, maxLength: 12 });
}

describe('GET routes of the merchant API: arbitrary ids and query strings get 200 or a 4xx problem', () => {
  const runs = Math.max(100, Math.floor(FUZZ_HTTP_RUNS / 4));
  it(`${runs} generated ids and list filters`, async (t) => {
    const logsFrom = hub.logs.length;
    const result = await fuzzHttp({
      arbitrary: getCase,
      runs,
      send: (c) => {
        const query = c.query.map(([k, v]) => `${k}=${v}`).join('&');
        const path =
          c.route === 'payments-list'
            ? `/v1/payments${query ? `?${query}` : ''}`
            : c.route.includes(':id')
              ? c.route.replace(':id', c.segment)
              : `${c.route}${c.segment}${query ? `?${query}` : ''}`;
        return client.request({ method: 'GET', path, headers: { authorization: `Bearer ${apiKey}` } });
      },
      check: (_c, r) => (r.status === 200 ? undefined : r.status < 400 ? `unexpected HTTP ${r.status}` : problemCheck(r)),
    });
    t.diagnostic(`${result.cases} cases, INCASSO_FUZZ_SEED=${FUZZ_SEED}, answers by HTTP status ${JSON.stringify(result.statuses)}`);
    const errors = errorLogLines(hub, logsFrom);
    assert.equal(result.failures.length, 0, `${describeFailures('GET /v1/…', result)}\nerror log lines:\n${describeLogLines(errors)}`);
    assert.equal(errors.length, 0, `the fuzz made the hub log ${errors.length} error lines:\n${describeLogLines(errors)}`);
  });
});

// ---------------------------------------------------------------------------------------------------
// The values the fuzz found, pinned: each must be refused with a 4xx problem, whatever the random seed

describe('strings PostgreSQL cannot store and dates it cannot represent: a 4xx problem, never a 500', () => {
  it('U+0000, lone surrogates and out-of-range dates in bodies, paths and queries', async () => {
    const payment = {
      connection: 'emu',
      order_id: 'PIN-1',
      amount: 1500,
      currency: 'RON',
      description: 'Ceai',
      billing: { first_name: 'Ana', last_name: 'Pop', email: 'ana@example.ro' },
    };
    const cases: Array<[string, string, string, unknown, 'merchant' | 'admin']> = [
      ['payment description with U+0000', 'POST', '/v1/payments', { ...payment, description: 'Ceai\u0000verde' }, 'merchant'],
      ['payment order_id with U+0000', 'POST', '/v1/payments', { ...payment, order_id: 'PIN\u0000' }, 'merchant'],
      ['billing name with U+0000', 'POST', '/v1/payments', { ...payment, billing: { ...payment.billing, last_name: 'P\u0000p' } }, 'merchant'],
      ['billing name with a lone surrogate', 'POST', '/v1/payments', { ...payment, billing: { ...payment.billing, first_name: 'An\ud800a' } }, 'merchant'],
      ['metadata value with U+0000', 'POST', '/v1/payments', { ...payment, metadata: { note: 'a\u0000' } }, 'merchant'],
      ['metadata key with U+0000', 'POST', '/v1/payments', { ...payment, metadata: { 'a\u0000': 1 } }, 'merchant'],
      ['metadata value with a lone surrogate', 'POST', '/v1/payments', { ...payment, metadata: { note: '\udc00' } }, 'merchant'],
      [
        'connection settings.endpoint with U+0000',
        'POST',
        '/v1/connections',
        {
          code: 'pin-endpoint',
          provider: 'netopia-v1',
          environment: 'sandbox',
          credentials: sandboxCredentials(),
          settings: { endpoint: 'https://x.example/\u0000' },
        },
        'merchant',
      ],
      ['merchant name with U+0000 (operator)', 'POST', '/v1/merchants', { name: 'Fuzz\u0000SRL' }, 'admin'],
      ['payment id %00', 'GET', '/v1/payments/%00', undefined, 'merchant'],
      ['connection id %00', 'GET', '/v1/connections/%00', undefined, 'merchant'],
      ['webhook endpoint id %00', 'GET', '/v1/webhook-endpoints/%00', undefined, 'merchant'],
      ['webhook delivery id %00', 'GET', '/v1/webhook-deliveries/%00', undefined, 'merchant'],
      ['order_id filter %00', 'GET', '/v1/payments?order_id=%00', undefined, 'merchant'],
      ['starting_after cursor %00', 'GET', '/v1/payments?starting_after=a%00', undefined, 'merchant'],
      ['created_gte in year 0', 'GET', '/v1/payments?created_gte=0000-01-01T00:00:00Z', undefined, 'merchant'],
      ['created_lte on a leap second', 'GET', '/v1/payments?created_lte=2030-06-30T23:59:60Z', undefined, 'merchant'],
    ];
    const wrong: string[] = [];
    for (const [name, method, path, body, who] of cases) {
      const r = await apiClient(hub.url, who === 'admin' ? hub.adminKey : apiKey)(method, path, body);
      if (r.status >= 500 || r.status < 400) wrong.push(`${name}: ${method} ${path} → ${r.status} ${JSON.stringify(r.body).slice(0, 100)}`);
    }
    assert.deepEqual(wrong, []);
  });
});
