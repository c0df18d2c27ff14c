import { sql, type RawBuilder } from 'kysely';
import { newId } from '../core/ids.js';
import { toStorable } from '../core/storable-text.js';
import { transitionAttempt, transitionPayment, STATUS_EVENTS, type AttemptStatus, type EventType, type PaymentStatus } from '../core/transitions.js';
import { connectorFor } from '../connectors/registry.js';
import type { HttpReply, InboundNotification, OperationReport, VerifiedNotification } from '../connectors/types.js';
import type { Connection, Notification, Payment, PaymentAttempt } from '../store/schema.js';
import { notificationOutcomes } from '../observability/metrics.js';
import type { HubContext } from './context.js';
import { loadConnection } from './connections.js';
import { paymentSnapshot, presentAttempt } from './payments.js';
import { eventCtes, type NewEvent } from './webhooks.js';
import { recordProcessorResponse } from './payment-steps.js';
import { registerPaymentMethodCte } from './payment-methods.js';
import { perDatabase, TurnBatch, TurnQueue } from '../store/turn-batch.js';
import type { Db } from '../store/store.js';

function storableHeader(value: string | undefined): string | null {
  return value === undefined ? null : value.slice(0, 200).replace(/[\u0000-\u001f\u007f-\uffff]/g, '?');
}

/** Headers that never matter to a processor's signature and may carry someone's credentials. */
const UNSTORED_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization']);

/** The request's headers as stored with the notification: lower-case names, single values, bounded size. */
function storableHeaders(headers: InboundNotification['headers'], budget = 16 * 1024): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const key = name.toLowerCase();
    if (value === undefined || UNSTORED_HEADERS.has(key)) continue;
    const v = (Array.isArray(value) ? value.join(', ') : value).replace(/\u0000/g, '');
    budget -= key.length + v.length;
    if (budget < 0) break;
    out[key] = v;
  }
  return out;
}

/**
 * What is kept of a notification that was never authenticated (its connection is unknown, or its verification
 * failed): the first bytes of its body, its headers and its query, enough to see what it was. Anybody can send
 * those, so they must not cost the store more than this; a notification of a known connection is kept whole
 * until it is verified (it must survive a crash before it is answered).
 */
export const UNAUTHENTICATED_BODY_EXCERPT_BYTES = 4096;
const UNAUTHENTICATED_HEADERS_BYTES = 1024;
const UNAUTHENTICATED_QUERY_CHARS = 512;

/** The hub's own reply codes for what happens after verification (storage and ledger checks). */
export const INBOX_ERRORS = { storage: 0x300000f9, unknownConnection: 0x300000fa, unknownOrder: 0x300000f7, integrity: 0x300000f8, internal: 0x300000fb } as const;

export interface ReceivedNotification extends InboundNotification {
  remoteAddr?: string;
}

type Applied = { status: 'applied' | 'duplicate' | 'ignored'; paymentId: string };
type Refused = { status: 'rejected'; code: number; reason: string; paymentId?: string };

/**
 * The notification inbox (rule 2 of the design): the raw bytes are stored first; then verified; then checked
 * against the ledger and applied under a row lock in one transaction with the outbox; only then is the
 * processor answered, in its own protocol. Storage trouble answers "temporary error" so the processor retries;
 * nothing unverified or inconsistent changes the ledger.
 */
export async function receiveNotification(ctx: HubContext, provider: string, connectionId: string, n: ReceivedNotification): Promise<HttpReply> {
  const connector = connectorFor(provider);
  if (!connector) throw new Error(`no connector ${provider}`);
  const count = (outcome: string) => notificationOutcomes.inc({ provider, outcome });
  const id = newId('ntf');
  let row: Connection | undefined;
  // An id that cannot be one of ours (a NUL byte, say) is an unknown connection, not a storage failure.
  const knownShape = /^[A-Za-z0-9_-]{1,64}$/.test(connectionId);
  try {
    row = await inboxWritesOf(ctx.db).push({
      id, provider, connection_id: knownShape ? connectionId : null, remote_addr: n.remoteAddr ?? null, content_type: storableHeader(n.contentType),
      body: n.body, headers: storableHeaders(n.headers), small_headers: storableHeaders(n.headers, UNAUTHENTICATED_HEADERS_BYTES), query: n.query?.replace(/\u0000/g, '').slice(0, 8192) ?? null,
    });
  } catch (e) {
    ctx.logger.error({ err: e, provider }, 'could not store an inbound notification; asking the processor to retry');
    count('error');
    return connector.replyToNotification({ kind: 'temporary_error', code: INBOX_ERRORS.storage, message: 'could not record the notification; please retry' });
  }
  return processStored(ctx, provider, id, connectionId, row, n);
}

