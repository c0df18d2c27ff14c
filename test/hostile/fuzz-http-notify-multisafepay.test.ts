import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { notificationSignature, signNotification } from '../../src/connectors/multisafepay/auth-header.js';
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
  type RawResponse,
} from '../support/fuzz.js';
import {
  fuzzNotifications,
  inconsistentPayments,
  jsonMutation,
  mutateJson,
  notifyFixture,
  notifyPath,
  notifyTarget,
  openPayments,
  type NotifyFixture,
  type NotifyTarget,
  type OpenPayment,
  signedAndSent,
  signedJsonBody,
  type SignedJsonBody,
} from '../support/fuzz-notify.js';

/**
 * MultiSafepay's webhook endpoint (`POST /notify/multisafepay/<connection id>`) under fire: FUZZ_HTTP_RUNS requests with
 * arbitrary bodies and `Auth` headers — missing, not base64, "timestamp:hmac" with a forged HMAC, signed with
 * another website's API key, signed with the right key but stale or from the future, the right signature over a
 * payable order whose bytes were then damaged, and genuine orders the ledger must refuse. MultiSafepay counts a
 * notification as delivered only on HTTP 200 with "OK" in the first 100 characters; every refusal must be the
 * hub's 400 "ERROR <code>: notification rejected" (never a 5xx, which asks for retries), and nothing may change.
 */

let f: NotifyFixture;
const OTHER_API_KEY = 'Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe';

/** An order object as MultiSafepay posts it for a card payment (its documented webhook payload's shape). */
function order(orderId: string, amount: number, over: { status?: string; currency?: string } = {}): Buffer {
  const status = over.status ?? 'completed';
  return Buffer.from(
    JSON.stringify({
      amount,
      amount_refunded: 0,
      created: '2025-01-03T15:08:02',
      currency: over.currency ?? 'EUR',
      description: 'Caffe e cornetto',
      financial_status: status,
      order_id: orderId,
      payment_details: { type: 'VISA', last4: '1111', card_expiry_date: '3012', response_code: '00', external_transaction_id: '123456789' },
      payment_methods: [{ amount, currency: over.currency ?? 'EUR', status, type: 'VISA' }],
      reason: '',
      reason_code: '',
      status,
      transaction_id: '8123456789',
      var1: null,
      var2: null,
      var3: null,
    }),
  );
}

let refused: Buffer[] = [];

before(async () => {
  f = await notifyFixture('multisafepay', { currency: 'EUR' });
  const [p0, p1, p2] = f.payments as [OpenPayment, OpenPayment, OpenPayment];
  refused = [
    order(p0.attemptId, 9_999_999),
    order(p0.attemptId, p0.amount, { currency: 'GBP' }),
    order('att_00000000000000000000000000', p0.amount),
    order(p1.attemptId, p2.amount),
  ];
  for (const body of refused) {
    const r = await f.client.request({
      method: 'POST',
      path: notifyPath(f, 'multisafepay', 'own'),
      headers: { 'content-type': 'application/json', auth: signNotification(f.credentials.api_key!, body, Date.now() / 1000) },
      body,
    });
    assert.equal(replyCheck(r), undefined, r.text);
  }
  // Refused by the ledger checks, not for their Auth header.
  const rows = await f.hub.store.db.selectFrom('notifications').select(['status', 'error']).execute();
  assert.ok(
    rows.every((r) => r.status === 'rejected' && !/Auth|signature/i.test(r.error ?? '')),
    JSON.stringify(rows),
  );
});

after(async () => {
  f?.client.close();
  await f?.hub.close();
});

type Body = SignedJsonBody<string>;

type Auth =
  | { kind: 'none' }
  | { kind: 'text'; value: string }
  | { kind: 'forged'; timestamp: string; hex: string; encode: 'base64' | 'plain' }
  | { kind: 'signed'; key: 'own' | 'other' | 'own-padded'; age: number; twice: boolean };

interface Case {
  target: NotifyTarget;
  contentType: string | undefined;
  headers: Record<string, string>;
  body: Body;
  auth: Auth;
}

