import { sql, type Insertable, type Kysely, type Transaction } from 'kysely';
import type { Database, OnpayUsersTable } from '../schema.js';

type Db = Kysely<Database>;

/** Adds an OnPay partner with the hash of its activation key. */
export async function insertOnpayPartner(db: Db, merchantId: string, activationKeyHash: string): Promise<void> {
  await db.insertInto('onpay_partners').values({ merchant_id: merchantId, activation_key_hash: activationKeyHash }).execute();
}

/** Trades an unused activation key (by hash) for a production key; returns the partner, or nothing if the key is spent or unknown. */
export function activateOnpayPartner(db: Db, activationKeyHash: string, keyHash: string, keyPrefix: string, now: Date) {
  return db
    .updateTable('onpay_partners')
    .set({ activated_at: now, key_hash: keyHash, key_prefix: keyPrefix })
    .where('activation_key_hash', '=', activationKeyHash)
    .where('activated_at', 'is', null)
    .returning('merchant_id')
    .executeTakeFirst();
}

/** The partner a production key's hash belongs to. */
export function findOnpayPartnerByKeyHash(db: Db, keyHash: string) {
  return db.selectFrom('onpay_partners').select('merchant_id').where('key_hash', '=', keyHash).executeTakeFirst();
}

/** The partner's end user of one quadruple (by its hash), if there is one. */
export function findOnpayUserRow(db: Db, merchantId: string, side: string, gateway: string, quadrupleHash: string) {
  return db
    .selectFrom('onpay_users')
    .selectAll()
    .where('merchant_id', '=', merchantId)
    .where('side', '=', side)
    .where('gateway', '=', gateway)
    .where('quadruple_hash', '=', quadrupleHash)
    .executeTakeFirst();
}

/** Serializes the first links of one quadruple until the transaction ends (the user row may not exist yet). */
export async function lockOnpayUser(trx: Transaction<Database>, merchantId: string, side: string, quadrupleHash: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtextextended(${`onpay_user:${merchantId}:${side}:${quadrupleHash}`}, 0))`.execute(trx);
}

/** Adds an end user unless its quadruple already has one; returns the new row, or nothing on a conflict. */
export function insertOnpayUser(db: Db, user: Insertable<OnpayUsersTable>) {
  return db
    .insertInto('onpay_users')
    .values(user)
    .onConflict((oc) => oc.columns(['merchant_id', 'side', 'gateway', 'quadruple_hash']).doNothing())
    .returningAll()
    .executeTakeFirst();
}

/** The payment an end user's extId already names, locked for the caller's transaction. */
export function lockOnpayLink(trx: Transaction<Database>, userId: string, extId: string) {
  return trx.selectFrom('onpay_links').select('payment_id').where('user_id', '=', userId).where('ext_id', '=', extId).forUpdate().executeTakeFirst();
}

/** Records a link under the end user's extId unless it is taken; returns the row, or nothing if it was. */
export function insertOnpayLink(db: Db, userId: string, extId: string, paymentId: string) {
  return db
    .insertInto('onpay_links')
    .values({ user_id: userId, ext_id: extId, payment_id: paymentId })
    .onConflict((oc) => oc.columns(['user_id', 'ext_id']).doNothing())
    .returning('payment_id')
    .executeTakeFirst();
}

/** Frees an end user's extId. */
export async function deleteOnpayLink(db: Db, userId: string, extId: string): Promise<void> {
  await db.deleteFrom('onpay_links').where('user_id', '=', userId).where('ext_id', '=', extId).execute();
}

/** An applied notification of an OnPay link, with the payment's amount. */
export interface OnpayNotificationRow {
  ext_id: string;
  outcome: string | null;
  summary: Record<string, unknown> | null;
  received_at: Date;
  processed_at: Date | null;
  amount: number;
  currency: string;
}

/** The applied notifications of an end user's links, oldest first: of one extId, since an instant, or captures only unless `all`. */
export async function onpayLinkNotifications(db: Db, userId: string, extId: string | null, since: Date | null, all: boolean): Promise<OnpayNotificationRow[]> {
  const rows = await sql<OnpayNotificationRow>`
    SELECT l.ext_id, n.outcome, n.summary, n.received_at, n.processed_at, p.amount, p.currency
    FROM onpay_links l
    JOIN payments p ON p.id = l.payment_id
    JOIN notifications n ON n.payment_id = l.payment_id AND n.status = 'applied'
    WHERE l.user_id = ${userId}
      AND (${extId}::text IS NULL OR l.ext_id = ${extId})
      AND (${since}::timestamptz IS NULL OR n.received_at >= ${since})
      AND (${all} OR n.outcome = 'captured')
    ORDER BY n.received_at, n.id`.execute(db);
  return rows.rows;
}

/** An end user with its connection's credentials and the counts of its links made in a period. */
export interface OnpayUserReportRow {
  connection_id: string;
  gateway: string;
  credentials_encrypted: string;
  nrlink: number;
  first_link: Date;
  last_link: Date;
  nrlink_paid: number;
  amount_paid: Array<{ amount: number; currency: string }> | null;
}

/** The partner's end users of one side with links made from `from` to `to`, optionally of one gateway or one user, by first link. */
export async function onpayUserReport(
  db: Db,
  merchantId: string,
  side: string,
  from: Date,
  to: Date,
  gateway: string | null,
  userId: string | null,
): Promise<OnpayUserReportRow[]> {
  const rows = await sql<OnpayUserReportRow>`
    SELECT u.connection_id, u.gateway, c.credentials_encrypted, count(*)::int AS nrlink, min(l.created_at) AS first_link, max(l.created_at) AS last_link,
      count(*) FILTER (WHERE p.amount_captured > 0)::int AS nrlink_paid,
      json_agg(json_build_object('amount', p.amount_captured, 'currency', p.currency)) FILTER (WHERE p.amount_captured > 0) AS amount_paid
    FROM onpay_users u
    JOIN connections c ON c.id = u.connection_id
    JOIN onpay_links l ON l.user_id = u.id AND l.created_at >= ${from} AND l.created_at <= ${to}
    JOIN payments p ON p.id = l.payment_id
    WHERE u.merchant_id = ${merchantId} AND u.side = ${side}
      AND (${gateway}::text IS NULL OR u.gateway = ${gateway})
      AND (${userId}::text IS NULL OR u.id = ${userId})
    GROUP BY u.id, u.connection_id, u.gateway, c.credentials_encrypted
    ORDER BY min(l.created_at)`.execute(db);
  return rows.rows;
}
