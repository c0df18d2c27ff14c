import { sql, type RawBuilder, type Transaction } from 'kysely';
import { newId } from '../core/ids.js';
import { isKnownCurrency } from '../core/money.js';
import { blocksNewAttempt, effectiveStatus, isPayable, transitionPayment, type AttemptStatus, type PaymentStatus } from '../core/transitions.js';
import { FieldErrors, isHttpUrl, ValidationError } from '../core/validation.js';
import type { Party, Redirect } from '../connectors/types.js';
import type { Connection, Database, Payment, PaymentAttempt } from '../store/schema.js';
import { NotFoundError, type HubContext } from './context.js';
import { getConnection, loadConnection, type LoadedConnection } from './connections.js';
import { deliveriesCte, emitEvent, EVENT_COLUMNS_FOR_DELIVERIES, eventCtes, newEventRow } from './webhooks.js';
import { perDatabase, TurnQueue } from '../store/turn-batch.js';
import { claimCte, replayStored, type IdempotencyClaim, type StoredResponse } from './idempotency.js';
import { redirectInput, startAttempt } from './attempt-start.js';
import { checkPaymentAgainstConnector, problemMessage, type PaymentProblem } from './payment-requirements.js';
import { connectorFor } from '../connectors/registry.js';

export interface CreatePaymentInput {
  connection: string;
  order_id: string;
  amount: number;
  currency: string;
  description: string;
  billing: Party;
  shipping?: Party;
  return_url?: string;
  expires_at?: string;
  metadata?: Record<string, unknown>;
}

export function paymentUrl(ctx: HubContext, paymentId: string): string {
  return `${ctx.publicUrl}/pay/${paymentId}`;
}

/** The payment as merchants see it in events (no attempts or notifications). */
export function paymentSnapshot(ctx: HubContext, p: Payment, now = new Date()) {
  return {
    id: p.id,
    object: 'payment' as const,
    connection_id: p.connection_id,
    order_id: p.order_id,
    amount: p.amount,
    currency: p.currency,
    description: p.description,
    status: effectiveStatus(p.status as PaymentStatus, p.expires_at, now),
    amount_authorized: p.amount_authorized,
    amount_captured: p.amount_captured,
    amount_refunded: p.amount_refunded,
    paid_late: p.paid_late,
    payment_url: paymentUrl(ctx, p.id),
    return_url: p.return_url,
    expires_at: p.expires_at ? new Date(p.expires_at).toISOString() : null,
    metadata: p.metadata,
    created_at: new Date(p.created_at).toISOString(),
    updated_at: new Date(p.updated_at).toISOString(),
  };
}

export function presentAttempt(a: PaymentAttempt) {
  return {
    id: a.id,
    number: a.number,
    provider: a.provider,
    status: a.status,
    amount: a.amount,
    currency: a.currency,
    processor_reference: a.processor_reference,
    action: a.action,
    error_code: a.error_code,
    error_message: a.error_message,
    pan_masked: a.pan_masked,
    created_at: new Date(a.created_at).toISOString(),
    updated_at: new Date(a.updated_at).toISOString(),
  };
}

function checkCreateInput(input: CreatePaymentInput, loaded: LoadedConnection | undefined) {
  const errors = new FieldErrors();
  if (!isKnownCurrency(input.currency)) errors.add('currency', 'is not a known ISO 4217 currency');
  if (loaded) {
    // What the connector declares it needs (currency, largest amount, payer fields): a payment it could never open
    // is refused here, naming the field, rather than failing when the payer opens it.
    const facts = { ...input, currency: isKnownCurrency(input.currency) ? input.currency : undefined };
    for (const problem of checkPaymentAgainstConnector(loaded.connector.capabilities, facts)) errors.add(problem.field, problemMessage(problem, loaded.row.provider));
  }
  if (input.expires_at !== undefined) {
    const t = Date.parse(input.expires_at);
    if (Number.isNaN(t)) errors.add('expires_at', 'must be an RFC 3339 date-time');
    else if (t <= Date.now()) errors.add('expires_at', 'must be in the future');
  }
  if (input.metadata !== undefined && JSON.stringify(input.metadata).length > 8192) errors.add('metadata', 'must serialize to at most 8 KiB');
  // The payment page links to it (for a payment that did not go through): only a web address, never `javascript:`.
  if (input.metadata?.canceled_url != null && !isHttpUrl(input.metadata.canceled_url)) errors.add('metadata.canceled_url', 'must be an absolute http(s) URL');
  errors.throwIfAny();
}