/** An inbound notification's row as the inbox stores it on arrival. */
interface InboxRow {
  id: string;
  provider: string;
  connection_id: string | null;
  remote_addr: string | null;
  content_type: string | null;
  body: Buffer;
  headers: Record<string, string>;
  /** The headers kept if the connection is unknown. */
  small_headers: Record<string, string>;
  query: string | null;
}

/** Per database, the notifications arriving in the current event-loop turn (stored together, see TurnQueue). */
const inboxWritesOf = perDatabase(
  (db) => new TurnQueue<InboxRow, Connection | undefined>({ batch: (rows) => storeInboxBatch(db, rows), single: (row) => storeInboxRow(db, row), maxBatch: 64 }),
);

/**
 * Stores a notification's raw bytes and reads its connection, in one statement: the insert happens whatever the
 * connection lookup finds.
 */
async function storeInboxRow(db: Db, r: InboxRow): Promise<Connection | undefined> {
  const excerpt = UNAUTHENTICATED_BODY_EXCERPT_BYTES;
  const result = await sql<Connection>`
    WITH connection AS (
      SELECT * FROM connections WHERE id = ${r.connection_id} AND provider = ${r.provider}
    ), stored AS (
      INSERT INTO notifications (id, provider, connection_id, remote_addr, content_type, body, status, headers, query, body_excerpt, body_length)
      SELECT ${r.id}::text, ${r.provider}::text, ${r.connection_id}::text, ${r.remote_addr}::text, ${r.content_type}::text,
        CASE WHEN known THEN ${r.body}::bytea ELSE substring(${r.body}::bytea from 1 for ${excerpt}) END, 'received',
        CASE WHEN known THEN ${JSON.stringify(r.headers)}::jsonb ELSE ${JSON.stringify(r.small_headers)}::jsonb END,
        CASE WHEN known THEN ${r.query}::text ELSE left(${r.query}::text, ${UNAUTHENTICATED_QUERY_CHARS}) END, NOT known, ${r.body.length}::integer
      FROM (SELECT EXISTS (SELECT 1 FROM connection) AS known) k
    )
    SELECT * FROM connection`.execute(db);
  return result.rows[0];
}

/**
 * `storeInboxRow` for the notifications of one turn, in one statement (one round trip, one commit); the bodies
 * travel as base64 in one JSON array, so the statement's text is the same whatever their number.
 */
async function storeInboxBatch(db: Db, rows: InboxRow[]): Promise<Array<Connection | undefined>> {
  const input = rows.map((r, n) => ({ ...r, n, body: r.body.toString('base64'), body_length: r.body.length }));
  const result = await sql<Connection & { n: number; found: boolean }>`
    WITH input AS (
      SELECT i.*, EXISTS (SELECT 1 FROM connections c WHERE c.id = i.connection_id AND c.provider = i.provider) AS known
      FROM jsonb_to_recordset(${JSON.stringify(input)}::jsonb) AS i(
        n integer, id text, provider text, connection_id text, remote_addr text, content_type text, body text, body_length integer, headers jsonb, small_headers jsonb, query text)
    ), stored AS (
      INSERT INTO notifications (id, provider, connection_id, remote_addr, content_type, body, status, headers, query, body_excerpt, body_length)
      SELECT id, provider, connection_id, remote_addr, content_type,
        CASE WHEN known THEN decode(body, 'base64') ELSE substring(decode(body, 'base64') from 1 for ${UNAUTHENTICATED_BODY_EXCERPT_BYTES}) END, 'received',
        CASE WHEN known THEN headers ELSE small_headers END, CASE WHEN known THEN query ELSE left(query, ${UNAUTHENTICATED_QUERY_CHARS}) END, NOT known, body_length
      FROM input ORDER BY n
    )
    SELECT c.*, i.n, c.id IS NOT NULL AS found FROM input i LEFT JOIN connections c ON c.id = i.connection_id AND c.provider = i.provider ORDER BY i.n`.execute(db);
  return result.rows.map(({ n: _n, found, ...connection }) => (found ? (connection as Connection) : undefined));
}

