import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import type { Connection, Database, Payment, PaymentAttempt } from '../schema.js';
import { claimCte } from './idempotency.js';
import { deliveriesCte, EVENT_COLUMNS_FOR_DELIVERIES, eventCtes, newEventRow, type NewEvent } from './events.js';

type Db = Kysely<Database>;
type SqlType = 'text' | 'bigint' | 'integer' | 'boolean' | 'jsonb' | 'timestamptz';

/**
 * Every column a new payment writes, with its SQL type. The single and the batch insert are both generated from
 * this map, so a new `payments` column is added here (and in its migration); `satisfies` makes the type checker
 * refuse a map that misses a column of `Payment`.
 */
export const PAYMENT_COLUMNS = {
  id: 'text',
  merchant_id: 'text',
  connection_id: 'text',
  order_id: 'text',
  amount: 'bigint',
  currency: 'text',
  description: 'text',
  billing: 'jsonb',
  shipping: 'jsonb',
  return_url: 'text',
  expires_at: 'timestamptz',
  metadata: 'jsonb',
  status: 'text',
  amount_authorized: 'bigint',
  amount_captured: 'bigint',
  amount_refunded: 'bigint',
  paid_late: 'boolean',
  created_at: 'timestamptz',
  updated_at: 'timestamptz',
  surface: 'text',
} as const satisfies Record<keyof Payment, SqlType>;

/** The columns a new attempt writes (the processor's answers, written later, start NULL). */
export const ATTEMPT_COLUMNS = {
  id: 'text',
  payment_id: 'text',
  number: 'integer',
  provider: 'text',
  status: 'text',
  amount: 'bigint',
  currency: 'text',
  redirect: 'jsonb',
  created_at: 'timestamptz',
  updated_at: 'timestamptz',
} as const satisfies Partial<Record<keyof PaymentAttempt, SqlType>>;

type Columns = Readonly<Record<string, SqlType>>;

const CASTS = Object.fromEntries((['text', 'bigint', 'integer', 'boolean', 'jsonb', 'timestamptz'] as const).map((t) => [t, sql.raw(t)])) as Record<
  SqlType,
  RawBuilder<unknown>
>;

/** A value as a statement parameter of its column's type (JSON travels as text). */
function parameter(type: SqlType, value: unknown): RawBuilder<unknown> {
  const v = type === 'jsonb' && value !== null && value !== undefined ? JSON.stringify(value) : (value ?? null);
  return sql`${v}::${CASTS[type]}`;
}

const names = (columns: Columns, prefix = '') =>
  sql.raw(
    Object.keys(columns)
      .map((c) => prefix + c)
      .join(', '),
  );
const parameters = (columns: Columns, row: object) =>
  sql.join(Object.entries(columns).map(([c, type]) => parameter(type, (row as Record<string, unknown>)[c])));
const recordsetColumns = (columns: Columns, prefix = '') =>
  sql.raw(
    Object.entries(columns)
      .map(([c, type]) => `${prefix}${c} ${type}`)
      .join(', '),
  );
// The column lists of the statements, worked out once.
const PAYMENT_NAMES = names(PAYMENT_COLUMNS);
const ATTEMPT_NAMES = names(ATTEMPT_COLUMNS);
const ATTEMPT_INPUT_NAMES = names(ATTEMPT_COLUMNS, 'attempt_');
const PAYMENT_INPUT_COLUMNS = recordsetColumns(PAYMENT_COLUMNS);
const ATTEMPT_INPUT_COLUMNS = recordsetColumns(ATTEMPT_COLUMNS, 'attempt_');
/** The JSON recordset's field names of a column map, worked out once: [field, column] pairs. */
const recordsetNames = (columns: Columns, prefix = '') => Object.keys(columns).map((c) => [prefix + c, c] as const);
const PAYMENT_FIELDS = recordsetNames(PAYMENT_COLUMNS);
const ATTEMPT_FIELDS = recordsetNames(ATTEMPT_COLUMNS, 'attempt_');
/** Copies a row's fields into a JSON recordset row (JSON columns stay objects: the recordset reads them as jsonb). */
function copyFields(into: Record<string, unknown>, fields: readonly (readonly [string, string])[], row: object) {
  for (const [field, column] of fields) into[field] = (row as Record<string, unknown>)[column] ?? null;
}