/**
 * A new attempt (the processor hand-off for one try): its row, with the browser form the connector built. For
 * processors opened by an API call the redirect stays empty until the customer opens the page (`startAttempt`).
 */
function newAttempt(ctx: HubContext, payment: Payment, loaded: LoadedConnection, number: number, now: Date): PaymentAttempt {
  const id = newId('att');
  const redirect = loaded.connector.createRedirect?.(loaded.config, redirectInput(ctx, payment, loaded, id, now));
  return {
    id, payment_id: payment.id, number, provider: loaded.row.provider, status: 'created', amount: payment.amount, currency: payment.currency,
    processor_reference: null, action: null, error_code: null, error_message: null, pan_masked: null,
    redirect: (redirect ?? null) as unknown as Record<string, unknown> | null, created_at: now, updated_at: now, reconciled_at: null,
  };
}

function attemptValues(a: PaymentAttempt) {
  return { id: a.id, payment_id: a.payment_id, number: a.number, provider: a.provider, status: a.status, amount: a.amount, currency: a.currency, redirect: a.redirect === null ? null : JSON.stringify(a.redirect), created_at: a.created_at, updated_at: a.updated_at };
}

/**
 * The active connections payment requests named lately, by merchant and id or code, as last read. A hit saves the
 * read; the write then checks that the row is still active and unchanged (its `updated_at`, which every change
 * moves), so a connection disabled, re-keyed or renamed meanwhile, by this process or another, is read again.
 */
const activeConnections = new Map<string, Connection>();

/** A payment built and checked from a request and its connection, ready to be written in one statement. */
export interface PreparedPayment {
  payment: Payment;
  attempt: PaymentAttempt;
  /** The connection's version the payment was built from (`updated_at`, in milliseconds). */
  connectionVersion: Date;
  /** Whether the connection came from `activeConnections` rather than a read in this request. */
  cachedConnection: boolean;
  /** The payment as its `payment.created` event shows it. */
  snapshot: ReturnType<typeof paymentSnapshot>;
  /** What the API answers for it (also what an Idempotency-Key replays). */
  response: ReturnType<typeof paymentSnapshot> & { attempts: ReturnType<typeof presentAttempt>[]; notifications: [] };
}

/**
 * Reads the connection a payment request names, checks the request against it and builds the payment with its
 * first attempt (the sealed processor request). Writes nothing: `writePayment` does.
 */