const STATUSES = [
  'completed',
  'initialized',
  'uncleared',
  'declined',
  'cancelled',
  'expired',
  'refunded',
  'partial_refunded',
  'chargedback',
  'void',
  'reserved',
  'shipped',
];

const body: fc.Arbitrary<Body> = signedJsonBody(fc.constantFrom(...STATUSES));

const hex = (min: number, max: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEFg'.split('')), minLength: min, maxLength: max });

const auth: fc.Arbitrary<Auth> = fc.oneof(
  { arbitrary: fc.constant({ kind: 'none' as const }), weight: 5 },
  { arbitrary: fc.record({ kind: fc.constant('text' as const), value: headerValue(300) }), weight: 10 },
  {
    arbitrary: fc.record({
      kind: fc.constant('forged' as const),
      timestamp: fc.oneof(fc.constant('now'), fc.stringMatching(/^\d{1,13}$/), anyString(12)),
      hex: fc.oneof(hex(128, 128), hex(0, 140)),
      encode: fc.constantFrom('base64' as const, 'base64' as const, 'plain' as const),
    }),
    weight: 20,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('signed' as const),
      key: fc.constantFrom('own' as const, 'own' as const, 'other' as const, 'own-padded' as const),
      // seconds before now: fresh, just inside and outside the 600 s window, far past, the future (beyond the 60 s
      // skew by a minute, so that a case waiting for its turn cannot drift back inside)
      age: fc.oneof({ arbitrary: fc.constant(0), weight: 6 }, { arbitrary: fc.constantFrom(599, 601, 3600, 86_400 * 400, -59, -120, -86_400), weight: 4 }),
      twice: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
    }),
    weight: 65,
  },
);

const cases: fc.Arbitrary<Case> = fc.record({ target: notifyTarget, contentType: contentType(['application/json']), headers: extraHeaders(3), body, auth });

/** Whether an Auth header could verify (conservative: `true` may still fail, `false` never passes). */
function mayVerify(a: Auth): boolean {
  return a.kind === 'signed' && a.key !== 'other' && !a.twice && a.age <= 600 && a.age > -120;
}

/** The body the Auth header is computed over, and the one sent (see signedAndSent). */
function bodies(b: Body, a: Auth): { signed: Buffer; sent: Buffer } {
  return signedAndSent(b, { payments: f.payments, payable: (p, status) => order(p.attemptId, p.amount, { status }), refused, mayVerify: mayVerify(a) });
}

function authFor(a: Auth, signed: Buffer): string | string[] | undefined {
  const now = Math.floor(Date.now() / 1000);
  switch (a.kind) {
    case 'none':
      return undefined;
    case 'text':
      return a.value;
    case 'forged': {
      const text = `${a.timestamp === 'now' ? now : a.timestamp}:${a.hex}`;
      // Base64 of any text; sent as is, only what a header can carry.
      return a.encode === 'base64' ? Buffer.from(text, 'utf8').toString('base64') : text.replace(/[^\x20-\x7e]/g, '?');
    }
    case 'signed': {
      // The PHP SDK trims the key: a padded copy of the right key signs the same; another key does not.
      const key = a.key === 'other' ? OTHER_API_KEY : a.key === 'own-padded' ? ` ${f.credentials.api_key} ` : f.credentials.api_key!;
      const header = signNotification(key, signed, now - a.age);
      return a.twice ? [header, Buffer.from(`${now}:${notificationSignature(key, String(now), signed)}`).toString('base64')] : header;
    }
  }
}

/** The hub's refusal in MultiSafepay's terms: not 200, and no "OK" in the first 100 characters. */
function replyCheck(r: RawResponse): string | undefined {
  if (r.error) return `no HTTP response (${r.error})`;
  if (r.status !== 400) return `HTTP ${r.status} ${String(r.headers['content-type'] ?? '')}`;
  if (!/^text\/plain/.test(String(r.headers['content-type'] ?? ''))) return `HTTP 400 with ${r.headers['content-type']}`;
  if (!/^ERROR \d+: notification rejected$/.test(r.text)) return `body ${JSON.stringify(r.text.slice(0, 80))}`;
  if (r.text.slice(0, 100).includes('OK')) return 'the refusal contains "OK": MultiSafepay would count it as delivered';
  return undefined;
}

