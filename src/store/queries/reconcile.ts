import { sql, type Kysely } from 'kysely';
import type { Connection, Database, PaymentAttempt } from '../schema.js';

type Db = Kysely<Database>;

/** An attempt's connection with what a status check needs of the attempt. */
export interface AttemptToCheck extends Connection {
  attempt_id: string;
  processor_reference: string | null;
  attempt_amount: number;
  attempt_currency: string;
  /** The payment's order id (the merchant's reference), for processors whose reference is made from it. */
  order_id: string;
}

/** An attempt with its payment's connection, for a status check. */
export function attemptToCheck(db: Db, attemptId: string): Promise<AttemptToCheck | undefined> {
  return db
    .selectFrom('payment_attempts as a')
    .innerJoin('payments as p', 'p.id', 'a.payment_id')
    .innerJoin('connections as c', 'c.id', 'p.connection_id')
    .selectAll('c')
    .select(['a.id as attempt_id', 'a.processor_reference', 'a.amount as attempt_amount', 'a.currency as attempt_currency', 'p.order_id'])
    .where('a.id', '=', attemptId)
    .executeTakeFirst();
}

/**
 * Claims (SKIP LOCKED, stamping `reconciled_at`) up to `limit` open attempts of these providers that are due a
 * check: older than `firstCheckMs`, younger than `giveUp`, and waited as long again as their age at the last check.
 */
export async function claimOpenAttemptsDue(db: Db, providers: readonly string[], giveUp: string, firstCheckMs: number, limit: number): Promise<string[]> {
  const due = await sql<Pick<PaymentAttempt, 'id'>>`
    UPDATE payment_attempts SET reconciled_at = now()
    WHERE id IN (
      SELECT id FROM payment_attempts
      WHERE status IN ('created', 'processing', 'authorized')
        AND provider IN (${sql.join(providers)})
        AND processor_reference IS NOT NULL
        AND created_at > now() - ${giveUp}::interval
        AND created_at < now() - ${`${firstCheckMs} milliseconds`}::interval
        AND (reconciled_at IS NULL OR reconciled_at < now() - (reconciled_at - created_at))
      ORDER BY created_at
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED
    )
    RETURNING id`.execute(db);
  return due.rows.map((r) => r.id);
}

/** The prompt schedule of attempts whose outcome is `unknown` (see checkUnknownAttempts). */
export interface PromptSchedule {
  giveUp: string;
  firstCheckMs: number;
  maxIntervalMs: number;
  phaseMs: number;
}

/**
 * Claims (SKIP LOCKED, stamping `reconciled_at`) up to `limit` `unknown` attempts of these providers that are due
 * their prompt check; `updated_at` (when the attempt became unknown) is the origin of the schedule.
 */
export async function claimUnknownAttemptsDue(db: Db, providers: readonly string[], s: PromptSchedule, limit: number): Promise<string[]> {
  const waited = sql`(reconciled_at - updated_at)`;
  const due = await sql<Pick<PaymentAttempt, 'id'>>`
    UPDATE payment_attempts SET reconciled_at = now()
    WHERE id IN (
      SELECT id FROM payment_attempts
      WHERE status = 'unknown'
        AND provider IN (${sql.join(providers)})
        AND updated_at > now() - ${s.giveUp}::interval
        AND updated_at < now() - ${`${s.firstCheckMs} milliseconds`}::interval
        AND (reconciled_at IS NULL OR reconciled_at < updated_at
          OR reconciled_at < now() - CASE
            WHEN reconciled_at < updated_at + ${`${s.phaseMs} milliseconds`}::interval
              THEN LEAST(GREATEST(${waited}, ${`${s.firstCheckMs} milliseconds`}::interval), ${`${s.maxIntervalMs} milliseconds`}::interval)
            ELSE ${waited}
          END)
      ORDER BY updated_at
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED
    )
    RETURNING id`.execute(db);
  return due.rows.map((r) => r.id);
}