export async function preparePayment(ctx: HubContext, db: HubContext['db'], merchantId: string, input: CreatePaymentInput, fresh = false): Promise<PreparedPayment> {
  let loaded: LoadedConnection | undefined;
  const errors = new FieldErrors();
  const cacheKey = `${merchantId}\n${input.connection}`;
  const cached = fresh ? undefined : activeConnections.get(cacheKey);
  if (cached) loaded = loadConnection(ctx, cached);
  else {
    activeConnections.delete(cacheKey);
    try {
      const row = await getConnection({ ...ctx, db }, merchantId, input.connection);
      if (row.status !== 'active') errors.add('connection', 'is disabled');
      else {
        loaded = loadConnection(ctx, row);
        if (activeConnections.size >= 1000) activeConnections.clear();
        activeConnections.set(cacheKey, row);
      }
    } catch (e) {
      if (!(e instanceof NotFoundError)) throw e;
      errors.add('connection', 'is not one of your connections (id or code)');
    }
  }
  errors.throwIfAny();
  checkCreateInput(input, loaded);
  const now = new Date();
  const payment: Payment = {
    id: newId('pay'),
    merchant_id: merchantId,
    connection_id: loaded!.row.id,
    order_id: input.order_id,
    amount: input.amount,
    currency: input.currency,
    description: input.description,
    billing: input.billing as unknown as Record<string, unknown>,
    shipping: (input.shipping ?? null) as Record<string, unknown> | null,
    return_url: input.return_url ?? null,
    expires_at: input.expires_at ? new Date(input.expires_at) : null,
    metadata: input.metadata ?? {},
    status: 'pending',
    amount_authorized: 0,
    amount_captured: 0,
    amount_refunded: 0,
    paid_late: false,
    created_at: now,
    updated_at: now,
  };
  const attempt = newAttempt(ctx, payment, loaded!, 1, now);
  const snapshot = paymentSnapshot(ctx, payment);
  return {
    payment, attempt, connectionVersion: new Date(loaded!.row.updated_at), cachedConnection: cached !== undefined,
    snapshot, response: { ...snapshot, attempts: [presentAttempt(attempt)], notifications: [] },
  };
}

/**
 * The common table expressions that write a prepared payment, its first attempt and its `payment.created` event
 * where `guard` holds (the attempt's foreign key is checked at the statement's end, after the payment exists).
 */
function writePaymentCtes(prepared: PreparedPayment, guard: RawBuilder<unknown>): RawBuilder<unknown> {
  const { payment: p, attempt: a } = prepared;
  return sql`payment AS (
      INSERT INTO payments (id, merchant_id, connection_id, order_id, amount, currency, description, billing, shipping, return_url, expires_at, metadata,
        status, amount_authorized, amount_captured, amount_refunded, paid_late, created_at, updated_at)
      SELECT ${p.id}, ${p.merchant_id}, ${p.connection_id}, ${p.order_id}, ${p.amount}, ${p.currency}, ${p.description}, ${JSON.stringify(p.billing)},
        ${p.shipping ? JSON.stringify(p.shipping) : null}, ${p.return_url}, ${p.expires_at}, ${JSON.stringify(p.metadata)},
        ${p.status}, 0, 0, 0, false, ${p.created_at}, ${p.updated_at}
      WHERE ${guard}
    ), attempt AS (
      INSERT INTO payment_attempts (id, payment_id, number, provider, status, amount, currency, redirect, created_at, updated_at)
      SELECT ${a.id}, ${a.payment_id}, ${a.number}, ${a.provider}, ${a.status}, ${a.amount}, ${a.currency}, ${a.redirect === null ? null : JSON.stringify(a.redirect)},
        ${a.created_at}, ${a.updated_at}
      WHERE ${guard}
    ), ${eventCtes('created', { merchantId: p.merchant_id, type: 'payment.created', paymentId: p.id, data: prepared.snapshot }, guard)}`;
}

/** What writing a prepared payment found: whether the connection was still live, and whether the key was claimed. */
interface WriteOutcome {
  live: boolean;
  claimed: boolean;
}

/**
 * Writes a prepared payment in one statement, which also claims the request's Idempotency-Key when it has one
 * (the payment is written only if the key was not claimed before) and re-checks that the connection is still
 * active and unchanged (it may have been disabled or changed since it was read). Answers which of the two held;
 * a payment built from a connection that has changed is refused as if the connection were disabled.
 *
 * On the hub's own database (not inside a caller's transaction), the payments of one event-loop turn are written
 * together by one statement (`writePaymentBatch`), which gives each the same answer as a statement of its own.
 */