/** Verifies and applies a stored notification, and says what to answer the processor. */
async function processStored(ctx: HubContext, provider: string, id: string, connectionId: string, row: Connection | undefined, n: InboundNotification): Promise<HttpReply> {
  const connector = connectorFor(provider)!;
  const count = (outcome: string) => notificationOutcomes.inc({ provider, outcome });
  const settle = async (status: string, fields: { error?: string; summary?: Record<string, unknown>; paymentId?: string; unauthenticated?: boolean }) => {
    // A request that failed verification is anybody's: only an excerpt of it is kept (see UNAUTHENTICATED_BODY_EXCERPT_BYTES).
    const excerpt = fields.unauthenticated
      ? { body: sql<Uint8Array>`substring(body from 1 for ${UNAUTHENTICATED_BODY_EXCERPT_BYTES})`, body_excerpt: true, headers: JSON.stringify(storableHeaders(n.headers, UNAUTHENTICATED_HEADERS_BYTES)), query: sql<string | null>`left(query, ${UNAUTHENTICATED_QUERY_CHARS})` }
      : {};
    await ctx.db
      .updateTable('notifications')
      .set({ status, error: fields.error === undefined ? null : toStorable(fields.error), summary: fields.summary ? JSON.stringify(toStorable(fields.summary)) : null, payment_id: fields.paymentId ?? null, processed_at: new Date(), ...excerpt })
      .where('id', '=', id)
      .execute()
      .catch((e) => ctx.logger.error({ err: e, notification: id }, 'could not mark a notification as settled'));
  };

  let verdict;
  try {
    if (!row) {
      await settle('rejected', { error: 'unknown connection' });
      count('rejected');
      return connector.replyToNotification({ kind: 'permanent_error', code: INBOX_ERRORS.unknownConnection, message: 'unknown connection' });
    }
    const loaded = loadConnection(ctx, row);
    verdict = ctx.verifier ? await ctx.verifier.verify(loaded.verify, n) : await connector.verifyNotification(loaded.config, n);
  } catch (e) {
    // The row stays `received`: once the cause is fixed, the processor's retry (or an operator) replays it.
    ctx.logger.error({ err: e, notification: id }, 'notification could not be processed');
    count('error');
    return connector.replyToNotification({ kind: 'temporary_error', code: INBOX_ERRORS.storage, message: 'temporary failure; please retry' });
  }
  if (!verdict.ok) {
    await settle('rejected', { error: verdict.reason, unauthenticated: true });
    count('rejected');
    ctx.logger.warn({ notification: id, provider, reason: verdict.reason }, 'notification rejected');
    return connector.replyToNotification({ kind: verdict.permanent ? 'permanent_error' : 'temporary_error', code: verdict.code, message: verdict.reason });
  }

  let result: Applied | Refused;
  try {
    result = await applyVerified(ctx, connectionId, id, verdict);
  } catch (e) {
    ctx.logger.error({ err: e, notification: id }, 'could not apply a verified notification; asking the processor to retry');
    count('error');
    return connector.replyToNotification({ kind: 'temporary_error', code: INBOX_ERRORS.storage, message: 'could not record the notification; please retry' });
  }
  count(result.status);
  if (result.status === 'rejected') {
    await settle('rejected', { error: result.reason, summary: verdict.summary, paymentId: result.paymentId });
    ctx.logger.warn({ notification: id, provider, reason: result.reason }, 'notification refused by the ledger checks');
    return connector.replyToNotification({ kind: 'permanent_error', code: result.code, message: result.reason });
  }
  if (result.status === 'applied') ctx.onOutboxWrite?.();
  ctx.logger.debug({ notification: id, provider, outcome: result.status, payment: result.paymentId, kind: verdict.outcome.kind }, 'notification recorded');
  return connector.replyToNotification({ kind: 'recorded', verdict });
}

/** How long a stored notification may stay unprocessed before the worker processes it again. */
export const STALE_NOTIFICATION_MS = 60_000;
const REPROCESS_LEASE = '5 minutes';

