import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createSign, generateKeyPairSync, createPrivateKey, type KeyObject } from 'node:crypto';
import { sql } from 'kysely';
import fc from 'fast-check';
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
 * NETOPIA v2's IPN endpoint (`POST /notify/netopia-v2/<connection id>`) under fire: FUZZ_HTTP_RUNS requests with arbitrary
 * bodies and `Verification-token` headers — garbage, JWT look-alikes, tokens signed by NETOPIA's own key with a
 * wrong claim, tokens over the genuine body of a payable IPN whose bytes were then damaged, genuine IPNs the
 * ledger must refuse. Every answer must be NETOPIA's JSON reply with HTTP 200 and errorType 2 (never 1, which
 * would make NETOPIA retry garbage, never a 5xx), and the ledger must not move. A second run signs arbitrary
 * mutations of payable IPNs correctly: the verified path must answer 0 or 2 and keep the ledger consistent.
 */

let f: NotifyFixture;
let platformKey: KeyObject;
let pos = '';
const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;

const b64url = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const sub = (body: Buffer) => createHash('sha512').update(body).digest('base64');

const signatures = new Map<string, string>();

/** A compact JWS signed RSA-SHA512 over any header and claims (jose refuses to build the hostile ones); memoized. */
function rs512(header: Record<string, unknown>, claims: Record<string, unknown>, key: KeyObject): string {
  const input = `${b64url(header)}.${b64url(claims)}`;
  const memo = `${key === platformKey ? 'p' : 'o'}${input}`;
  let signature = signatures.get(memo);
  if (signature === undefined) {
    if (signatures.size > 5000) signatures.clear();
    signature = createSign('sha512').update(input).sign(key).toString('base64url');
    signatures.set(memo, signature);
  }
  return `${input}.${signature}`;
}

/** An IPN as NETOPIA sends it for a hosted-page payment (compact JSON, amount in major units). */
function ipn(orderID: string, amountMinor: number, over: { status?: number; currency?: string; amount?: number } = {}): Buffer {
  return Buffer.from(
    JSON.stringify({
      order: { orderID, data: {} },
      payment: {
        method: 1,
        ntpID: '1234567',
        status: over.status ?? 3,
        amount: over.amount ?? amountMinor / 100,
        currency: over.currency ?? 'RON',
        code: '00',
        message: 'Approved',
        instrument: { panMasked: '9****5098' },
        data: { AuthCode: 'A1B2C3', BIN: '990000', ISSUER: 'Netopia GB', ISSUER_COUNTRY: '642', RRN: '123456789012' },
      },
    }),
  );
}

/** Genuine IPNs (signed with NETOPIA's key, for this POS) that the ledger must refuse, each by more than one byte. */
let refused: Buffer[] = [];

before(async () => {
  f = await notifyFixture('netopia-v2', { currency: 'RON', count: 3 });
  const row = await sql<{ private_key_pem: string }>`SELECT private_key_pem FROM emu_netopia_v2_platform_key LIMIT 1`.execute(f.hub.store.db);
  platformKey = createPrivateKey(row.rows[0]!.private_key_pem);
  pos = f.credentials.pos_signature!;
  const [p] = f.payments as [OpenPayment];
  refused = [
    ipn(p.attemptId, p.amount, { amount: 99999.99 }),
    ipn(p.attemptId, p.amount, { currency: 'EUR' }),
    ipn('att_00000000000000000000000000', p.amount),
    ipn(f.payments[1]!.attemptId, f.payments[2]!.amount),
  ];
  // Sanity: each is refused as it is, correctly signed (by the ledger checks, not by the token).
  for (const body of refused) {
    const r = await f.client.request({
      method: 'POST',
      path: notifyPath(f, 'netopia-v2', 'own'),
      headers: { 'verification-token': rs512({ alg: 'RS512', typ: 'JWT' }, claims(body), platformKey) },
      body,
    });
    assert.equal(replyCheck(r), undefined, r.text);
    assert.notEqual(JSON.parse(r.text).errorCode, 0x10000106, 'refused by the ledger, not for a tainted payload');
  }
});

after(async () => {
  f?.client.close();
  await f?.hub.close();
});

const claims = (body: Buffer, extra: Record<string, unknown> = {}) => ({
  iss: 'NETOPIA Payments',
  aud: pos,
  iat: Math.floor(Date.now() / 1000),
  sub: sub(body),
  ...extra,
});

type Body = SignedJsonBody<number>;

type ClaimEdit = { name: 'iss' | 'aud' | 'sub' | 'iat' | 'exp' | 'nbf'; value: unknown };