export async function writePayment(ctx: HubContext, db: HubContext['db'], prepared: PreparedPayment, claim?: IdempotencyClaim): Promise<WriteOutcome> {
  const row = db === ctx.db ? await paymentWritesOf(db).push({ prepared, claim }) : await writeOnePayment(db, prepared, claim);
  if (!row.live) throw new ValidationError([{ field: 'connection', message: 'is disabled' }]);
  if (row.claimed) ctx.logger.debug({ payment: prepared.payment.id, attempt: prepared.attempt.id, merchant: prepared.payment.merchant_id, amount: prepared.payment.amount, currency: prepared.payment.currency }, 'payment created');
  return row;
}

interface PaymentWrite {
  prepared: PreparedPayment;
  claim?: IdempotencyClaim;
}

/** Per database, the payment writes of the current event-loop turn. */
const paymentWritesOf = perDatabase(
  (db) => new TurnQueue<PaymentWrite, WriteOutcome>({ batch: (writes) => writePaymentBatch(db, writes), single: (w) => writeOnePayment(db, w.prepared, w.claim), maxBatch: 64 }),
);

async function writeOnePayment(db: HubContext['db'], prepared: PreparedPayment, claim?: IdempotencyClaim): Promise<WriteOutcome> {
  const live = sql`EXISTS (SELECT 1 FROM live)`;
  const claimed = claim ? sql`EXISTS (SELECT 1 FROM claimed)` : live;
  const result = await sql<WriteOutcome>`
    WITH live AS (
      SELECT 1 FROM connections
      WHERE id = ${prepared.payment.connection_id} AND status = 'active' AND date_trunc('milliseconds', updated_at) = ${prepared.connectionVersion}
    ),
    ${claim ? sql`${claimCte(prepared.payment.merchant_id, claim, { status: 201, body: prepared.response }, live)},` : sql``}
    ${writePaymentCtes(prepared, claimed)}
    SELECT ${live} AS live, ${claimed} AS claimed`.execute(db);
  return result.rows[0]!;
}

/**
 * Several prepared payments in one statement (one round trip, one commit), each written exactly as
 * `writeOnePayment` would: only if its connection is still active and unchanged and, when it has an
 * Idempotency-Key, only if this statement claimed the key. The statement's text is the same whatever the number
 * of payments (they travel as one JSON array), so it is prepared once. Two payments of one batch with the same
 * key are refused here, and then written one by one (the queue's fallback), which settles who claimed it first.
 */