/**
 * Processes notifications that were stored but never settled (the process died, or the database went away
 * between storing and applying). The processor usually retries as well; whichever comes second is recorded as
 * a duplicate. Claimed with SKIP LOCKED and a lease, so several processes share the work.
 */
export async function reprocessStaleNotifications(ctx: HubContext, limit = 20): Promise<number> {
  const claimed = await sql<Notification>`
    UPDATE notifications SET status = 'reprocessing', processed_at = now()
    WHERE id IN (
      SELECT id FROM notifications
      -- Answers to the hub's own calls cannot be verified like notifications; the next status check re-learns them.
      WHERE source = 'notification'
        AND ((status = 'received' AND received_at < now() - ${`${STALE_NOTIFICATION_MS} milliseconds`}::interval)
          OR (status = 'reprocessing' AND processed_at < now() - ${REPROCESS_LEASE}::interval))
      ORDER BY received_at
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED
    )
    RETURNING *`.execute(ctx.db);
  for (const stored of claimed.rows) {
    if (!connectorFor(stored.provider)) continue;
    const connection = stored.connection_id
      ? await ctx.db.selectFrom('connections').selectAll().where('id', '=', stored.connection_id).where('provider', '=', stored.provider).executeTakeFirst()
      : undefined;
    await processStored(ctx, stored.provider, stored.id, stored.connection_id ?? '', connection, {
      body: Buffer.from(stored.body),
      contentType: stored.content_type ?? undefined,
      headers: stored.headers ?? (stored.content_type ? { 'content-type': stored.content_type } : {}),
      query: stored.query ?? undefined,
    });
    ctx.logger.info({ notification: stored.id }, 'reprocessed a stored notification');
  }
  return claimed.rows.length;
}

/**
 * Deletes the notifications that were never authenticated (unknown connection, failed verification) once they
 * are older than the retention period, in batches; every authenticated one (applied, duplicate, ignored, or
 * refused by the ledger checks) is kept. Returns how many were deleted.
 */
export async function purgeRejectedNotifications(ctx: HubContext, retentionDays: number, batch = 1000): Promise<number> {
  if (!(retentionDays > 0)) return 0;
  let deleted = 0;
  for (;;) {
    const result = await sql`
      DELETE FROM notifications WHERE id IN (
        SELECT id FROM notifications
        WHERE status = 'rejected' AND body_excerpt AND received_at < now() - make_interval(secs => ${retentionDays * 86_400})
        LIMIT ${batch}
      ) RETURNING 1`.execute(ctx.db);
    const n = result.rows.length;
    deleted += n;
    if (n < batch) break;
  }
  if (deleted) ctx.logger.info({ deleted, retentionDays }, 'purged rejected notifications past their retention');
  return deleted;
}

/**
 * Records what a processor said in answer to one of the hub's own calls (a start, a status check, a refund)
 * exactly like a notification: the answer's bytes are kept in the inbox, then applied to the ledger through the
 * same checks and transitions, so a later notification saying the same thing is a duplicate.
 */
export async function recordOperationReport(
  ctx: HubContext,
  connection: { id: string; provider: string },
  attempt: { id: string; currency: string },
  source: 'start' | 'status_check' | 'refund' | 'authentication',
  rawAnswer: string,
  report: OperationReport,
): Promise<Applied | Refused> {
  const id = newId('ntf');
  await ctx.db
    .insertInto('notifications')
    .values({ id, provider: connection.provider, connection_id: connection.id, content_type: 'application/json', body: Buffer.from(rawAnswer), status: 'received', source })
    .execute();
  const verdict: VerifiedNotification = {
    ok: true,
    reference: attempt.id,
    outcome: report.outcome,
    dedupeKey: report.dedupeKey,
    expected: { currency: attempt.currency },
    processorReference: report.processorReference,
    summary: report.summary,
  };
  const result = await applyVerified(ctx, connection.id, id, verdict);
  if (result.status === 'rejected') {
    await ctx.db.updateTable('notifications').set({ status: 'rejected', error: result.reason, summary: JSON.stringify(toStorable(report.summary)), payment_id: result.paymentId ?? null, processed_at: new Date() }).where('id', '=', id).execute();
  }
  if (result.status === 'applied') ctx.onOutboxWrite?.();
  notificationOutcomes.inc({ provider: connection.provider, outcome: `${source}_${result.status}` });
  return result;
}

