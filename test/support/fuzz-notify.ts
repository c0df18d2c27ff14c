// Shared setup for the notification-endpoint fuzz suites of the acquirers (test/hostile/fuzz-http-notify-*.test.ts):
// a hub with one emulator-provisioned connection of the provider and a few open payments to aim forged
// notifications at, the connection's real credentials (to sign the genuine-but-refused ones), a full dump of
// the ledger to compare before and after, the URL targets, and byte-level damage that always changes a body.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { apiClient, startTestHub, type TestHub } from './hub.js';
import {
  anyString,
  describeFailures,
  describeLogLines,
  errorLogLines,
  FUZZ_HTTP_RUNS,
  FUZZ_SEED,
  fuzzHttp,
  pathSegment,
  rawHttpClient,
  type RawResponse,
} from './fuzz.js';

export interface OpenPayment {
  id: string;
  /** The attempt id: the reference every processor echoes back (orderID, order_id, codTrans, merchantInternalReference). */
  attemptId: string;
  amount: number;
  currency: string;
}

export interface NotifyFixture {
  hub: TestHub;
  client: ReturnType<typeof rawHttpClient>;
  api: ReturnType<typeof apiClient>;
  connectionId: string;
  /** A connection of another provider: its id on this provider's URL is an unknown connection. */
  foreignConnectionId: string;
  /** The connection's credentials as stored (decrypted from the vault): what the genuine processor would sign with. */
  credentials: Record<string, string>;
  payments: OpenPayment[];
}

const BILLING = {
  first_name: 'Giulia',
  last_name: 'Rossi',
  email: 'giulia@example.it',
  phone: '+393331234567',
  address: 'Via Roma 1',
  city: 'Milano',
  country: 'IT',
};

/**
 * A hub (errors-only log: only error lines are asserted on, and not formatting ~10 000 request lines keeps the
 * run short), a merchant, an emulator connection of `provider` and `count` open payments on it.
 */
export async function notifyFixture(provider: string, options: { currency: string; count?: number }): Promise<NotifyFixture> {
  const hub = await startTestHub({ emulators: true, logLevel: 'error' });
  const client = rawHttpClient(hub.url, 16);
  const merchant = await apiClient(hub.url, hub.adminKey)('POST', '/v1/merchants', { name: `Fuzz ${provider} SRL` });
  assert.equal(merchant.status, 201, JSON.stringify(merchant.body));
  const api = apiClient(hub.url, merchant.body.api_key);
  const c = await api('POST', '/v1/connections', { code: 'target', provider, environment: 'emulator' });
  assert.equal(c.status, 201, JSON.stringify(c.body));
  const foreign = await api('POST', '/v1/connections', { code: 'foreign', provider: provider === 'nexi' ? 'volt' : 'nexi', environment: 'emulator' });
  assert.equal(foreign.status, 201, JSON.stringify(foreign.body));
  const row = await hub.store.db.selectFrom('connections').selectAll().where('id', '=', c.body.id).executeTakeFirstOrThrow();
  const credentials = JSON.parse(hub.ctx.vault.decrypt(row.credentials_encrypted, `connection:${row.id}`)) as Record<string, string>;
  const payments: OpenPayment[] = [];
  for (let i = 0; i < (options.count ?? 3); i++) {
    const amount = 1000 + 1111 * i;
    const p = await api('POST', '/v1/payments', {
      connection: 'target',
      order_id: `NTF-${provider}-${i}`,
      amount,
      currency: options.currency,
      description: 'Caffe e cornetto',
      billing: BILLING,
      return_url: 'https://shop.example/thanks',
    });
    assert.equal(p.status, 201, JSON.stringify(p.body));
    payments.push({ id: p.body.id, attemptId: p.body.attempts[0].id, amount, currency: options.currency });
  }
  return { hub, client, api, connectionId: c.body.id, foreignConnectionId: foreign.body.id, credentials, payments };
}

/**
 * Everything a notification could move, dumped in a stable order: payments, attempts, refunds, payment steps,
 * events and webhook deliveries. Two equal dumps mean the ledger did not change.
 */
export async function ledgerDump(hub: TestHub): Promise<string> {
  const db = hub.store.db;
  const [payments, attempts, refunds, steps, events, deliveries] = await Promise.all([
    db.selectFrom('payments').selectAll().orderBy('id').execute(),
    db.selectFrom('payment_attempts').selectAll().orderBy('id').execute(),
    db.selectFrom('refunds').selectAll().orderBy('id').execute(),
    db.selectFrom('payment_steps').selectAll().orderBy('payment_id').execute(),
    db.selectFrom('events').select(['id', 'type', 'payment_id']).orderBy('id').execute(),
    db.selectFrom('webhook_deliveries').select(['id', 'event_id']).orderBy('id').execute(),
  ]);
  return JSON.stringify({ payments, attempts, refunds, steps, events, deliveries });
}