async function writePaymentBatch(db: HubContext['db'], writes: PaymentWrite[]): Promise<WriteOutcome[]> {
  const claimed = writes.filter((w) => w.claim);
  if (new Set(claimed.map((w) => `${w.prepared.payment.merchant_id}\n${w.claim!.key}`)).size !== claimed.length) throw new Error('one Idempotency-Key twice in a batch');
  const rows = writes.map(({ prepared: { payment: p, attempt: a, connectionVersion, snapshot, response }, claim }, n) => {
    const event = newEventRow({ merchantId: p.merchant_id, type: 'payment.created', paymentId: p.id, data: snapshot });
    return {
      n, connection_id: p.connection_id, connection_version: connectionVersion, claim_key: claim?.key ?? null, claim_hash: claim?.hash ?? null, response,
      id: p.id, merchant_id: p.merchant_id, order_id: p.order_id, amount: p.amount, currency: p.currency, description: p.description, billing: p.billing,
      shipping: p.shipping, return_url: p.return_url, expires_at: p.expires_at, metadata: p.metadata, status: p.status, created_at: p.created_at, updated_at: p.updated_at,
      attempt_id: a.id, attempt_number: a.number, provider: a.provider, attempt_status: a.status, redirect: a.redirect, attempt_created_at: a.created_at, attempt_updated_at: a.updated_at,
      event_id: event.id, event_payload: event.payload, event_created_at: event.created_at,
    };
  });
  const result = await sql<WriteOutcome & { n: number }>`
    WITH input AS (
      SELECT * FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS i(
        n integer, connection_id text, connection_version timestamptz, claim_key text, claim_hash text, response jsonb,
        id text, merchant_id text, order_id text, amount bigint, currency text, description text, billing jsonb, shipping jsonb,
        return_url text, expires_at timestamptz, metadata jsonb, status text, created_at timestamptz, updated_at timestamptz,
        attempt_id text, attempt_number integer, provider text, attempt_status text, redirect jsonb, attempt_created_at timestamptz, attempt_updated_at timestamptz,
        event_id text, event_payload text, event_created_at timestamptz)
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
      INSERT INTO payments (id, merchant_id, connection_id, order_id, amount, currency, description, billing, shipping, return_url, expires_at, metadata,
        status, amount_authorized, amount_captured, amount_refunded, paid_late, created_at, updated_at)
      SELECT id, merchant_id, connection_id, order_id, amount, currency, description, billing, shipping, return_url, expires_at, metadata,
        status, 0, 0, 0, false, created_at, updated_at
      FROM written
    ), attempt AS (
      INSERT INTO payment_attempts (id, payment_id, number, provider, status, amount, currency, redirect, created_at, updated_at)
      SELECT attempt_id, id, attempt_number, provider, attempt_status, amount, currency, redirect, attempt_created_at, attempt_updated_at FROM written
    ), created AS (
      INSERT INTO events (id, merchant_id, type, payment_id, payload, created_at)
      SELECT event_id, merchant_id, 'payment.created', id, event_payload, event_created_at FROM written
      RETURNING ${EVENT_COLUMNS_FOR_DELIVERIES}
    ), ${deliveriesCte('created_deliveries', 'created')}
    SELECT i.n, i.n IN (SELECT n FROM live) AS live, i.n IN (SELECT n FROM written) AS claimed FROM input i ORDER BY i.n`.execute(db);
  return result.rows.map(({ live, claimed }) => ({ live, claimed }));
}

/** Creates a payment and its first attempt (the sealed processor request), inside the caller's transaction. */
export async function createPayment(ctx: HubContext, trx: Transaction<Database>, merchantId: string, input: CreatePaymentInput) {
  return (await prepareAndWrite(ctx, trx, merchantId, input)).prepared.response;
}

/**
 * Prepares and writes a payment; when the connection came from the cache and has changed since, once more from
 * a fresh read (which says "is disabled" if that is what changed).
 */
async function prepareAndWrite(ctx: HubContext, db: HubContext['db'], merchantId: string, input: CreatePaymentInput, claim?: IdempotencyClaim) {
  for (let fresh = false; ; fresh = true) {
    const prepared = await preparePayment(ctx, db, merchantId, input, fresh);
    try {
      return { prepared, written: await writePayment(ctx, db, prepared, claim) };
    } catch (e) {
      if (!(e instanceof ValidationError) || !prepared.cachedConnection) throw e;
    }
  }
}

/**
 * `POST /v1/payments`: creates a payment once per Idempotency-Key, in one write (no explicit transaction), after
 * a read of the connection unless it is remembered. A request whose key was claimed before gets the stored
 * response.
 */
export async function createPaymentOnce(ctx: HubContext, merchantId: string, input: CreatePaymentInput, claim?: IdempotencyClaim): Promise<StoredResponse> {
  const { prepared, written } = await prepareAndWrite(ctx, ctx.db, merchantId, input, claim);
  if (!written.claimed) return replayStored(ctx.db, merchantId, claim!);
  return { status: 201, body: prepared.response, replayed: false };
}

export async function getPaymentRow(db: HubContext['db'], merchantId: string | null, id: string): Promise<Payment> {
  let q = db.selectFrom('payments').selectAll().where('id', '=', id);
  if (merchantId !== null) q = q.where('merchant_id', '=', merchantId);
  const row = await q.executeTakeFirst();
  if (!row) throw new NotFoundError(`no payment ${JSON.stringify(id)}`);
  return row;
}

