import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { apiClient, eventually, startTestHub, type TestHub } from '../support/hub.js';
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
  type RawResponse,
} from '../support/fuzz.js';
import { problemCheck } from '../support/fuzz-api.js';

/**
 * Refunds (`POST /v1/payments/{id}/refunds`, `GET /v1/payments/{id}/refunds`) under fire: FUZZ_HTTP_RUNS generated
 * refund requests — arbitrary JSON bodies, amounts of every shape, Idempotency-Keys reused with other bodies,
 * sixteen in flight on a handful of payments paid through NETOPIA v2's emulator (so that real credits happen, race
 * and run out), unpaid payments, a Nexi payment (refunds in its back office), unknown and hostile ids. Every answer
 * must be a 201 refund or a 4xx problem, never a 5xx; afterwards every payment's refunded amount is exactly the sum
 * of its succeeded refunds and never more than it captured.
 */

let hub: TestHub;
let client: ReturnType<typeof rawHttpClient>;
let api: ReturnType<typeof apiClient>;
let apiKey = '';
const paid: string[] = [];
const others: string[] = [];

const BILLING = {
  first_name: 'Ioana',
  last_name: 'Dumitrescu',
  email: 'ioana@example.ro',
  phone: '0722000111',
  address: 'Str. Lungă 5',
  city: 'Brașov',
  country: 'RO',
};

/** Pays a NETOPIA v2 emulator payment over HTTP, as a browser without scripts: the hub's page, then the card form. */
async function payOverHttp(paymentUrl: string): Promise<void> {
  const hand = await fetch(paymentUrl, { redirect: 'manual' });
  assert.equal(hand.status, 303, `the payment page hands over to NETOPIA: ${hand.status}`);
  const cardPage = hand.headers.get('location')!;
  const paidPage = await fetch(cardPage, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ card_number: '9900004810225098', expiry: '12/30', cvv: '111' }).toString(),
  });
  assert.equal(paidPage.status, 303, `the card was accepted: ${paidPage.status} ${await paidPage.text()}`);
}

before(async () => {
  hub = await startTestHub({ emulators: true, logLevel: 'error' });
  client = rawHttpClient(hub.url, 16);
  const merchant = await apiClient(hub.url, hub.adminKey)('POST', '/v1/merchants', { name: 'Fuzz Refunds SRL' });
  apiKey = merchant.body.api_key;
  api = apiClient(hub.url, apiKey);
  for (const [code, provider] of [
    ['v2', 'netopia-v2'],
    ['nexi', 'nexi'],
  ] as const) {
    const c = await api('POST', '/v1/connections', { code, provider, environment: 'emulator' });
    assert.equal(c.status, 201, JSON.stringify(c.body));
  }
  const create = async (connection: string, i: number, currency = 'RON') => {
    const p = await api('POST', '/v1/payments', {
      connection,
      order_id: `RF-${connection}-${i}`,
      amount: 5000 + i,
      currency,
      description: 'Ceai verde',
      billing: BILLING,
      return_url: 'https://shop.example/thanks',
    });
    assert.equal(p.status, 201, JSON.stringify(p.body));
    return p.body as { id: string; payment_url: string };
  };
  for (let i = 0; i < 6; i++) {
    const p = await create('v2', i);
    await payOverHttp(p.payment_url);
    paid.push(p.id);
  }
  others.push((await create('v2', 100)).id, (await create('nexi', 101, 'EUR')).id);
  await eventually(
    async () => {
      const rows = await hub.store.db.selectFrom('payments').select('status').where('id', 'in', paid).execute();
      return rows.every((r) => r.status === 'paid');
    },
    20_000,
    'the IPNs of the paid payments',
  );
});

after(async () => {
  client?.close();
  await hub?.close();
});

type Target = { kind: 'paid' | 'other'; index: number } | { kind: 'segment'; segment: string };

interface RefundCase {
  target: Target;
  body: string | Buffer | undefined;
  contentType: string | undefined;
  idempotencyKey: string | undefined;
  headers: Record<string, string>;
}

