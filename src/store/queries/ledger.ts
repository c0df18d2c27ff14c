import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import type { Database, Payment } from '../schema.js';
import { eventCtes, type NewEvent } from './events.js';
import { registerPaymentMethodCte } from './payment-methods.js';

/** A payment joined with one of its attempts: what applying a processor's statement reads and checks. */
export interface LedgerRow extends Payment {
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

/** The attempt's fields a processor's statement may change. */
export interface AttemptFields {
  status: string;
  processor_reference: string | null;
  action: string | null;
  error_code: string | null;
  error_message: string | null;
  pan_masked: string | null;
}

const ledgerRowSelect = sql`
  SELECT p.*, a.id AS attempt_id, a.number AS attempt_number, a.provider AS attempt_provider, a.created_at AS attempt_created_at, a.status AS attempt_status,
    a.amount AS attempt_amount, a.currency AS attempt_currency, a.processor_reference, a.action, a.error_code, a.error_message, a.pan_masked
  FROM payment_attempts a JOIN payments p ON p.id = a.payment_id`;

/** The ledger row an attempt id names, locked for the caller's transaction. */
export async function readLockedLedgerRow(trx: Transaction<Database>, attemptId: string): Promise<LedgerRow | undefined> {
  return (await sql<LedgerRow>`${ledgerRowSelect} WHERE a.id = ${attemptId} FOR UPDATE OF p, a`.execute(trx)).rows[0];
}

/** The ledger rows of several attempts, in one statement whose text is the same whatever their number. */
export async function readLedgerRows(db: Kysely<Database>, attemptIds: string[]): Promise<Map<string, LedgerRow>> {
  const rows = await sql<LedgerRow>`${ledgerRowSelect} WHERE a.id = ANY(${attemptIds}::text[])`.execute(db);
  return new Map(rows.rows.map((r) => [r.attempt_id, r]));
}

/** A change worked out from a ledger row, for `applyChange` to write. */
export interface PlannedChange {
  row: LedgerRow;
  /** The payment after the change (the row itself when nothing changes). */
  updated: Payment;
  changed: boolean;
  ignored: boolean;
  ignoredReason: string | null;
  attempt: AttemptFields;
  events: NewEvent[];
  now: Date;
}

/** The processor's statement being applied, as the inbox row records it. */
export interface AppliedStatement {
  connectionId: string;
  notificationId: string;
  dedupeKey: string;
  outcomeKind: string;
  summary: Record<string, unknown>;
  /** A payment method the statement names, trimmed to its stored length, with its family. */
  paymentMethod?: { name: string; family: string };
}

/**
 * The statement that applies a planned change: the duplicate check, then, unless it found one, the attempt, the
 * payment, the payment method and the events; the inbox row either way. Under `compare-and-swap` it does all that
 * only if the ledger row still holds what the plan was worked out from (`unchangedCte`); under `locked` the caller's
 * transaction already holds the row.
 */
export async function applyChange(
  db: Kysely<Database>,
  s: AppliedStatement,
  plan: PlannedChange,
  mode: 'compare-and-swap' | 'locked',
): Promise<{ duplicate_of: string | null; applied: boolean }> {
  const { row, attempt, updated: p, now } = plan;
  const cas = mode === 'compare-and-swap';
  const guard = cas ? sql`EXISTS (SELECT 1 FROM unchanged)` : sql`true`;
  const prelude = cas ? unchangedCte(row) : sql``;
  const fresh = sql`NOT EXISTS (SELECT 1 FROM duplicate) AND ${guard}`;
  const method = s.paymentMethod ? registerPaymentMethodCte(s.paymentMethod.name, s.paymentMethod.family, fresh) : undefined;
  const extra = [method, ...plan.events.map((e, i) => eventCtes(`event_${i}`, e, fresh))].filter((c) => c !== undefined);
  const result = await sql<{ duplicate_of: string | null; applied: boolean }>`
    WITH ${prelude} duplicate AS (
      SELECT id FROM notifications
      WHERE connection_id = ${s.connectionId} AND dedupe_key = ${s.dedupeKey} AND status = 'applied'
      LIMIT 1
    ), attempt AS (
      UPDATE payment_attempts SET status = ${attempt.status}, processor_reference = ${attempt.processor_reference}, action = ${attempt.action},
        error_code = ${attempt.error_code}, error_message = ${attempt.error_message}, pan_masked = ${attempt.pan_masked}, updated_at = ${now}
      WHERE id = ${row.attempt_id} AND ${fresh}
    ), payment AS (
      UPDATE payments SET status = ${p.status}, amount_authorized = ${p.amount_authorized}, amount_captured = ${p.amount_captured},
        amount_refunded = ${p.amount_refunded}, paid_late = ${p.paid_late}, updated_at = ${now}
      WHERE id = ${row.id} AND ${plan.changed} AND ${fresh}
    ), inbox AS (
      UPDATE notifications SET payment_id = ${row.id}, attempt_id = ${row.attempt_id}, dedupe_key = ${s.dedupeKey}, summary = ${JSON.stringify(s.summary)},
        processed_at = ${now},
        status = CASE WHEN ${fresh} THEN ${plan.ignored ? 'ignored' : 'applied'} ELSE 'duplicate' END,
        error = CASE WHEN ${fresh} THEN ${plan.ignored ? (plan.ignoredReason ?? 'stale notification') : null} ELSE 'same as ' || (SELECT id FROM duplicate) END,
        outcome = CASE WHEN ${fresh} THEN ${s.outcomeKind} END
      WHERE id = ${s.notificationId} AND ${guard}
    )${extra.length ? sql`, ${sql.join(extra)}` : sql``}
    SELECT (SELECT id FROM duplicate) AS duplicate_of, ${guard} AS applied`.execute(db);
  return result.rows[0]!;
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