/** A payment to write with its first attempt and its `payment.created` event. */
export interface PaymentWrite {
  payment: Payment;
  attempt: PaymentAttempt;
  event: NewEvent;
  /** The connection's version the payment was built from (`updated_at`, in milliseconds). */
  connectionVersion: Date;
  /** The Idempotency-Key to claim with the payment, and the response stored under it. */
  claim?: { key: string; hash: string };
  response: unknown;
}

/** What writing a payment found: whether its connection was still live, and whether its key was claimed. */
export interface WriteOutcome {
  live: boolean;
  claimed: boolean;
}

/**
 * Writes one payment, its first attempt and its event in one statement, only if its connection is still active
 * and unchanged and, with an Idempotency-Key, only if this statement claimed the key.
 */
export async function insertPayment(db: Db, w: PaymentWrite): Promise<WriteOutcome> {
  const live = sql`EXISTS (SELECT 1 FROM live)`;
  const claimed = w.claim ? sql`EXISTS (SELECT 1 FROM claimed)` : live;
  const result = await sql<WriteOutcome>`
    WITH live AS (
      SELECT 1 FROM connections
      WHERE id = ${w.payment.connection_id} AND status = 'active' AND date_trunc('milliseconds', updated_at) = ${w.connectionVersion}
    ),
    ${w.claim ? sql`${claimCte(w.payment.merchant_id, w.claim, { status: 201, body: w.response }, live)},` : sql``}
    payment AS (
      INSERT INTO payments (${PAYMENT_NAMES}) SELECT ${parameters(PAYMENT_COLUMNS, w.payment)} WHERE ${claimed}
    ), attempt AS (
      INSERT INTO payment_attempts (${ATTEMPT_NAMES}) SELECT ${parameters(ATTEMPT_COLUMNS, w.attempt)} WHERE ${claimed}
    ), ${eventCtes('created', w.event, claimed)}
    SELECT ${live} AS live, ${claimed} AS claimed`.execute(db);
  return result.rows[0]!;
}

/**
 * Several payments in one statement (one round trip, one commit), each written exactly as `insertPayment` would.
 * The statement's text is the same whatever their number (they travel as one JSON array), so it is prepared once.
 * Two writes with one key must not share a batch (the caller checks).
 */
export async function insertPaymentBatch(db: Db, writes: PaymentWrite[]): Promise<WriteOutcome[]> {
  const rows = writes.map((w, n) => {
    const event = newEventRow(w.event);
    const row: Record<string, unknown> = {
      n,
      connection_version: w.connectionVersion,
      claim_key: w.claim?.key ?? null,
      claim_hash: w.claim?.hash ?? null,
      response: w.response,
      event_id: event.id,
      event_type: w.event.type,
      event_payload: event.payload,
      event_created_at: event.created_at,
    };
    copyFields(row, PAYMENT_FIELDS, w.payment);
    copyFields(row, ATTEMPT_FIELDS, w.attempt);
    return row;
  });
  const result = await sql<WriteOutcome & { n: number }>`
    WITH input AS (
      SELECT * FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS i(
        n integer, connection_version timestamptz, claim_key text, claim_hash text, response jsonb,
        ${PAYMENT_INPUT_COLUMNS}, ${ATTEMPT_INPUT_COLUMNS},
        event_id text, event_type text, event_payload text, event_created_at timestamptz)
    ), live AS (
      SELECT i.n FROM input i JOIN connections c
        ON c.id = i.connection_id AND c.status = 'active' AND date_trunc('milliseconds', c.updated_at) = i.connection_version
    ), claimed AS (
      INSERT INTO idempotency_keys (merchant_id, key, request_hash, response_status, response_body)
      SELECT i.merchant_id, i.claim_key, i.claim_hash, 201, i.response FROM input i
      WHERE i.claim_key IS NOT NULL AND i.n IN (SELECT n FROM live)
      ORDER BY i.merchant_id, i.claim_key
      ON CONFLICT (merchant_id, key) DO NOTHING
      RETURNING merchant_id, key
    ), written AS (
      SELECT i.* FROM input i
      WHERE i.n IN (SELECT n FROM live)
        AND (i.claim_key IS NULL OR EXISTS (SELECT 1 FROM claimed c WHERE c.merchant_id = i.merchant_id AND c.key = i.claim_key))
    ), payment AS (
      INSERT INTO payments (${PAYMENT_NAMES}) SELECT ${PAYMENT_NAMES} FROM written
    ), attempt AS (
      INSERT INTO payment_attempts (${ATTEMPT_NAMES}) SELECT ${ATTEMPT_INPUT_NAMES} FROM written
    ), created AS (
      INSERT INTO events (id, merchant_id, type, payment_id, payload, created_at)
      SELECT event_id, merchant_id, event_type, id, event_payload, event_created_at FROM written
      RETURNING ${EVENT_COLUMNS_FOR_DELIVERIES}
    ), ${deliveriesCte('created_deliveries', 'created')}
    SELECT i.n, i.n IN (SELECT n FROM live) AS live, i.n IN (SELECT n FROM written) AS claimed FROM input i ORDER BY i.n`.execute(db);
  return result.rows.map(({ live, claimed }) => ({ live, claimed }));
}

