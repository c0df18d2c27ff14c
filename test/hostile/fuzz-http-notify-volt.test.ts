import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { uniqueReferenceFor } from '../../src/connectors/volt/references.js';
import { signVoltNotification } from '../../src/connectors/volt/signature.js';
import {
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
 * Volt's notification endpoint (`POST /notify/volt/<connection id>`) under fire: FUZZ_HTTP_RUNS requests with arbitrary
 * bodies and signature headers (`User-Agent: Volt/<version>`, `X-Volt-Timed`, `X-Volt-Signed`) — missing, malformed,
 * a random HMAC, another application's notification secret, the right secret but signed too long ago or in the
 * future, the right signature over a payable notification whose bytes were then damaged — and correctly signed
 * notifications the ledger must refuse. Volt retries anything but 200: every refusal must be an empty 400 (a
 * correctly signed test notification an empty 200), never a 5xx, and nothing may change.
 */

let f: NotifyFixture;
const OTHER_SECRET = '9c0c8c97-c224-45ed-a195-23b54b1c67e5';

/** A payment notification as Volt sends it (compact JSON, non-ASCII escaped). */
function notification(reference: string, amount: number, over: Record<string, unknown> = {}): Buffer {
  return Buffer.from(
    JSON.stringify({
      payment: '5a5b2d3c-1f2e-4d5c-8b7a-6f5e4d3c2b1a',
      reference: uniqueReferenceFor(reference),
      merchantInternalReference: reference,
      amount,
      status: 'COMPLETED',
      detailedStatus: 'COMPLETED',
      groupName: 'Banca Test',
      ...over,
    }),
  );
}

let refused: Buffer[] = [];
/** Correctly signed "test notifications" (Volt's endpoint check): answered 200, recorded nowhere. */
const TEST_NOTIFICATIONS = [Buffer.alloc(0), Buffer.from('{}')];

before(async () => {
  f = await notifyFixture('volt', { currency: 'EUR' });
  const [p0, p1, p2] = f.payments as [OpenPayment, OpenPayment, OpenPayment];
  refused = [
    notification(p0.attemptId, 9_999_999),
    notification(p0.attemptId, p0.amount, { currency: 'GBP' }),
    notification('att_00000000000000000000000000', p0.amount),
    notification(p1.attemptId, p2.amount),
  ];
  for (const body of refused) {
    const r = await f.client.request({
      method: 'POST',
      path: notifyPath(f, 'volt', 'own'),
      headers: signatureHeaders(body, f.credentials.notification_secret!, 0, 'seconds', 'Volt/2.0'),
      body,
    });
    assert.equal(replyCheck(r), undefined, `${r.status} ${r.text}`);
  }
  const rows = await f.hub.store.db.selectFrom('notifications').select(['status', 'error']).execute();
  assert.ok(
    rows.every((r) => r.status === 'rejected' && !/X-Volt|signature|User-Agent/i.test(r.error ?? '')),
    `refused by the ledger, not for the signature: ${JSON.stringify(rows)}`,
  );
});

after(async () => {
  f?.client.close();
  await f?.hub.close();
});

type TimedForm = 'seconds' | 'millis' | 'compact' | 'junk';

function signatureHeaders(body: Buffer, secret: string, age: number, form: TimedForm, ua: string): Record<string, string> {
  const at = new Date(Date.now() - age * 1000);
  const timed =
    form === 'seconds'
      ? String(Math.floor(at.getTime() / 1000))
      : form === 'millis'
        ? String(at.getTime())
        : form === 'compact'
          ? at.toISOString().replace(/[-:T]/g, '').slice(0, 14)
          : at.toISOString();
  const version = /^Volt\/([0-9.]+)/.exec(ua)?.[1] ?? '2.0';
  return { 'user-agent': ua, 'x-volt-timed': timed, 'x-volt-signed': signVoltNotification(secret, body, timed, version) };
}

type Signature =
  | { kind: 'none' }
  | { kind: 'headers'; ua: string | undefined; timed: string | undefined; signed: string | undefined }
  | { kind: 'signed'; secret: 'own' | 'other'; age: number; form: TimedForm; ua: string; twice: boolean };

type Body = SignedJsonBody<string> | { kind: 'test'; index: number };

interface Case {
  target: NotifyTarget;
  contentType: string | undefined;
  headers: Record<string, string>;
  body: Body;
  signature: Signature;
}

const body: fc.Arbitrary<Body> = signedJsonBody(fc.constantFrom('COMPLETED', 'RECEIVED', 'SETTLED', 'FAILED', 'PENDING'), [
  { arbitrary: fc.record({ kind: fc.constant('test' as const), index: fc.nat() }), weight: 3 },
]);

const signature: fc.Arbitrary<Signature> = fc.oneof(
  { arbitrary: fc.constant({ kind: 'none' as const }), weight: 5 },
  {
    arbitrary: fc.record({
      kind: fc.constant('headers' as const),
      ua: fc.option(fc.oneof(fc.constantFrom('Volt/2.0', 'Volt/', 'volt/2.0', 'Volt/2.0.0.0.0', 'Volt/99999', 'Mozilla/5.0'), headerValue(40)), {
        nil: undefined,
      }),
      timed: fc.option(fc.oneof(fc.constantFrom('now', '20200231123456', '1631525064', '0', '-1', '99999999999999'), headerValue(20)), { nil: undefined }),
      signed: fc.option(fc.oneof(fc.stringMatching(/^[0-9a-fA-F]{64}$/), headerValue(80)), { nil: undefined }),
    }),
    weight: 15,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('signed' as const),
      secret: fc.constantFrom('own' as const, 'own' as const, 'own' as const, 'other' as const),
      // seconds before now: fresh, around the 3600 s age limit and the 300 s skew (beyond it by 100 s, so that a case
      // waiting for its turn cannot drift back inside), far past
      age: fc.oneof({ arbitrary: fc.constant(0), weight: 6 }, { arbitrary: fc.constantFrom(3599, 3601, 86_400, -299, -400, -86_400), weight: 4 }),
      form: fc.constantFrom<TimedForm>('seconds', 'seconds', 'millis', 'compact', 'junk'),
      ua: fc.constantFrom('Volt/2.0', 'Volt/2.0', 'Volt/1.0', 'Volt/2.0 (extra)', 'volt/2.0', 'VoltBot/2.0'),
      twice: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
    }),
    weight: 65,
  },
);

