import { sql, type Insertable, type Kysely, type Transaction } from 'kysely';
import type { Connection, Database, Payment, PaymentAttempt, Refund, RefundsTable } from '../schema.js';

type Db = Kysely<Database>;

/** A connection's row, which must exist (kysely's NoResultError otherwise). */
export function selectConnectionOrThrow(db: Db, id: string): Promise<Connection> {
  return db.selectFrom('connections').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

/** A payment's refund still pending or processing, if any. */
export function selectOpenRefund(trx: Transaction<Database>, paymentId: string): Promise<{ id: string } | undefined> {
  return trx.selectFrom('refunds').select('id').where('payment_id', '=', paymentId).where('status', 'in', ['pending', 'processing']).executeTakeFirst();
}

/** A payment's latest captured (or partially refunded) attempt, the one a refund refers to. */
export function selectLastCapturedAttempt(trx: Transaction<Database>, paymentId: string): Promise<PaymentAttempt | undefined> {
  return trx
    .selectFrom('payment_attempts')
    .selectAll()
    .where('payment_id', '=', paymentId)
    .where('status', 'in', ['captured', 'partially_refunded'])
    .orderBy('number', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** Writes a new refund and returns its row. */
export function insertRefund(trx: Transaction<Database>, values: Insertable<RefundsTable>): Promise<Refund> {
  return trx.insertInto('refunds').values(values).returningAll().executeTakeFirstOrThrow();
}

/** Settles a refund still pending or processing (its lease released); undefined when it had settled already. */
export function settleRefundRow(
  trx: Transaction<Database>,
  id: string,
  status: 'succeeded' | 'failed',
  error?: { code: string; message: string },
): Promise<Refund | undefined> {
  return trx
    .updateTable('refunds')
    .set({ status, error_code: error?.code ?? null, error_message: error?.message ?? null, locked_until: null, updated_at: new Date() })
    .where('id', '=', id)
    .where('status', 'in', ['pending', 'processing'])
    .returningAll()
    .executeTakeFirst();
}

/** A refund's row, which must exist (kysely's NoResultError otherwise). */
export function selectRefundOrThrow(db: Db, id: string): Promise<Refund> {
  return db.selectFrom('refunds').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

/** A payment's row, which must exist (kysely's NoResultError otherwise). */
export function selectPaymentOrThrow(db: Db, id: string): Promise<Payment> {
  return db.selectFrom('payments').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

/** Takes a pending refund to `processing` under a lease of `lease` (an SQL interval); undefined when it was not pending. */
export function claimPendingRefund(db: Db, id: string, lease: string): Promise<Refund | undefined> {
  return db
    .updateTable('refunds')
    .set({ status: 'processing', locked_until: sql<Date>`now() + ${lease}::interval`, updated_at: new Date() })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .returningAll()
    .executeTakeFirst();
}

/** An attempt's row, which must exist (kysely's NoResultError otherwise). */
export function selectAttemptOrThrow(db: Db, id: string): Promise<PaymentAttempt> {
  return db.selectFrom('payment_attempts').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

/** Notes on a refund the error of a sending whose answer is unknown (its status stays as it is). */
export async function recordRefundError(db: Db, id: string, code: string, message: string): Promise<void> {
  await db.updateTable('refunds').set({ error_code: code, error_message: message, updated_at: new Date() }).where('id', '=', id).execute();
}

/** Up to `limit` refunds still pending (never sent) whose last change is older than `olderThan` (an SQL interval). */
export function selectUnsentRefunds(db: Db, olderThan: string, limit: number): Promise<Array<{ id: string }>> {
  return db
    .selectFrom('refunds')
    .select('id')
    .where('status', '=', 'pending')
    .where('updated_at', '<', sql<Date>`now() - ${olderThan}::interval`)
    .limit(limit)
    .execute();
}

/** Renews, by `lease` (an SQL interval), the lease of up to `limit` processing refunds whose lease expired, and returns them. */
export async function leaseStaleRefunds(db: Db, lease: string, limit: number): Promise<Refund[]> {
  const stale = await sql<Refund>`
    UPDATE refunds SET locked_until = now() + ${lease}::interval
    WHERE id IN (SELECT id FROM refunds WHERE status = 'processing' AND locked_until < now() ORDER BY locked_until LIMIT ${limit} FOR UPDATE SKIP LOCKED)
    RETURNING *`.execute(db);
  return stale.rows;
}

/** A payment's refunded amount, which must exist (kysely's NoResultError otherwise). */
export function selectAmountRefunded(db: Db, paymentId: string): Promise<{ amount_refunded: number }> {
  return db.selectFrom('payments').select('amount_refunded').where('id', '=', paymentId).executeTakeFirstOrThrow();
}

/** A merchant's refunds of one payment, oldest first. */
export function selectPaymentRefunds(db: Db, merchantId: string, paymentId: string): Promise<Refund[]> {
  return db
    .selectFrom('refunds')
    .selectAll()
    .where('merchant_id', '=', merchantId)
    .where('payment_id', '=', paymentId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}

/** One of a merchant's refunds. */
export function selectMerchantRefund(db: Db, merchantId: string, id: string): Promise<Refund | undefined> {
  return db.selectFrom('refunds').selectAll().where('merchant_id', '=', merchantId).where('id', '=', id).executeTakeFirst();
}