/** Adds an attempt to a payment (inside the transaction that holds the payment's row). */
export async function insertAttempt(trx: Transaction<Database>, a: PaymentAttempt): Promise<void> {
  await sql`INSERT INTO payment_attempts (${ATTEMPT_NAMES}) VALUES (${parameters(ATTEMPT_COLUMNS, a)})`.execute(trx);
}

export function selectPayment(db: Db, merchantId: string | null, id: string): Promise<Payment | undefined> {
  let q = db.selectFrom('payments').selectAll().where('id', '=', id);
  if (merchantId !== null) q = q.where('merchant_id', '=', merchantId);
  return q.executeTakeFirst();
}

/** A payment's row, locked for the caller's transaction (of one merchant when it is named). */
export function lockPayment(trx: Transaction<Database>, id: string, merchantId?: string): Promise<Payment | undefined> {
  let q = trx.selectFrom('payments').selectAll().where('id', '=', id);
  if (merchantId !== undefined) q = q.where('merchant_id', '=', merchantId);
  return q.forUpdate().executeTakeFirst();
}

export function selectLastAttempt(db: Db, paymentId: string): Promise<PaymentAttempt | undefined> {
  return db.selectFrom('payment_attempts').selectAll().where('payment_id', '=', paymentId).orderBy('number', 'desc').limit(1).executeTakeFirst();
}

export function selectAttempt(db: Db, id: string): Promise<PaymentAttempt | undefined> {
  return db.selectFrom('payment_attempts').selectAll().where('id', '=', id).executeTakeFirst();
}

export function selectAttempts(db: Db, paymentId: string): Promise<PaymentAttempt[]> {
  return db.selectFrom('payment_attempts').selectAll().where('payment_id', '=', paymentId).orderBy('number').execute();
}

/** The notifications recorded for a payment, oldest first, as its detail shows them. */
export function selectPaymentNotifications(db: Db, paymentId: string) {
  return db
    .selectFrom('notifications')
    .select(['id', 'provider', 'attempt_id', 'received_at', 'status', 'summary', 'error'])
    .where('payment_id', '=', paymentId)
    .orderBy('received_at')
    .orderBy('id')
    .execute();
}

export function selectConnection(db: Db, id: string): Promise<Connection | undefined> {
  return db.selectFrom('connections').selectAll().where('id', '=', id).executeTakeFirst();
}

