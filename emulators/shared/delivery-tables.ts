import type { ColumnType, Generated, Selectable } from 'kysely';
import type { AttemptOutcome } from './delivery-worker.js';

/**
 * The tables behind a DeliveryWorker: a queue of deliveries and a log with one row per attempt. Each emulator
 * names them and adds its own columns (what is sent, whom it belongs to); the columns here are the ones the
 * worker reads and writes, so they are declared once, next to it.
 */

export type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
export type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
/** bigint columns: node-postgres returns text unless the host set a parser, so readers go through Number(). */
export type BigIntColumn = ColumnType<number | string, number, number>;

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

/** The queue's columns the worker uses. `next_attempt_at` is required on insert: a queued row says when it is due. */
export interface QueueStateColumns {
  id: ColumnType<number | string, never, never>;
  status: DeliveryStatus;
  attempts: Generated<number>;
  next_attempt_at: ColumnType<Date | null, Date | string | null, Date | string | null>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** The attempt log's columns the worker writes, `Outcome` being the outcomes this processor can produce. */
export interface AttemptLogColumns<Outcome extends AttemptOutcome = AttemptOutcome> {
  id: Generated<number | string>;
  attempt: number;
  started_at: Timestamp;
  duration_ms: number;
  http_status: number | null;
  outcome: Outcome;
  error: string | null;
  next_retry_at: Date | null;
}

/** One attempt as a back office shows it in JSON: the logged row without its keys, for testers and scripts. */
export function attemptLogEntry(a: Omit<Selectable<AttemptLogColumns>, 'id'> & { reply: string | null }) {
  return {
    attempt: a.attempt,
    started_at: a.started_at,
    duration_ms: a.duration_ms,
    http_status: a.http_status,
    reply: a.reply,
    outcome: a.outcome,
    error: a.error,
    next_retry_at: a.next_retry_at,
  };
}

/** How an emulator names its delivery tables; also what its DeliveryWorker is given (see DeliveryQueue). */
export interface DeliveryTableNames {
  table: string;
  attemptLog: { table: string; deliveryColumn: string; keepsReplies: boolean };
}

/**
 * CREATE statements for the queue (with its due-rows index) and the attempt log. `columns` are the queue's own
 * columns after its id; `logColumns` the log's own columns after `attempt`; `outcomes` what the log accepts.
 */
export function deliveryTablesDdl(names: DeliveryTableNames, own: { columns: string; logColumns?: string; outcomes: readonly AttemptOutcome[] }): string[] {
  const { table, attemptLog } = names;
  const optional = (column: string | false | undefined) => (column ? `\n    ${column},` : '');
  return [
    `CREATE TABLE IF NOT EXISTS ${table} (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ${own.columns},
    status text NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
  )`,
    `CREATE INDEX IF NOT EXISTS ${table}_due_idx ON ${table} (next_attempt_at) WHERE status = 'pending'`,
    `CREATE TABLE IF NOT EXISTS ${attemptLog.table} (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ${attemptLog.deliveryColumn} bigint NOT NULL REFERENCES ${table} (id),
    attempt integer NOT NULL,${optional(own.logColumns)}
    started_at timestamptz NOT NULL,
    duration_ms integer NOT NULL,
    http_status integer,${optional(attemptLog.keepsReplies && 'reply text')}
    outcome text NOT NULL CHECK (outcome IN (${own.outcomes.map((o) => `'${o}'`).join(', ')})),
    error text,
    next_retry_at timestamptz,
    UNIQUE (${attemptLog.deliveryColumn}, attempt)
  )`,
  ];
}