interface LedgerRow extends Payment {
  attempt_id: string;
  attempt_number: number;
  attempt_provider: string;
  attempt_created_at: Date;
  attempt_status: string;
  attempt_amount: number;
  attempt_currency: string;
  processor_reference: string | null;
  action: string | null;
  error_code: string | null;
  error_message: string | null;
  pan_masked: string | null;
}

/** What applying a verified notification to the ledger row it names changes, worked out before writing. */
interface Application {
  row: LedgerRow;
  /** The payment after the change (the same object when nothing changes). */
  updated: Payment;
  changed: boolean;
  ignored: boolean;
  ignoredReason: string | null;
  attempt: { status: string; processor_reference: string | null; action: string | null; error_code: string | null; error_message: string | null; pan_masked: string | null };
  events: NewEvent[];
  now: Date;
}

const ledgerRowSelect = sql`
  SELECT p.*, a.id AS attempt_id, a.number AS attempt_number, a.provider AS attempt_provider, a.created_at AS attempt_created_at, a.status AS attempt_status,
    a.amount AS attempt_amount, a.currency AS attempt_currency, a.processor_reference, a.action, a.error_code, a.error_message, a.pan_masked
  FROM payment_attempts a JOIN payments p ON p.id = a.payment_id`;

/** The ledger row an attempt id names, locked for the caller's transaction. */
const readLockedLedgerRow = (reference: string) => sql<LedgerRow>`${ledgerRowSelect} WHERE a.id = ${reference} FOR UPDATE OF p, a`;

/** Per database, the ledger rows that notifications of the current event-loop turn read (one query for the turn). */
const ledgerReadsOf = perDatabase(
  (db) =>
    new TurnBatch<string, LedgerRow>(async (references) => {
      const rows = await sql<LedgerRow>`${ledgerRowSelect} WHERE a.id = ANY(${references}::text[])`.execute(db);
      return new Map(rows.rows.map((r) => [r.attempt_id, r]));
    }),
);

/** The ledger checks (the order is ours, for this connection, for this amount) and the transitions. */
function planApplication(ctx: HubContext, connectionId: string, v: VerifiedNotification, row: LedgerRow | undefined): Application | Refused {
  if (!row) return { status: 'rejected', code: INBOX_ERRORS.unknownOrder, reason: `unknown order ${v.reference}` };
  const payment: Payment = row;
  if (payment.connection_id !== connectionId) return { status: 'rejected', code: INBOX_ERRORS.unknownOrder, reason: `order ${v.reference} does not belong to this connection`, paymentId: payment.id };
  if ((v.expected.amount !== undefined && v.expected.amount !== row.attempt_amount) || v.expected.currency !== row.attempt_currency) {
    return { status: 'rejected', code: INBOX_ERRORS.integrity, reason: `amount mismatch: the notification is for ${v.expected.amount ?? '?'} ${v.expected.currency}, the order is for ${row.attempt_amount} ${row.attempt_currency}`, paymentId: payment.id };
  }
  if (v.outcome.kind === 'refunded' && v.outcome.totalRefunded > row.attempt_amount) {
    return { status: 'rejected', code: INBOX_ERRORS.integrity, reason: `refund total ${v.outcome.totalRefunded} exceeds the order's ${row.attempt_amount} ${row.attempt_currency}`, paymentId: payment.id };
  }
  const now = new Date();
  const outcome = v.outcome;
  const change = transitionPayment({ ...payment, status: payment.status as PaymentStatus }, outcome);
  const attemptStatus = transitionAttempt(row.attempt_status as AttemptStatus, outcome, { total: change.state.amount_refunded, captured: change.state.amount_captured });
  const failure = outcome.kind === 'failed' || outcome.kind === 'operation_failed' ? outcome : null;
  const attemptMoved = attemptStatus !== null && attemptStatus !== row.attempt_status;
  const attempt = {
    status: attemptStatus ?? row.attempt_status,
    processor_reference: v.processorReference ?? row.processor_reference,
    action: typeof v.summary.action === 'string' ? v.summary.action : row.action,
    // A failure says why; a later success clears the previous reason.
    error_code: failure ? failure.code : attemptMoved ? null : row.error_code,
    error_message: failure ? failure.message : attemptMoved ? null : row.error_message,
    pan_masked: typeof v.summary.pan_masked === 'string' ? v.summary.pan_masked : row.pan_masked,
  };
  const ignored = !change.changed && attemptStatus === null;
  const s = change.state;
  const updated: Payment = change.changed ? { ...payment, ...s, updated_at: now } : payment;

  // The events this change makes, if it is not a duplicate.
  const events: NewEvent[] = [];
  const event = STATUS_EVENTS[s.status];
  if (change.changed && event && (s.status !== payment.status || s.amount_refunded !== payment.amount_refunded)) {
    events.push({ merchantId: payment.merchant_id, type: event as EventType, paymentId: payment.id, data: paymentSnapshot(ctx, updated) });
  }
  if (outcome.kind === 'failed' && attemptStatus === 'failed' && attemptMoved) {
    const failedAttempt: PaymentAttempt = {
      id: row.attempt_id, payment_id: payment.id, number: row.attempt_number, provider: row.attempt_provider, amount: row.attempt_amount, currency: row.attempt_currency,
      redirect: null, created_at: row.attempt_created_at, updated_at: now, reconciled_at: null, ...attempt,
    };
    events.push({ merchantId: payment.merchant_id, type: 'payment.attempt_failed', paymentId: payment.id, data: { ...paymentSnapshot(ctx, updated), attempt: presentAttempt(failedAttempt) } });
  }
  return { row, updated, changed: change.changed, ignored, ignoredReason: change.ignoredReason ?? null, attempt, events, now };
}

