import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../schema.js';

type Db = Kysely<Database>;

/** One merchant as the operator's list shows it: how many live API keys and how much it has. */
export interface MerchantSummaryRow {
  id: string;
  name: string;
  live_keys: number;
  created_at: Date;
  payments: number;
  connections: number;
  users: number;
  onpay_partner: boolean;
}

/** Every merchant, newest first, with its live API keys, payments, active connections and console users counted. */
export async function selectMerchantSummaries(db: Db): Promise<MerchantSummaryRow[]> {
  const rows = await sql<MerchantSummaryRow>`
    SELECT m.id, m.name, m.created_at,
      (SELECT count(*) FROM merchant_api_keys k WHERE k.merchant_id = m.id AND k.revoked_at IS NULL)::int AS live_keys,
      (SELECT count(*) FROM payments p WHERE p.merchant_id = m.id)::int AS payments,
      (SELECT count(*) FROM connections c WHERE c.merchant_id = m.id AND c.status = 'active')::int AS connections,
      (SELECT count(*) FROM users u WHERE u.merchant_id = m.id)::int AS users,
      EXISTS (SELECT 1 FROM onpay_partners o WHERE o.merchant_id = m.id) AS onpay_partner
    FROM merchants m
    ORDER BY m.id DESC`.execute(db);
  return rows.rows;
}

/** An OnPay partner: its merchant, and whether (and when) it traded its activation key for a production key. */
export interface OnpayPartnerRow {
  merchant_id: string;
  name: string;
  created_at: Date;
  activated_at: Date | null;
  key_prefix: string | null;
}

/** Every OnPay partner, newest first. */
export function selectOnpayPartners(db: Db): Promise<OnpayPartnerRow[]> {
  return db
    .selectFrom('onpay_partners as o')
    .innerJoin('merchants as m', 'm.id', 'o.merchant_id')
    .select(['o.merchant_id', 'm.name', 'o.created_at', 'o.activated_at', 'o.key_prefix'])
    .orderBy('o.created_at', 'desc')
    .orderBy('o.merchant_id', 'desc')
    .execute() as Promise<OnpayPartnerRow[]>;
}

/** The webhook outbox: deliveries due now (and the oldest one's due time), waiting for a retry later, and failed for good. */
export interface DeliveryHealthRow {
  due: number;
  oldest_due_at: Date | null;
  retrying: number;
  failed: number;
  failed_last_day: number;
}

export async function selectDeliveryHealth(db: Db, now: Date): Promise<DeliveryHealthRow> {
  const pending = await sql<{ due: number; oldest_due_at: Date | null; retrying: number }>`
    SELECT count(*) FILTER (WHERE next_attempt_at <= ${now})::int AS due,
      min(next_attempt_at) FILTER (WHERE next_attempt_at <= ${now}) AS oldest_due_at,
      count(*) FILTER (WHERE next_attempt_at > ${now} AND attempts > 0)::int AS retrying
    FROM webhook_deliveries WHERE status = 'pending'`.execute(db);
  const failed = await sql<{ failed: number; failed_last_day: number }>`
    SELECT count(*)::int AS failed, count(*) FILTER (WHERE created_at > ${new Date(now.getTime() - 86_400_000)})::int AS failed_last_day
    FROM webhook_deliveries WHERE status = 'failed'`.execute(db);
  return { ...pending.rows[0]!, ...failed.rows[0]! };
}

/** Notifications stored but not yet processed (the inbox's backlog) and the oldest one's arrival. */
export async function selectInboxBacklog(db: Db): Promise<{ waiting: number; oldest_at: Date | null }> {
  const r = await sql<{ waiting: number; oldest_at: Date | null }>`
    SELECT count(*)::int AS waiting, min(received_at) AS oldest_at FROM notifications WHERE status = 'received'`.execute(db);
  return r.rows[0]!;
}

/** Notifications refused since `since`, by processor and reason, the most frequent first. */
export async function selectRefusedNotifications(
  db: Db,
  since: Date,
  limit: number,
): Promise<Array<{ provider: string; reason: string; count: number; last_at: Date }>> {
  const r = await sql<{ provider: string; reason: string; count: number; last_at: Date }>`
    SELECT provider, coalesce(error, '') AS reason, count(*)::int AS count, max(received_at) AS last_at
    FROM notifications WHERE status = 'rejected' AND received_at >= ${since}
    GROUP BY provider, coalesce(error, '')
    ORDER BY count(*) DESC, max(received_at) DESC
    LIMIT ${limit}`.execute(db);
  return r.rows;
}

/** The database server's own description (`version()`) and the size of the current database in bytes. */
export async function selectDatabaseFacts(db: Db): Promise<{ version: string; size_bytes: string | number | null }> {
  const r = await sql<{ version: string; size_bytes: string | number | null }>`
    SELECT version() AS version, pg_database_size(current_database()) AS size_bytes`.execute(db);
  return r.rows[0]!;
}

/** Serializes the first start's operator check across every hub process on this database schema (until the transaction ends). */
export async function lockFirstOperator(trx: Transaction<Database>): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtextextended('incasso.first-operator.' || current_schema(), 0))`.execute(trx);
}

/** The operators (enabled ones), oldest first, with whether each has a password and a usable one-time link. */
export async function selectOperatorsForFirstStart(
  db: Db,
  now: Date,
): Promise<Array<{ id: string; email: string; has_password: boolean; has_live_link: boolean }>> {
  const r = await sql<{ id: string; email: string; has_password: boolean; has_live_link: boolean }>`
    SELECT u.id, u.email, u.password_hash IS NOT NULL AS has_password,
      EXISTS (SELECT 1 FROM user_password_tokens t WHERE t.user_id = u.id AND t.used_at IS NULL AND t.expires_at > ${now}) AS has_live_link
    FROM users u WHERE u.role = 'operator' AND u.disabled_at IS NULL
    ORDER BY u.created_at, u.id`.execute(db);
  return r.rows;
}

/** Whether any operator exists, enabled or not. */
export async function anyOperator(db: Db): Promise<boolean> {
  const r = await db.selectFrom('users').select('id').where('role', '=', 'operator').limit(1).executeTakeFirst();
  return r !== undefined;
}