/** `count` more open payments on the fixture's connection (for runs that may move them). */
export async function openPayments(f: NotifyFixture, count: number, prefix: string, currency: string): Promise<OpenPayment[]> {
  const out: OpenPayment[] = [];
  for (let i = 0; i < count; i++) {
    const amount = 2000 + 37 * i;
    const p = await f.api('POST', '/v1/payments', {
      connection: 'target',
      order_id: `${prefix}-${i}`,
      amount,
      currency,
      description: 'Ceai verde',
      billing: BILLING,
    });
    assert.equal(p.status, 201, JSON.stringify(p.body));
    out.push({ id: p.body.id, attemptId: p.body.attempts[0].id, amount, currency });
  }
  return out;
}

/** Payments whose amounts contradict each other (more captured than the amount, more refunded than captured, …). */
export async function inconsistentPayments(hub: TestHub): Promise<string[]> {
  const rows = await hub.store.db.selectFrom('payments').selectAll().execute();
  return rows
    .filter(
      (p) =>
        p.amount_authorized > p.amount ||
        p.amount_captured > p.amount ||
        p.amount_refunded > p.amount_captured ||
        Math.min(p.amount_authorized, p.amount_captured, p.amount_refunded) < 0,
    )
    .map((p) => `${p.id} ${p.status}: authorized ${p.amount_authorized}, captured ${p.amount_captured}, refunded ${p.amount_refunded} of ${p.amount}`);
}

// ---------------------------------------------------------------------------------------------------
// Field-level mutations of a JSON document (for correctly signed bodies with arbitrary content)

export type JsonMutation = { path: string; value: unknown } | { path: string; drop: true };

/** Values that are wrong, or right in ways code rarely expects. */
export const wrongJsonValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    0,
    1,
    3,
    5,
    8,
    12,
    15,
    23,
    99,
    -1,
    1.5,
    1e21,
    2 ** 53,
    '3',
    null,
    true,
    [],
    {},
    '',
    'RON',
    'EUR',
    'GBP',
    'XXX',
    0.001,
    10.005,
    99999999.99,
    'COMPLETED',
    'completed',
    'REFUND_CONFIRMED',
    '\u0000',
    'a\u0000b',
    '\ud800',
  ),
  anyString(40),
  fc.anything({ maxDepth: 2 }),
);

export const jsonMutation = (paths: readonly string[]): fc.Arbitrary<JsonMutation> =>
  fc.oneof(
    { arbitrary: fc.record({ path: fc.constantFrom(...paths), value: wrongJsonValue }), weight: 4 },
    { arbitrary: fc.record({ path: fc.constantFrom(...paths), drop: fc.constant(true as const) }), weight: 1 },
  );

export function mutateJson(doc: Record<string, unknown>, m: JsonMutation): void {
  const parts = m.path.split('.');
  let node = doc;
  for (const p of parts.slice(0, -1)) {
    if (typeof node[p] !== 'object' || node[p] === null) node[p] = {};
    node = node[p] as Record<string, unknown>;
  }
  if ('drop' in m) delete node[parts.at(-1)!];
  else Object.defineProperty(node, parts.at(-1)!, { value: m.value, enumerable: true, writable: true, configurable: true });
}

/** Where a case sends its notification: the connection's own URL (mostly), another provider's connection, any id. */
export type NotifyTarget = 'own' | 'foreign' | { segment: string };

export const notifyTarget: fc.Arbitrary<NotifyTarget> = fc.oneof(
  { arbitrary: fc.constant('own' as const), weight: 8 },
  { arbitrary: fc.constant('foreign' as const), weight: 1 },
  {
    arbitrary: pathSegment(40)
      .filter((s) => s.length > 0 && s.length <= 100)
      .map((segment) => ({ segment })),
    weight: 1,
  },
);

export function notifyPath(f: NotifyFixture, provider: string, target: NotifyTarget, query?: string): string {
  const id = target === 'own' ? f.connectionId : target === 'foreign' ? f.foreignConnectionId : target.segment;
  return `/notify/${provider}/${id}${query === undefined ? '' : `?${query}`}`;
}