const amount = fc.oneof(
  { arbitrary: fc.integer({ min: 1, max: 1500 }), weight: 6 },
  { arbitrary: fc.constantFrom(0, -1, 1.5, -0, 5000, 5005, 5006, 99999, 2 ** 53, 2 ** 53 - 1, 1e308, '100', null, true, [], {}), weight: 2 },
  { arbitrary: anyString(20), weight: 1 },
);

const refundBody: fc.Arbitrary<string | Buffer | undefined> = fc.oneof(
  {
    arbitrary: fc
      .record({ amount, reason: fc.oneof(fc.constantFrom('one item returned', 'x'.repeat(500), 'x'.repeat(501), ''), anyString(40)) }, { requiredKeys: [] })
      .map((b) => JSON.stringify(b)),
    weight: 12,
  },
  { arbitrary: fc.record({ amount, extra: fc.anything({ maxDepth: 1 }) }).map((b) => JSON.stringify(b)), weight: 1 },
  { arbitrary: fc.anything().map((v) => JSON.stringify(v) ?? 'null'), weight: 2 },
  { arbitrary: fc.json(), weight: 1 },
  { arbitrary: anyString(100), weight: 1 },
  { arbitrary: fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)), weight: 1 },
  {
    arbitrary: fc.constantFrom(
      undefined,
      '',
      'null',
      '{}',
      '{"amount":1,"amount":2}',
      '{"amount":1e400}',
      '{"amount":1.0}',
      '{"reason":"\\u0000"}',
      '{"reason":"\\ud800"}',
      '{"__proto__":{"amount":1}}',
    ),
    weight: 1,
  },
);

const target: fc.Arbitrary<Target> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('paid' as const), index: fc.nat() }), weight: 12 },
  { arbitrary: fc.record({ kind: fc.constant('other' as const), index: fc.nat() }), weight: 2 },
  {
    arbitrary: fc
      .oneof(
        pathSegment(60).filter((s) => s.length > 0),
        fc.constantFrom('pay_00000000000000000000000000', '%00', 'pay_%00'),
      )
      .map((segment) => ({ kind: 'segment' as const, segment })),
    weight: 2,
  },
);

const refundCase: fc.Arbitrary<RefundCase> = fc.record({
  target,
  body: refundBody,
  contentType: contentType(['application/json', 'application/json; charset=utf-8']),
  idempotencyKey: fc.option(fc.oneof(fc.constantFrom('rk-1', 'rk-2', 'rk-3'), fc.uuid(), headerValue(300)), { nil: undefined, freq: 2 }),
  headers: extraHeaders(3),
});

const idOf = (t: Target) => ('segment' in t ? t.segment : t.kind === 'paid' ? paid[t.index % paid.length]! : others[t.index % others.length]!);

function refundCheck(r: RawResponse): string | undefined {
  if (r.status === 201) {
    const x = JSON.parse(r.text) as { object?: string; id?: string; amount?: unknown; status?: string };
    if (
      x.object !== 'refund' ||
      !/^ref_/.test(x.id ?? '') ||
      !Number.isSafeInteger(x.amount) ||
      !['pending', 'processing', 'succeeded', 'failed'].includes(x.status ?? '')
    )
      return '201 with an unexpected body';
    return undefined;
  }
  if (r.status < 400) return `unexpected HTTP ${r.status}`;
  return problemCheck(r);
}