type Token =
  | { kind: 'none' }
  | { kind: 'text'; value: string }
  | { kind: 'lookalike'; header: string; payload: string; signature: string }
  | { kind: 'signed'; header: Record<string, unknown>; edits: ClaimEdit[]; key: 'platform' | 'other'; twice: boolean };

interface Case {
  target: NotifyTarget;
  contentType: string | undefined;
  headers: Record<string, string>;
  body: Body;
  token: Token;
}

const body: fc.Arbitrary<Body> = signedJsonBody(fc.constantFrom(3, 5, 8, 12, 15));

const claimEdit: fc.Arbitrary<ClaimEdit> = fc.oneof(
  fc.record({ name: fc.constant('iss' as const), value: fc.constantFrom(undefined, 'NETOPIA', 'netopia payments', 'NETOPIA Payments ', 1, null) }),
  fc.record({
    name: fc.constant('aud' as const),
    value: fc.constantFrom(undefined, 'ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ', [], ['ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ'], '', null, 42),
  }),
  fc.record({
    name: fc.constant('sub' as const),
    value: fc.oneof(
      fc.constantFrom(undefined, '', null, 0),
      anyString(90),
      fc.uint8Array({ minLength: 64, maxLength: 64 }).map((b) => Buffer.from(b).toString('base64')),
    ),
  }),
  fc.record({ name: fc.constantFrom('iat' as const, 'exp' as const, 'nbf' as const), value: fc.constantFrom('now', -1, 'x', null, 1e308, 0) }),
);

const token: fc.Arbitrary<Token> = fc.oneof(
  { arbitrary: fc.constant({ kind: 'none' as const }), weight: 5 },
  { arbitrary: fc.record({ kind: fc.constant('text' as const), value: headerValue(300) }), weight: 10 },
  {
    arbitrary: fc.record({
      kind: fc.constant('lookalike' as const),
      header: fc.oneof(
        fc.constantFrom(b64url({ alg: 'RS512', typ: 'JWT' }), b64url({ alg: 'none', typ: 'JWT' }), b64url({ alg: 'HS512', typ: 'JWT' })),
        fc.json().map(b64url),
      ),
      payload: fc.oneof(fc.json().map(b64url), fc.constant('')),
      signature: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('base64url')),
    }),
    weight: 15,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('signed' as const),
      header: fc.oneof(
        { arbitrary: fc.constant({ alg: 'RS512', typ: 'JWT' }), weight: 8 },
        {
          arbitrary: fc.constantFrom(
            { alg: 'RS256', typ: 'JWT' },
            { alg: 'PS512', typ: 'JWT' },
            { alg: 'RS512' },
            { alg: 'RS512', typ: 'JOSE' },
            { alg: 'RS512', typ: 'JWT', crit: ['b64'] },
            { alg: 'rs512', typ: 'JWT' },
          ),
          weight: 2,
        },
      ),
      edits: fc.array(claimEdit, { maxLength: 2 }),
      key: fc.constantFrom('platform' as const, 'platform' as const, 'platform' as const, 'other' as const),
      twice: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
    }),
    weight: 70,
  },
);

const cases: fc.Arbitrary<Case> = fc.record({
  target: notifyTarget,
  contentType: contentType(['application/json', 'application/json; charset=utf-8']),
  headers: extraHeaders(3),
  body,
  token,
});

/**
 * Whether a token could pass verification over its body: signed by NETOPIA's key, RS512/JWT, and no claim edit that
 * surely breaks it. Conservative: a token this calls verifiable may still fail, never the other way round.
 */
function mayVerify(t: Token): boolean {
  if (t.kind !== 'signed') return false;
  if (t.key !== 'platform' || t.twice || t.header.alg !== 'RS512' || t.header.typ !== 'JWT' || t.header.crit !== undefined) return false;
  // The last edit of a claim is the one the token carries; every value the edits give iss, aud and sub is wrong.
  const final = new Map(t.edits.map((e) => [e.name, e.value] as const));
  const breaks = (name: ClaimEdit['name'], bad: unknown[]) => final.has(name) && bad.includes(final.get(name));
  if (final.has('iss') || final.has('aud') || final.has('sub')) return false;
  return !(breaks('iat', [-1, 'x', null]) || breaks('exp', [-1, 'x', null, 0]) || breaks('nbf', [-1, 'x', null, 1e308]));
}

/** The body the token is computed over, and the body that is sent (see signedAndSent). */
function bodies(b: Body, t: Token): { signed: Buffer; sent: Buffer } {
  return signedAndSent(b, { payments: f.payments, payable: (p, status) => ipn(p.attemptId, p.amount, { status }), refused, mayVerify: mayVerify(t) });
}