/** A payment with every attempt and every notification received for it. */
export async function getPayment(ctx: HubContext, merchantId: string | null, id: string) {
  const payment = await getPaymentRow(ctx.db, merchantId, id);
  const [attempts, notifications] = await Promise.all([
    ctx.db.selectFrom('payment_attempts').selectAll().where('payment_id', '=', id).orderBy('number').execute(),
    ctx.db.selectFrom('notifications').select(['id', 'provider', 'attempt_id', 'received_at', 'status', 'summary', 'error']).where('payment_id', '=', id).orderBy('received_at').orderBy('id').execute(),
  ]);
  return {
    ...paymentSnapshot(ctx, payment),
    attempts: attempts.map(presentAttempt),
    notifications: notifications.map((n) => ({ id: n.id, provider: n.provider, attempt_id: n.attempt_id, received_at: new Date(n.received_at).toISOString(), status: n.status, summary: n.summary, error: n.error })),
  };
}

export interface ListPaymentsFilter {
  status?: string;
  order_id?: string;
  connection?: string;
  created_gte?: string;
  created_lte?: string;
  starting_after?: string;
  limit?: number;
}

/** Newest first, cursor-paginated by id (ids are time-ordered). */
export async function listPayments(ctx: HubContext, merchantId: string, filter: ListPaymentsFilter) {
  const limit = Math.min(Math.max(filter.limit ?? 20, 1), 100);
  let q = ctx.db.selectFrom('payments').selectAll().where('merchant_id', '=', merchantId);
  if (filter.status) q = q.where('status', '=', filter.status);
  if (filter.order_id) q = q.where('order_id', '=', filter.order_id);
  if (filter.connection) {
    const conn = await getConnection(ctx, merchantId, filter.connection).catch(() => null);
    if (!conn) return { object: 'list' as const, data: [], has_more: false, next_cursor: null };
    q = q.where('connection_id', '=', conn.id);
  }
  const errors = new FieldErrors();
  const dateFilter = (name: 'created_gte' | 'created_lte'): Date | undefined => {
    const text = filter[name];
    if (!text) return undefined;
    const d = new Date(text);
    // Dates the schema's format accepts but a database cannot hold (year 0, a leap second) are refused here.
    if (Number.isNaN(d.getTime()) || d.getUTCFullYear() < 1 || d.getUTCFullYear() > 9999) errors.add(`querystring.${name}`, 'must be a date-time between years 1 and 9999');
    return d;
  };
  const gte = dateFilter('created_gte');
  const lte = dateFilter('created_lte');
  errors.throwIfAny();
  if (gte) q = q.where('created_at', '>=', gte);
  if (lte) q = q.where('created_at', '<=', lte);
  if (filter.starting_after) q = q.where('id', '<', filter.starting_after);
  const rows = await q.orderBy('id', 'desc').limit(limit + 1).execute();
  const page = rows.slice(0, limit);
  const hasMore = rows.length > limit;
  return { object: 'list' as const, data: page.map((p) => paymentSnapshot(ctx, p)), has_more: hasMore, next_cursor: hasMore ? page[page.length - 1]!.id : null };
}

export type PaymentPage =
  | { kind: 'redirect'; payment: Payment; redirect: Redirect }
  | { kind: 'status'; payment: Payment; status: PaymentStatus; lastAttempt?: PaymentAttempt }
  /** The processor could not be reached to open the payment; the customer may retry shortly. */
  | { kind: 'unavailable'; payment: Payment; message: string }
  /**
   * The connector could never open this payment (made before creation checked what the connector requires: a
   * missing payer field, an amount above the processor's limit); no attempt is made.
   */
  | { kind: 'unpayable'; payment: Payment; provider: string; problems: PaymentProblem[] };

/**
 * What the hosted payment page shows: the processor hand-off of the open attempt, or a new attempt when the
 * last one was declined (a declined attempt leaves the payment payable), or the payment's final status.
 */