/**
 * The statement that applies a planned change: the duplicate check, then, unless it found one, the attempt, the
 * payment, the payment method and the events; the inbox row either way. Under `compare-and-swap` it does all that
 * only if the ledger row still holds what the plan was worked out from (`unchangedCte`); under `locked` the caller's
 * transaction already holds the row.
 */
function applyStatement(connectionId: string, notificationId: string, v: VerifiedNotification, plan: Application, mode: 'compare-and-swap' | 'locked') {
  const { row, attempt, updated: s, now } = plan;
  const cas = mode === 'compare-and-swap';
  const guard = cas ? sql`EXISTS (SELECT 1 FROM unchanged)` : sql`true`;
  const prelude = cas ? unchangedCte(row) : sql``;
  const fresh = sql`NOT EXISTS (SELECT 1 FROM duplicate) AND ${guard}`;
  const method = typeof v.summary.payment_method === 'string' ? registerPaymentMethodCte(v.summary.payment_method, fresh) : undefined;
  const extra = [method, ...plan.events.map((e, i) => eventCtes(`event_${i}`, e, fresh))].filter((c) => c !== undefined);
  return sql<{ duplicate_of: string | null; applied: boolean }>`
    WITH ${prelude} duplicate AS (
      SELECT id FROM notifications
      WHERE connection_id = ${connectionId} AND dedupe_key = ${v.dedupeKey} AND status = 'applied'
      LIMIT 1
    ), attempt AS (
      UPDATE payment_attempts SET status = ${attempt.status}, processor_reference = ${attempt.processor_reference}, action = ${attempt.action},
        error_code = ${attempt.error_code}, error_message = ${attempt.error_message}, pan_masked = ${attempt.pan_masked}, updated_at = ${now}
      WHERE id = ${row.attempt_id} AND ${fresh}
    ), payment AS (
      UPDATE payments SET status = ${s.status}, amount_authorized = ${s.amount_authorized}, amount_captured = ${s.amount_captured},
        amount_refunded = ${s.amount_refunded}, paid_late = ${s.paid_late}, updated_at = ${now}
      WHERE id = ${row.id} AND ${plan.changed} AND ${fresh}
    ), inbox AS (
      UPDATE notifications SET payment_id = ${row.id}, attempt_id = ${row.attempt_id}, dedupe_key = ${v.dedupeKey}, summary = ${JSON.stringify(v.summary)},
        processed_at = ${now},
        status = CASE WHEN ${fresh} THEN ${plan.ignored ? 'ignored' : 'applied'} ELSE 'duplicate' END,
        error = CASE WHEN ${fresh} THEN ${plan.ignored ? (plan.ignoredReason ?? 'stale notification') : null} ELSE 'same as ' || (SELECT id FROM duplicate) END,
        outcome = CASE WHEN ${fresh} THEN ${v.outcome.kind} END
      WHERE id = ${notificationId} AND ${guard}
    )${extra.length ? sql`, ${sql.join(extra)}` : sql``}
    SELECT (SELECT id FROM duplicate) AS duplicate_of, ${guard} AS applied`;
}