function tokenFor(t: Token, signedBody: Buffer): string | string[] | undefined {
  switch (t.kind) {
    case 'none':
      return undefined;
    case 'text':
      return t.value;
    case 'lookalike':
      return `${t.header}.${t.payload}.${t.signature}`;
    case 'signed': {
      const c: Record<string, unknown> = claims(signedBody);
      for (const e of t.edits) {
        if (e.value === undefined) delete c[e.name];
        else c[e.name] = e.value === 'now' ? Math.floor(Date.now() / 1000) : e.value;
      }
      const jwt = rs512(t.header, c, t.key === 'platform' ? platformKey : otherKey);
      return t.twice ? [jwt, rs512(t.header, { ...c, iat: 1 }, platformKey)] : jwt;
    }
  }
}

/** NETOPIA's reply form: HTTP 200, JSON with exactly errorType, errorCode and errorMessage. */
function replyCheck(r: RawResponse, allowed: readonly number[] = [2]): string | undefined {
  if (r.error) return `no HTTP response (${r.error})`;
  if (r.status !== 200) return `HTTP ${r.status} ${String(r.headers['content-type'] ?? '')}`;
  if (!/^application\/json/.test(String(r.headers['content-type'] ?? ''))) return `HTTP 200 with ${r.headers['content-type']}`;
  let reply: Record<string, unknown>;
  try {
    reply = JSON.parse(r.text);
  } catch {
    return 'the reply is not JSON';
  }
  if (Object.keys(reply).join() !== 'errorType,errorCode,errorMessage') return `reply keys ${Object.keys(reply).join()}`;
  if (!allowed.includes(reply.errorType as number)) return `errorType ${String(reply.errorType)} (${String(reply.errorMessage).slice(0, 60)})`;
  if (reply.errorType === 0) return reply.errorCode === null && reply.errorMessage === '' ? undefined : 'a success reply with an error code';
  if (!Number.isSafeInteger(reply.errorCode) || reply.errorCode === 0) return `errorCode ${String(reply.errorCode)}`;
  if (typeof reply.errorMessage !== 'string' || reply.errorMessage === '') return 'an error reply without a message';
  return undefined;
}

function send(c: Case) {
  const { signed, sent } = bodies(c.body, c.token);
  const jwt = tokenFor(c.token, signed);
  const headers: Record<string, string> = { ...c.headers, ...(c.contentType ? { 'content-type': c.contentType } : {}) };
  if (jwt !== undefined) (headers as Record<string, string | string[]>)['verification-token'] = jwt;
  return f.client.request({ method: 'POST', path: notifyPath(f, 'netopia-v2', c.target), headers, body: sent });
}

describe("POST /notify/netopia-v2/<connection>: NETOPIA's JSON reply with errorType 2, and the ledger does not move", () => {
  it(`${FUZZ_HTTP_RUNS} generated IPNs (arbitrary bodies and tokens; payable IPNs damaged after signing or under a broken token; genuine IPNs the ledger refuses)`, async (t) => {
    const statuses = await fuzzNotifications(f, 'POST /notify/netopia-v2/…', { arbitrary: cases, send, check: (_c, r) => replyCheck(r) }, (m) =>
      t.diagnostic(m),
    );
    assert.deepEqual(Object.keys(statuses), ['200']);
  });
});

// ---------------------------------------------------------------------------------------------------
// Correctly signed IPNs with arbitrary content: past verification, into the ledger

const PATHS = [
  'order.orderID',
  'order',
  'payment',
  'payment.status',
  'payment.amount',
  'payment.currency',
  'payment.ntpID',
  'payment.code',
  'payment.message',
  'payment.instrument',
  'payment.instrument.panMasked',
  'payment.data',
  'payment.data.ISSUER',
  'error',
  'error.code',
];

describe('correctly signed IPNs with arbitrary content: errorType 0 or 2, never a retry or a 5xx; the ledger stays consistent', () => {
  const runs = Math.max(100, Math.floor(FUZZ_HTTP_RUNS / 20));
  let sacrificial: OpenPayment[] = [];
  before(async () => {
    sacrificial = await openPayments(f, 4, 'SIGNED', 'RON');
  });

  it(`${runs} signed mutations of payable IPNs`, async (t) => {
    const logsFrom = f.hub.logs.length;
    const arbitrary = fc.record({
      index: fc.nat(),
      status: fc.constantFrom(3, 5, 8, 12, 15),
      mutations: fc.array(jsonMutation(PATHS), { minLength: 1, maxLength: 3 }),
    });
    const result = await fuzzHttp({
      arbitrary,
      runs,
      send: (c) => {
        const p = sacrificial[c.index % sacrificial.length]!;
        const doc = JSON.parse(ipn(p.attemptId, p.amount, { status: c.status }).toString());
        for (const m of c.mutations) mutateJson(doc, m);
        const sent = Buffer.from(JSON.stringify(doc) ?? 'null');
        return f.client.request({
          method: 'POST',
          path: notifyPath(f, 'netopia-v2', 'own'),
          headers: { 'verification-token': rs512({ alg: 'RS512', typ: 'JWT' }, claims(sent), platformKey) },
          body: sent,
        });
      },
      check: (_c, r) => replyCheck(r, [0, 2]),
    });
    t.diagnostic(`${result.cases} cases, INCASSO_FUZZ_SEED=${FUZZ_SEED}, answers by HTTP status ${JSON.stringify(result.statuses)}`);
    const errors = errorLogLines(f.hub, logsFrom);
    assert.equal(result.failures.length, 0, `${describeFailures('signed IPNs', result)}\nerror log lines:\n${describeLogLines(errors)}`);
    assert.equal(errors.length, 0, `error lines:\n${describeLogLines(errors)}`);
    assert.deepEqual(await inconsistentPayments(f.hub), []);
  });
});