describe('POST /notify/multisafepay/<connection>: MultiSafepay\'s refusal (400, no "OK"), and the ledger does not move', () => {
  it(`${FUZZ_HTTP_RUNS} generated notifications (arbitrary bodies and Auth headers; payable orders damaged after signing, or replayed stale, future or under a foreign key)`, async (t) => {
    const statuses = await fuzzNotifications(
      f,
      'POST /notify/multisafepay/…',
      {
        arbitrary: cases,
        send: (c) => {
          const { signed, sent } = bodies(c.body, c.auth);
          const header = authFor(c.auth, signed);
          const headers: Record<string, string> = { ...c.headers, ...(c.contentType ? { 'content-type': c.contentType } : {}) };
          if (header !== undefined) (headers as Record<string, string | string[]>).auth = header;
          return f.client.request({ method: 'POST', path: notifyPath(f, 'multisafepay', c.target), headers, body: sent });
        },
        check: (_c, r) => replyCheck(r),
      },
      (m) => t.diagnostic(m),
    );
    assert.deepEqual(Object.keys(statuses), ['400']);
  });
});

// ---------------------------------------------------------------------------------------------------
// Correctly signed orders with arbitrary content: past verification, into the ledger

const PATHS = [
  'order_id',
  'status',
  'financial_status',
  'amount',
  'amount_refunded',
  'currency',
  'transaction_id',
  'var1',
  'reason',
  'reason_code',
  'modified',
  'completed',
  'payment_details',
  'payment_details.type',
  'payment_details.last4',
  'payment_details.response_code',
];

describe('correctly signed orders with arbitrary content: 200 "OK" or a 400 refusal, never a 5xx; the ledger stays consistent', () => {
  const runs = Math.max(100, Math.floor(FUZZ_HTTP_RUNS / 20));
  let sacrificial: OpenPayment[] = [];
  before(async () => {
    sacrificial = await openPayments(f, 4, 'SIGNED', 'EUR');
  });

  it(`${runs} signed mutations of payable orders`, async (t) => {
    const logsFrom = f.hub.logs.length;
    const result = await fuzzHttp({
      arbitrary: fc.record({
        index: fc.nat(),
        status: fc.constantFrom('completed', 'declined', 'refunded', 'partial_refunded'),
        mutations: fc.array(jsonMutation(PATHS), { minLength: 1, maxLength: 3 }),
      }),
      runs,
      send: (c) => {
        const p = sacrificial[c.index % sacrificial.length]!;
        const doc = JSON.parse(order(p.attemptId, p.amount, { status: c.status }).toString());
        for (const m of c.mutations) mutateJson(doc, m);
        const sent = Buffer.from(JSON.stringify(doc) ?? 'null');
        return f.client.request({
          method: 'POST',
          path: notifyPath(f, 'multisafepay', 'own'),
          headers: { 'content-type': 'application/json', auth: signNotification(f.credentials.api_key!, sent, Date.now() / 1000) },
          body: sent,
        });
      },
      check: (_c, r) => (r.status === 200 && r.text === 'OK' ? undefined : replyCheck(r)),
    });
    t.diagnostic(`${result.cases} cases, INCASSO_FUZZ_SEED=${FUZZ_SEED}, answers by HTTP status ${JSON.stringify(result.statuses)}`);
    const errors = errorLogLines(f.hub, logsFrom);
    assert.equal(result.failures.length, 0, `${describeFailures('signed orders', result)}\nerror log lines:\n${describeLogLines(errors)}`);
    assert.equal(errors.length, 0, `error lines:\n${describeLogLines(errors)}`);
    assert.deepEqual(await inconsistentPayments(f.hub), []);
  });
});