const cases: fc.Arbitrary<Case> = fc.record({
  target: notifyTarget,
  contentType: contentType(['application/json']),
  headers: extraHeaders(3),
  body,
  signature,
});

/** Whether a signature could verify (conservative: `true` may still fail, `false` never passes). */
function mayVerify(s: Signature): boolean {
  return s.kind === 'signed' && s.secret === 'own' && !s.twice && s.form !== 'junk' && /^Volt\//.test(s.ua) && s.age <= 3600 && s.age > -400;
}

/** The body the signature is computed over, and the one sent (see signedAndSent); a test notification as it is. */
function bodies(b: Body, s: Signature): { signed: Buffer; sent: Buffer } {
  if (b.kind === 'test') {
    const t = TEST_NOTIFICATIONS[b.index % TEST_NOTIFICATIONS.length]!;
    return { signed: t, sent: t };
  }
  return signedAndSent(b, {
    payments: f.payments,
    payable: (p, status) => notification(p.attemptId, p.amount, { status, detailedStatus: status }),
    refused,
    mayVerify: mayVerify(s),
  });
}

function headersFor(s: Signature, signed: Buffer): Record<string, string | string[]> {
  switch (s.kind) {
    case 'none':
      return {};
    case 'headers': {
      const out: Record<string, string> = {};
      if (s.ua !== undefined) out['user-agent'] = s.ua;
      if (s.timed !== undefined) out['x-volt-timed'] = s.timed === 'now' ? String(Math.floor(Date.now() / 1000)) : s.timed;
      if (s.signed !== undefined) out['x-volt-signed'] = s.signed;
      return out;
    }
    case 'signed': {
      const h: Record<string, string | string[]> = signatureHeaders(
        signed,
        s.secret === 'own' ? f.credentials.notification_secret! : OTHER_SECRET,
        s.age,
        s.form,
        s.ua,
      );
      if (s.twice) h['x-volt-signed'] = [h['x-volt-signed'] as string, '0'.repeat(64)];
      return h;
    }
  }
}

/** Volt's test notification: an empty body or an empty JSON object. */
function isTestNotification(b: Buffer): boolean {
  const text = b.toString('utf8').trim();
  if (text === '') return true;
  try {
    const v = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0;
  } catch {
    return false;
  }
}