describe('signed IPNs the database cannot store (found by this fuzz): a permanent refusal, not a retry', () => {
  it('U+0000 or a lone surrogate in orderID, message or data → errorType 2, nothing logged at error level', async () => {
    const p = f.payments[0]!;
    const logsFrom = f.hub.logs.length;
    const wrong: string[] = [];
    for (const [name, edit] of [
      ['orderID with U+0000', (d: any) => (d.order.orderID = `${p.attemptId}\u0000`)],
      ['orderID that is only U+0000', (d: any) => (d.order.orderID = '\u0000')],
      ['payment.message with U+0000', (d: any) => (d.payment.message = 'Appro\u0000ved')],
      ['payment.data.ISSUER with a lone surrogate', (d: any) => (d.payment.data.ISSUER = 'Netopia \ud800')],
      ['a key with U+0000 in payment.data', (d: any) => (d.payment.data['a\u0000'] = 'x')],
    ] as const) {
      const doc = JSON.parse(ipn(p.attemptId, p.amount, { amount: 1 }).toString());
      edit(doc);
      const sent = Buffer.from(JSON.stringify(doc));
      const r = await f.client.request({
        method: 'POST',
        path: notifyPath(f, 'netopia-v2', 'own'),
        headers: { 'verification-token': rs512({ alg: 'RS512', typ: 'JWT' }, claims(sent), platformKey) },
        body: sent,
      });
      const problem = replyCheck(r);
      if (problem) wrong.push(`${name}: ${problem}`);
    }
    assert.deepEqual(wrong, []);
    const errors = errorLogLines(f.hub, logsFrom);
    assert.equal(errors.length, 0, describeLogLines(errors));
  });
});

describe("every acquirer's notification URL, with a method or path no route matches: still the acquirer's reply form", () => {
  // What each protocol's refusal looks like: NETOPIA v2's JSON, MultiSafepay's "ERROR", Nexi's "KO", Volt's empty 400.
  const FORMS: Record<string, (r: RawResponse) => boolean> = {
    'netopia-v2': (r) => r.status === 200 && JSON.parse(r.text).errorType === 2,
    multisafepay: (r) => r.status === 400 && /^ERROR \d+: /.test(r.text),
    nexi: (r) => r.status === 200 && /^KO \d+: /.test(r.text),
    volt: (r) => r.status === 400 && r.text === '',
  };
  it('PUT, PATCH, DELETE and GET (with or without a body the native parsers refuse), POST without a connection id, POST with a Content-Type no parser reads', async () => {
    const wrong: string[] = [];
    for (const [provider, isReply] of Object.entries(FORMS)) {
      for (const [method, path, headers, body] of <Array<[string, string, Record<string, string>, string | undefined]>>[
        ['PUT', `/notify/${provider}/${f.connectionId}`, { 'content-type': 'application/json' }, '{"a":'],
        ['PATCH', `/notify/${provider}/${f.connectionId}`, { 'content-type': 'application/json' }, ''],
        ['DELETE', `/notify/${provider}/${f.connectionId}`, {}, ''],
        ['GET', `/notify/${provider}/${f.connectionId}?transactionid=1`, {}, undefined],
        ['POST', `/notify/${provider}/`, { 'content-type': 'application/json' }, '{}'],
        ['POST', `/notify/${provider}/${f.connectionId}`, { 'content-type': '\u00ff/\u00ff' }, '{}'],
      ]) {
        const r = await f.client.request({ method, path, headers, body });
        let ok = false;
        try {
          ok = !r.error && isReply(r);
        } catch {
          ok = false;
        }
        if (!ok) wrong.push(`${method} ${path.slice(0, 50)} → ${r.status} ${String(r.headers['content-type'] ?? '')} ${r.text.slice(0, 80)}`);
      }
    }
    assert.deepEqual(wrong, []);
  });
});
