import { sql, type Kysely } from 'kysely';
import { newId } from '../../core/ids.js';
import type { Database } from '../schema.js';

type Db = Kysely<Database>;

/**
 * The console's overview: aggregates of the payments created since a moment, of one merchant or (null) of all.
 * Payment ids are time-ordered (`core/ids.ts`: ten characters of milliseconds after the prefix), so "created since"
 * is also a range of ids: each statement bounds `id` from below to read the index on `(merchant_id, id)` (or, for
 * every merchant, the primary key) as a range, and filters `created_at` exactly. The id bound is taken a day earlier
 * than the period, so a clock of the process that made an id running behind the database's never hides a payment.
 * Days are UTC days, whatever the session's time zone.
 */

export interface OverviewRange {
  /** Null: every merchant's payments (the operator's view). */
  merchantId: string | null;
  /** Payments created at or after this moment. */
  since: Date;
}

const PAID = sql`('paid', 'partially_refunded', 'refunded')`;
const FINAL = sql`('paid', 'partially_refunded', 'refunded', 'canceled', 'expired')`;
const ID_SLACK_MS = 86_400_000;

/** The smallest payment id made at `ms` or later (the prefix and the id's ten time characters). */
export function paymentIdFloor(ms: number): string {
  return newId('pay', Math.max(0, ms)).slice(0, 'pay_'.length + 10);
}

function scope(r: OverviewRange, alias = 'p') {
  const p = sql.ref(alias);
  const merchant = r.merchantId === null ? sql`` : sql`${p}.merchant_id = ${r.merchantId} AND `;
  return sql`${merchant}${p}.id >= ${paymentIdFloor(r.since.getTime() - ID_SLACK_MS)} AND ${p}.created_at >= ${r.since}`;
}

/** A count or a sum as the drivers hand it back (bigint and numeric travel as text). */
const n = (v: unknown) => Number(v ?? 0);

/** Per UTC day and currency: payments created, those paid, and the amount captured of the paid ones. */
export async function selectDailyTotals(db: Db, r: OverviewRange) {
  const { rows } = await sql<{ day: string; currency: string; created: string; paid: string; volume: string | null }>`
    SELECT to_char(p.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, p.currency,
      count(*) AS created,
      count(*) FILTER (WHERE p.status IN ${PAID}) AS paid,
      sum(p.amount_captured) FILTER (WHERE p.status IN ${PAID}) AS volume
    FROM payments p
    WHERE ${scope(r)}
    GROUP BY 1, 2
    ORDER BY 1, 2`.execute(db);
  return rows.map((row) => ({ day: row.day, currency: row.currency.trim(), created: n(row.created), paid: n(row.paid), volume: n(row.volume) }));
}

/** Per connection: payments created, those paid, and those that reached a final state (paid, refunded, canceled, expired). */
export async function selectConnectionOutcomes(db: Db, r: OverviewRange) {
  const { rows } = await sql<{ connection_id: string; code: string; provider: string; merchant_id: string; created: string; paid: string; final: string }>`
    SELECT p.connection_id, c.code, c.provider, c.merchant_id,
      count(*) AS created,
      count(*) FILTER (WHERE p.status IN ${PAID}) AS paid,
      count(*) FILTER (WHERE p.status IN ${FINAL}) AS final
    FROM payments p JOIN connections c ON c.id = p.connection_id
    WHERE ${scope(r)}
    GROUP BY p.connection_id, c.code, c.provider, c.merchant_id
    ORDER BY c.merchant_id, c.code`.execute(db);
  return rows.map((row) => ({ ...row, created: n(row.created), paid: n(row.paid), final: n(row.final) }));
}

/** The failed attempts of those payments by processor and code (the most frequent first), with one of their messages. */
export async function selectDeclineReasons(db: Db, r: OverviewRange, limit: number) {
  const { rows } = await sql<{ provider: string; error_code: string | null; message: string | null; attempts: string }>`
    SELECT a.provider, a.error_code, max(a.error_message) AS message, count(*) AS attempts
    FROM payments p JOIN payment_attempts a ON a.payment_id = p.id
    WHERE ${scope(r)} AND a.status = 'failed'
    GROUP BY a.provider, a.error_code
    ORDER BY count(*) DESC, a.provider, a.error_code
    LIMIT ${limit}`.execute(db);
  return rows.map((row) => ({ ...row, attempts: n(row.attempts) }));
}

/** Of those payments: how many are pending, and how many have an attempt whose outcome is unknown. */
export async function selectWaiting(db: Db, r: OverviewRange) {
  const { rows } = await sql<{ pending: string; unknown: string }>`
    SELECT count(*) FILTER (WHERE p.status = 'pending') AS pending,
      count(*) FILTER (WHERE EXISTS (SELECT 1 FROM payment_attempts a WHERE a.payment_id = p.id AND a.status = 'unknown')) AS unknown
    FROM payments p
    WHERE ${scope(r)}`.execute(db);
  return { pending: n(rows[0]?.pending), unknown: n(rows[0]?.unknown) };
}