export async function openPaymentPage(ctx: HubContext, paymentId: string): Promise<PaymentPage> {
  const opened = await ctx.db.transaction().execute(async (trx) => {
    const payment = await trx.selectFrom('payments').selectAll().where('id', '=', paymentId).forUpdate().executeTakeFirst();
    if (!payment) throw new NotFoundError(`no payment ${JSON.stringify(paymentId)}`);
    const last = await trx.selectFrom('payment_attempts').selectAll().where('payment_id', '=', paymentId).orderBy('number', 'desc').limit(1).executeTakeFirst();
    const status = effectiveStatus(payment.status as PaymentStatus, payment.expires_at);
    if (!isPayable(status)) return { kind: 'status' as const, payment, status, lastAttempt: last };
    const connection = await trx.selectFrom('connections').selectAll().where('id', '=', payment.connection_id).executeTakeFirstOrThrow();
    const connector = connectorFor(connection.provider);
    const problems = connector ? checkPaymentAgainstConnector(connector.capabilities, { ...payment, amount: Number(payment.amount) }) : [];
    if (problems.length) return { kind: 'unpayable' as const, payment, provider: connection.provider, problems };
    if (last && last.status === 'created') return { kind: 'attempt' as const, payment, attempt: last, connection };
    // The processor may have taken the money on the last attempt: no new one until its status says.
    if (last && blocksNewAttempt(last.status as AttemptStatus)) return { kind: 'status' as const, payment, status, lastAttempt: last };
    if (connection.status !== 'active') return { kind: 'status' as const, payment, status, lastAttempt: last };
    const attempt = newAttempt(ctx, payment, loadConnection(ctx, connection), (last?.number ?? 0) + 1, new Date());
    await trx.insertInto('payment_attempts').values(attemptValues(attempt)).execute();
    return { kind: 'attempt' as const, payment, attempt, connection };
  });
  if (opened.kind === 'status' || opened.kind === 'unpayable') return opened;
  const { payment, attempt } = opened;
  if (attempt.redirect) return { kind: 'redirect', payment, redirect: attempt.redirect as unknown as Redirect };
  const loaded = loadConnection(ctx, opened.connection);
  if (!loaded.connector.start) throw new Error(`attempt ${attempt.id} has no hand-off and ${loaded.row.provider} has no start call`);
  const started = await startAttempt(ctx, payment, attempt, loaded);
  if (started.kind === 'redirect') return { kind: 'redirect', payment, redirect: started.redirect };
  if (started.kind === 'unavailable') return { kind: 'unavailable', payment, message: started.message };
  // Settled at once: show what the ledger now says.
  const now = await getPaymentRow(ctx.db, null, payment.id);
  const last = await ctx.db.selectFrom('payment_attempts').selectAll().where('id', '=', attempt.id).executeTakeFirstOrThrow();
  return { kind: 'status', payment: now, status: effectiveStatus(now.status as PaymentStatus, now.expires_at), lastAttempt: last };
}

/** Stores the expiry of pending payments whose deadline passed (reads already show them expired). */
export async function expireDuePayments(ctx: HubContext, limit = 100): Promise<number> {
  return ctx.db.transaction().execute(async (trx) => {
    const due = await trx
      .selectFrom('payments')
      .selectAll()
      .where('status', '=', 'pending')
      .where('expires_at', '<=', sql<Date>`now()`)
      .orderBy('expires_at')
      .limit(limit)
      .forUpdate()
      .skipLocked()
      .execute();
    for (const p of due) {
      const change = transitionPayment({ ...p, status: p.status as PaymentStatus }, { kind: 'expire' });
      if (!change.changed) continue;
      const updated = await trx.updateTable('payments').set({ status: change.state.status, updated_at: new Date() }).where('id', '=', p.id).returningAll().executeTakeFirstOrThrow();
      await emitEvent(trx, p.merchant_id, 'payment.expired', p.id, paymentSnapshot(ctx, updated));
    }
    if (due.length) ctx.onOutboxWrite?.();
    return due.length;
  });
}