/** Payment rows of the fixture, for a readable message when the dumps differ. */
export async function paymentStates(f: NotifyFixture): Promise<string[]> {
  const rows = await f.hub.store.db
    .selectFrom('payments')
    .select(['id', 'status', 'amount_authorized', 'amount_captured', 'amount_refunded'])
    .orderBy('id')
    .execute();
  return rows.map((r) => `${r.id} ${r.status} auth=${r.amount_authorized} cap=${r.amount_captured} ref=${r.amount_refunded}`);
}

/** Counts of the stored notifications by status: every fuzzed one must have been refused. */
export async function notificationStatusCounts(hub: TestHub): Promise<Record<string, number>> {
  const rows = await hub.store.db
    .selectFrom('notifications')
    .select('status')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .groupBy('status')
    .execute();
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

/**
 * Fires the cases and asserts what every notification suite asserts: each answer passes `check` (the processor's
 * own reply form), the hub logged no error line, the ledger dump is unchanged, every stored notification was refused.
 */
export async function fuzzNotifications<C>(
  f: NotifyFixture,
  name: string,
  options: { arbitrary: fc.Arbitrary<C>; send: (c: C) => Promise<RawResponse>; check: (c: C, r: RawResponse) => string | undefined; runs?: number },
  diagnostic: (message: string) => void,
): Promise<Record<string, number>> {
  const before = await ledgerDump(f.hub);
  const logsFrom = f.hub.logs.length;
  const result = await fuzzHttp({ ...options, runs: options.runs ?? FUZZ_HTTP_RUNS });
  diagnostic(`${result.cases} cases, INCASSO_FUZZ_SEED=${FUZZ_SEED}, answers by HTTP status ${JSON.stringify(result.statuses)}`);
  const errors = errorLogLines(f.hub, logsFrom);
  assert.equal(result.failures.length, 0, `${describeFailures(name, result)}\nerror log lines:\n${describeLogLines(errors)}`);
  assert.equal(await ledgerDump(f.hub), before, `the ledger moved: ${(await paymentStates(f)).join('; ')}`);
  const counts = await notificationStatusCounts(f.hub);
  const unsettled = await f.hub.store.db
    .selectFrom('notifications')
    .select(['id', 'status', 'error', 'connection_id', 'content_type', 'body'])
    .where('status', '!=', 'rejected')
    .limit(3)
    .execute();
  const shown = unsettled.map((n) => JSON.stringify({ ...n, body: Buffer.from(n.body).toString('latin1').slice(0, 200) }));
  assert.deepEqual(
    Object.keys(counts).filter((s) => s !== 'rejected'),
    [],
    `notifications by status: ${JSON.stringify(counts)}; e.g. ${shown.join('\n')}\nerror log lines:\n${describeLogLines(errors)}`,
  );
  assert.equal(errors.length, 0, `the fuzz made the hub log ${errors.length} error lines:\n${describeLogLines(errors)}`);
  return result.statuses;
}

// ---------------------------------------------------------------------------------------------------
// Damage to raw bytes (a signed body altered in transit)

export type ByteDamage =
  | { op: 'xor'; at: number; with: number }
  | { op: 'truncate'; at: number }
  | { op: 'insert'; at: number; text: string }
  | { op: 'delete'; at: number; n: number }
  | { op: 'replace'; from: string; to: string }
  | { op: 'append' | 'prepend'; text: string };

export const byteDamage: fc.Arbitrary<ByteDamage> = fc.oneof(
  fc.record({ op: fc.constant('xor' as const), at: fc.nat(), with: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    op: fc.constant('insert' as const),
    at: fc.nat(),
    text: fc.constantFrom(' ', '\n', '\u0000', ',', '"', '0', '}', 'é', '\\u0000', '&', '=', '%00'),
  }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 8 }) }),
  fc
    .constantFrom(
      ['"status":3', '"status":5'],
      ['completed', 'initialized'],
      ['COMPLETED', 'FAILED'],
      ['esito=OK', 'esito=KO'],
      ['"amount":', '"amount":1'],
      ['"currency":"EUR"', '"currency":"GBP"'],
      ['"currency":"RON"', '"currency":"EUR"'],
      ['att_', 'att-'],
      [':', ': '],
      [',', ', '],
    )
    .map(([from, to]) => ({ op: 'replace' as const, from, to })),
  fc.record({ op: fc.constantFrom('append' as const, 'prepend' as const), text: fc.constantFrom(' ', '\n', '\r\n', '\ufeff', '{}', '&x=1', '\u0000') }),
);