describe('POST /v1/payments/{id}/refunds: a 201 refund or a 4xx problem, whatever is sent; the ledger adds up', () => {
  it(`${FUZZ_HTTP_RUNS} generated refund requests (amounts of every shape, arbitrary bodies, reused Idempotency-Keys, hostile ids)`, async (t) => {
    const logsFrom = hub.logs.length;
    const result = await fuzzHttp({
      arbitrary: refundCase,
      send: (c) =>
        client.request({
          method: 'POST',
          path: `/v1/payments/${idOf(c.target)}/refunds`,
          headers: {
            ...c.headers,
            authorization: `Bearer ${apiKey}`,
            ...(c.contentType !== undefined ? { 'content-type': c.contentType } : {}),
            ...(c.idempotencyKey !== undefined ? { 'idempotency-key': c.idempotencyKey } : {}),
          },
          body: c.body,
        }),
      check: (_c, r) => refundCheck(r),
    });
    t.diagnostic(`${result.cases} cases, INCASSO_FUZZ_SEED=${FUZZ_SEED}, answers by HTTP status ${JSON.stringify(result.statuses)}`);
    const errors = errorLogLines(hub, logsFrom);
    assert.equal(result.failures.length, 0, `${describeFailures('POST /v1/payments/{id}/refunds', result)}\nerror log lines:\n${describeLogLines(errors)}`);
    assert.equal(errors.length, 0, `the fuzz made the hub log ${errors.length} error lines:\n${describeLogLines(errors)}`);
    if (FUZZ_HTTP_RUNS >= 1000) assert.ok((result.statuses['201'] ?? 0) >= paid.length, `too few refunds were made: ${JSON.stringify(result.statuses)}`);

    // Every refund settled (none left in flight), and each payment's refunded amount is exactly what its refunds say.
    const refunds = await hub.store.db.selectFrom('refunds').select(['payment_id', 'amount', 'status']).execute();
    assert.deepEqual(
      refunds.filter((r) => r.status === 'pending' || r.status === 'processing'),
      [],
    );
    const payments = await hub.store.db.selectFrom('payments').select(['id', 'status', 'amount', 'amount_captured', 'amount_refunded']).execute();
    const wrong = payments
      .map((p) => ({ p, refunded: refunds.filter((r) => r.payment_id === p.id && r.status === 'succeeded').reduce((s, r) => s + Number(r.amount), 0) }))
      .filter(
        ({ p, refunded }) =>
          p.amount_refunded !== refunded ||
          p.amount_refunded > p.amount_captured ||
          (p.amount_refunded > 0 && p.amount_refunded < p.amount_captured && p.status !== 'partially_refunded') ||
          (p.amount_refunded > 0 && p.amount_refunded === p.amount_captured && p.status !== 'refunded'),
      )
      .map(({ p, refunded }) => `${p.id} ${p.status}: captured ${p.amount_captured}, refunded ${p.amount_refunded}, succeeded refunds ${refunded}`);
    assert.deepEqual(wrong, []);
  });
});

describe('GET /v1/payments/{id}/refunds: 200 or a 4xx problem for any id', () => {
  const runs = Math.max(100, Math.floor(FUZZ_HTTP_RUNS / 4));
  it(`${runs} generated ids`, async (t) => {
    const logsFrom = hub.logs.length;
    const result = await fuzzHttp({
      arbitrary: fc.record({ target, query: fc.option(anyString(30).map(percentEncode), { nil: undefined }) }),
      runs,
      send: (c) =>
        client.request({
          method: 'GET',
          path: `/v1/payments/${idOf(c.target)}/refunds${c.query === undefined ? '' : `?x=${c.query}`}`,
          headers: { authorization: `Bearer ${apiKey}` },
        }),
      check: (_c, r) => {
        if (r.status !== 200) return r.status < 400 ? `unexpected HTTP ${r.status}` : problemCheck(r);
        const list = JSON.parse(r.text) as { object?: string; data?: unknown[] };
        return list.object === 'list' && Array.isArray(list.data) ? undefined : '200 without a list';
      },
    });
    t.diagnostic(`${result.cases} cases, INCASSO_FUZZ_SEED=${FUZZ_SEED}, answers by HTTP status ${JSON.stringify(result.statuses)}`);
    const errors = errorLogLines(hub, logsFrom);
    assert.equal(result.failures.length, 0, `${describeFailures('GET /v1/payments/{id}/refunds', result)}\nerror log lines:\n${describeLogLines(errors)}`);
    assert.equal(errors.length, 0, `error lines:\n${describeLogLines(errors)}`);
  });
});