/** Volt's acknowledgement: an empty 400 for a refusal, an empty 200 for a correctly signed test notification. */
function replyCheck(r: RawResponse, testNotification = false): string | undefined {
  if (r.error) return `no HTTP response (${r.error})`;
  const ok = testNotification ? [200, 400] : [400];
  if (!ok.includes(r.status)) return `HTTP ${r.status} ${String(r.headers['content-type'] ?? '')}`;
  if (r.text !== '') return `HTTP ${r.status} with a body ${JSON.stringify(r.text.slice(0, 60))}`;
  return undefined;
}

function send(c: Case) {
  const { signed, sent } = bodies(c.body, c.signature);
  const headers = { ...c.headers, ...(c.contentType ? { 'content-type': c.contentType } : {}), ...headersFor(c.signature, signed) } as Record<string, string>;
  return f.client.request({ method: 'POST', path: notifyPath(f, 'volt', c.target), headers, body: sent });
}

describe('POST /notify/volt/<connection>: an empty 400, and the ledger does not move', () => {
  it(`${FUZZ_HTTP_RUNS} generated notifications (arbitrary bodies and signature headers; payable notifications damaged after signing, stale, future or foreign)`, async (t) => {
    const check = (c: Case, r: RawResponse) =>
      replyCheck(r, c.target === 'own' && mayVerify(c.signature) && isTestNotification(bodies(c.body, c.signature).sent));
    const statuses = await fuzzNotifications(f, 'POST /notify/volt/…', { arbitrary: cases, send, check }, (m) => t.diagnostic(m));
    assert.ok(statuses['400']! > FUZZ_HTTP_RUNS * 0.9, JSON.stringify(statuses));
  });
});

// ---------------------------------------------------------------------------------------------------
// Correctly signed notifications with arbitrary content: past verification, into the ledger

const PATHS = [
  'payment',
  'reference',
  'merchantInternalReference',
  'amount',
  'currency',
  'status',
  'detailedStatus',
  'groupName',
  'refund',
  'externalReference',
  'error',
  'timestamp',
];

describe('correctly signed notifications with arbitrary content: 200 or 400, never a 5xx; the ledger stays consistent', () => {
  const runs = Math.max(100, Math.floor(FUZZ_HTTP_RUNS / 20));
  let sacrificial: OpenPayment[] = [];
  before(async () => {
    sacrificial = await openPayments(f, 4, 'SIGNED', 'EUR');
  });

  it(`${runs} signed mutations of payable notifications`, async (t) => {
    const logsFrom = f.hub.logs.length;
    const result = await fuzzHttp({
      arbitrary: fc.record({
        index: fc.nat(),
        status: fc.constantFrom('COMPLETED', 'FAILED', 'REFUND_CONFIRMED'),
        mutations: fc.array(jsonMutation(PATHS), { minLength: 1, maxLength: 3 }),
      }),
      runs,
      send: (c) => {
        const p = sacrificial[c.index % sacrificial.length]!;
        const doc = JSON.parse(notification(p.attemptId, p.amount, { status: c.status }).toString());
        for (const m of c.mutations) mutateJson(doc, m);
        const sent = Buffer.from(JSON.stringify(doc) ?? 'null');
        return f.client.request({
          method: 'POST',
          path: notifyPath(f, 'volt', 'own'),
          headers: signatureHeaders(sent, f.credentials.notification_secret!, 0, 'seconds', 'Volt/2.0'),
          body: sent,
        });
      },
      check: (_c, r) =>
        r.error ? `no HTTP response (${r.error})` : r.status !== 200 && r.status !== 400 ? `HTTP ${r.status}` : r.text !== '' ? 'a body' : undefined,
    });
    t.diagnostic(`${result.cases} cases, INCASSO_FUZZ_SEED=${FUZZ_SEED}, answers by HTTP status ${JSON.stringify(result.statuses)}`);
    const errors = errorLogLines(f.hub, logsFrom);
    assert.equal(result.failures.length, 0, `${describeFailures('signed notifications', result)}\nerror log lines:\n${describeLogLines(errors)}`);
    assert.equal(errors.length, 0, `error lines:\n${describeLogLines(errors)}`);
    assert.deepEqual(await inconsistentPayments(f.hub), []);
  });
});