export interface PaymentListQuery {
  /** Null: every merchant's (the operator's console). */
  merchantId: string | null;
  status?: string;
  orderId?: string;
  connectionId?: string;
  createdGte?: Date;
  createdLte?: Date;
  /** One text matched exactly against the payment's id, its order id, its payer's e-mail (any case) or an attempt's processor reference. */
  search?: string;
  startingAfter?: string;
  /** Only payments with an attempt whose outcome is unknown (the console's "outcome unknown" filter). */
  attemptUnknown?: boolean;
  /** Payments in this currency only (with the amount bounds, which are in its minor units). */
  currency?: string;
  amountGte?: number;
  amountLte?: number;
  /** Rows to read (one more than the page, to say whether there is another). */
  limit: number;
}

/** A merchant's payments (or everyone's), newest first, by id (ids are time-ordered). */
export function selectPaymentPage(db: Db, f: PaymentListQuery): Promise<Payment[]> {
  let q = db.selectFrom('payments').selectAll();
  if (f.merchantId !== null) q = q.where('merchant_id', '=', f.merchantId);
  if (f.status) q = q.where('status', '=', f.status);
  if (f.orderId) q = q.where('order_id', '=', f.orderId);
  if (f.connectionId) q = q.where('connection_id', '=', f.connectionId);
  if (f.createdGte) q = q.where('created_at', '>=', f.createdGte);
  if (f.createdLte) q = q.where('created_at', '<=', f.createdLte);
  if (f.search) {
    const text = f.search;
    q = q.where((eb) =>
      eb.or([
        eb('id', '=', text),
        eb('order_id', '=', text),
        eb(sql<string>`lower(billing->>'email')`, '=', text.toLowerCase()),
        eb.exists(
          eb
            .selectFrom('payment_attempts')
            .select(sql<number>`1`.as('one'))
            .whereRef('payment_attempts.payment_id', '=', 'payments.id')
            .where('payment_attempts.processor_reference', '=', text),
        ),
      ]),
    );
  }
  if (f.attemptUnknown)
    q = q.where((eb) =>
      eb.exists(
        eb
          .selectFrom('payment_attempts')
          .select(sql<number>`1`.as('one'))
          .whereRef('payment_attempts.payment_id', '=', 'payments.id')
          .where('payment_attempts.status', '=', 'unknown'),
      ),
    );
  if (f.currency) q = q.where('currency', '=', f.currency);
  if (f.amountGte !== undefined) q = q.where('amount', '>=', f.amountGte);
  if (f.amountLte !== undefined) q = q.where('amount', '<=', f.amountLte);
  if (f.startingAfter) q = q.where('id', '<', f.startingAfter);
  return q.orderBy('id', 'desc').limit(f.limit).execute();
}

/** Pending payments past their deadline, locked (skipping those another process holds). */
export function lockDuePendingPayments(trx: Transaction<Database>, limit: number): Promise<Payment[]> {
  return trx
    .selectFrom('payments')
    .selectAll()
    .where('status', '=', 'pending')
    .where('expires_at', '<=', sql<Date>`now()`)
    .orderBy('expires_at')
    .limit(limit)
    .forUpdate()
    .skipLocked()
    .execute();
}

/** Sets a payment's status (a hub event: expiry, cancel); the caller holds its row. */
export function updatePaymentStatus(trx: Transaction<Database>, id: string, status: string): Promise<Payment> {
  return trx.updateTable('payments').set({ status, updated_at: new Date() }).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
}

/**
 * Stores an attempt's hand-off and processor reference unless another request stored one first; answers whether
 * this one was stored.
 */
export async function storeFirstHandOff(db: Db, attemptId: string, redirect: unknown, processorReference: string | null): Promise<boolean> {
  const stored = await db
    .updateTable('payment_attempts')
    .set({ redirect: JSON.stringify(redirect), processor_reference: processorReference, updated_at: new Date() })
    .where('id', '=', attemptId)
    .where('redirect', 'is', null)
    .returning('redirect')
    .executeTakeFirst();
  return stored !== undefined;
}

/** Replaces an attempt's hand-off (the next step of a 3-D Secure challenge). */
export async function replaceHandOff(db: Db, attemptId: string, redirect: unknown): Promise<void> {
  await db
    .updateTable('payment_attempts')
    .set({ redirect: JSON.stringify(redirect), updated_at: new Date() })
    .where('id', '=', attemptId)
    .execute();
}