/**
 * The ledger fields a plan was worked out from, unchanged (NULL-safe): a compare-and-swap guard. Locking the rows
 * (FOR UPDATE inside the statement) makes PostgreSQL re-check it against their latest versions after any wait.
 */
function unchangedCte(row: LedgerRow): RawBuilder<unknown> {
  const same = (column: string, value: unknown) => sql`${sql.raw(column)} IS NOT DISTINCT FROM ${value}`;
  return sql`unchanged AS (
      SELECT 1 FROM payment_attempts a JOIN payments p ON p.id = a.payment_id
      WHERE a.id = ${row.attempt_id}
        AND ${same('p.status', row.status)} AND ${same('p.amount_authorized', row.amount_authorized)} AND ${same('p.amount_captured', row.amount_captured)}
        AND ${same('p.amount_refunded', row.amount_refunded)} AND ${same('p.paid_late', row.paid_late)}
        AND ${same('a.status', row.attempt_status)} AND ${same('a.processor_reference', row.processor_reference)} AND ${same('a.action', row.action)}
        AND ${same('a.error_code', row.error_code)} AND ${same('a.error_message', row.error_message)} AND ${same('a.pan_masked', row.pan_masked)}
      FOR UPDATE OF p, a
    ),`;
}

/** How many times the optimistic path re-reads a row that changed under it before taking the locking path. */
const OPTIMISTIC_TRIES = 3;

/**
 * Checks a verified notification against the ledger and applies it: the attempt, its payment, the inbox row and
 * the outbox change together or not at all, and every notification of one payment is applied against the state
 * the previous one left (across processes).
 *
 * The common case takes two statements and no explicit transaction: the row is read, the change worked out, and
 * one statement applies it only if the row still holds what was read (a compare-and-swap under a row lock; if
 * it moved, the row is read again). A notification that also updates a conversation's payment step, or one that
 * keeps losing the race, takes the locking path: one transaction that locks the attempt and its payment first
 * (the statement after the lock sees what the previous holder committed), then applies the same statement.
 */
async function applyVerified(ctx: HubContext, connectionId: string, notificationId: string, verified: VerifiedNotification): Promise<Applied | Refused> {
  // A processor's answer is recorded whatever text it holds (its connector refuses unstorable notifications, but
  // an answer to the hub's own call must be kept): what the database cannot hold becomes U+FFFD.
  const v = toStorable(verified);
  const converses = typeof v.summary.processor_response === 'object' && v.summary.processor_response !== null && CONVERSATION_OUTCOMES.has(v.outcome.kind);
  const result = (plan: Application, duplicateOf: string | null): Applied => ({ status: duplicateOf ? 'duplicate' : plan.ignored ? 'ignored' : 'applied', paymentId: plan.row.id });
  for (let i = 0; i < OPTIMISTIC_TRIES && !converses; i++) {
    const plan = planApplication(ctx, connectionId, v, await ledgerReadsOf(ctx.db).load(v.reference));
    if ('status' in plan) return plan;
    const applied = (await applyStatement(connectionId, notificationId, v, plan, 'compare-and-swap').execute(ctx.db)).rows[0]!;
    if (applied.applied) return result(plan, applied.duplicate_of);
  }
  return ctx.db.transaction().execute(async (trx) => {
    const plan = planApplication(ctx, connectionId, v, (await readLockedLedgerRow(v.reference).execute(trx)).rows[0]);
    if ('status' in plan) return plan;
    const applied = (await applyStatement(connectionId, notificationId, v, plan, 'locked').execute(trx)).rows[0]!;
    if (!applied.duplicate_of && !plan.ignored && converses) {
      await recordProcessorResponse(ctx, trx, plan.updated, v.summary.processor_response as Record<string, unknown>);
    }
    return result(plan, applied.duplicate_of);
  });
}

/** Outcomes a conversation is told about (its `Payment.Status`): the payment resolved one way or another. */
const CONVERSATION_OUTCOMES: ReadonlySet<string> = new Set(['captured', 'authorized', 'failed', 'canceled', 'refunded']);