/** Applies one damage; the result always differs from the input (a no-op damage flips the first byte instead). */
export function damageBytes(input: Buffer, d: ByteDamage): Buffer {
  let out: Buffer;
  switch (d.op) {
    case 'xor': {
      out = Buffer.from(input);
      if (out.length > 0) out[d.at % out.length]! ^= d.with;
      break;
    }
    case 'truncate':
      out = input.subarray(0, input.length === 0 ? 0 : d.at % input.length);
      break;
    case 'insert': {
      const i = d.at % (input.length + 1);
      out = Buffer.concat([input.subarray(0, i), Buffer.from(d.text, 'utf8'), input.subarray(i)]);
      break;
    }
    case 'delete': {
      const i = input.length === 0 ? 0 : d.at % input.length;
      out = Buffer.concat([input.subarray(0, i), input.subarray(i + d.n)]);
      break;
    }
    case 'replace':
      out = Buffer.from(input.toString('latin1').replace(d.from, d.to), 'latin1');
      break;
    case 'append':
      out = Buffer.concat([input, Buffer.from(d.text, 'utf8')]);
      break;
    case 'prepend':
      out = Buffer.concat([Buffer.from(d.text, 'utf8'), input]);
      break;
  }
  if (out.equals(input)) {
    out = Buffer.from(input.length === 0 ? ' ' : input);
    if (input.length > 0) out[0]! ^= 0x20;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Bodies of the signed-JSON suites (NETOPIA v2, MultiSafepay, Volt)

/**
 * A notification body: a genuine one for an open payment with the status `S` (optionally damaged in transit), a
 * genuine one the ledger must refuse, arbitrary JSON or text, arbitrary bytes, or one over the body limit.
 */
export type SignedJsonBody<S> =
  | { kind: 'payable'; index: number; status: S; damage: ByteDamage | undefined }
  | { kind: 'refused'; index: number; damage: ByteDamage | undefined }
  | { kind: 'json'; text: string }
  | { kind: 'bytes'; bytes: Buffer }
  | { kind: 'huge'; size: number };

/** The weighted bodies; `extra` adds a suite's own kinds, weighed on the same scale (the shared ones sum to 91). */
export function signedJsonBody<S, E = never>(
  statuses: fc.Arbitrary<S>,
  extra: Array<{ arbitrary: fc.Arbitrary<E>; weight: number }> = [],
): fc.Arbitrary<SignedJsonBody<S> | E> {
  return fc.oneof<Array<fc.WeightedArbitrary<SignedJsonBody<S> | E>>>(
    {
      arbitrary: fc.record({
        kind: fc.constant('payable' as const),
        index: fc.nat(),
        status: statuses,
        damage: fc.option(byteDamage, { nil: undefined, freq: 4 }),
      }),
      weight: 35,
    },
    { arbitrary: fc.record({ kind: fc.constant('refused' as const), index: fc.nat(), damage: fc.option(byteDamage, { nil: undefined }) }), weight: 25 },
    ...extra,
    { arbitrary: fc.record({ kind: fc.constant('json' as const), text: fc.oneof(fc.json(), anyString(200)) }), weight: 20 },
    { arbitrary: fc.record({ kind: fc.constant('bytes' as const), bytes: fc.uint8Array({ maxLength: 1024 }).map((b) => Buffer.from(b)) }), weight: 10 },
    { arbitrary: fc.record({ kind: fc.constant('huge' as const), size: fc.constantFrom(256 * 1024 + 1, 400_000) }), weight: 1 },
  );
}

/**
 * The body a signature is computed over, and the body that is sent: a payable body under a signature that may
 * verify is always damaged, so that no generated case is a genuine payment.
 */
export function signedAndSent<S>(
  b: SignedJsonBody<S>,
  o: { payments: readonly OpenPayment[]; payable: (p: OpenPayment, status: S) => Buffer; refused: readonly Buffer[]; mayVerify: boolean },
): { signed: Buffer; sent: Buffer } {
  switch (b.kind) {
    case 'payable': {
      const original = o.payable(o.payments[b.index % o.payments.length]!, b.status);
      const damage = b.damage ?? (o.mayVerify ? ({ op: 'xor', at: 0, with: 1 } as const) : undefined);
      return { signed: original, sent: damage ? damageBytes(original, damage) : original };
    }
    case 'refused': {
      const original = o.refused[b.index % o.refused.length]!;
      return { signed: original, sent: b.damage ? damageBytes(original, b.damage) : original };
    }
    case 'json':
      return { signed: Buffer.from(b.text), sent: Buffer.from(b.text) };
    case 'bytes':
      return { signed: b.bytes, sent: b.bytes };
    case 'huge':
      return { signed: Buffer.alloc(b.size, 'a'), sent: Buffer.alloc(b.size, 'a') };
  }
}
