import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { FastifyBaseLogger } from 'fastify';
import type { MerchantReply } from './merchant-call.js';

/**
 * How one attempt ended. `failed` is a refusal the processor treats as final (NETOPIA's permanent errors);
 * `gave_up` is a retry the schedule has no room for.
 */
export type AttemptOutcome = 'delivered' | 'retry' | 'failed' | 'gave_up';

/** How the processor judges one answer (or its absence); `error` says why it was not delivered. */
export interface AttemptVerdict {
  outcome: 'delivered' | 'retry' | 'failed';
  error: string | null;
}

/** What an emulator's sender reports about one attempt: the processor's judgement and what came back. */
export interface AttemptReport extends AttemptVerdict {
  reply: MerchantReply;
  /** Further columns of this emulator's attempt log (Volt: the X-Volt-Timed it signed). */
  logColumns?: Record<string, string | number | null>;
}

/** Where an emulator keeps its queue. The queue table is `q` in `from`, `on` and `carries`. */
export interface DeliveryQueue {
  /** The queue table: id, status, attempts, next_attempt_at, updated_at (see delivery-tables.ts). */
  table: string;
  /** Tables an attempt reads besides its queue row, e.g. sql`emu_x_orders o`, and how they join to `q`. */
  join?: { from: RawBuilder<unknown>; on: RawBuilder<unknown> };
  /** What a claimed delivery carries besides q.id and q.attempts, e.g. sql`q.body, o.notify_url`. */
  carries: RawBuilder<unknown>;
  /** One row per attempt: which column names the delivery, and whether the reply text is kept. */
  attemptLog: { table: string; deliveryColumn: string; keepsReplies: boolean };
}

export interface RetrySchedule {
  /** Attempts per delivery, the first included; a retry past it is recorded as gave_up. */
  maxAttempts: number;
  /** The wait after failed attempt `attempt` (1-based) before the next one. */
  delayMs(attempt: number): number;
  /** Deadline of one call to the merchant. */
  timeoutMs: number;
  /** How often the worker looks for due deliveries. */
  pollMs: number;
}

/** The processor's usual schedule: base × factor^(attempt-1), never longer than `maxDelayMs`. */
export function exponentialBackoff(baseDelayMs: number, factor: number, maxDelayMs: number): (attempt: number) => number {
  return (attempt) => Math.min(baseDelayMs * factor ** (attempt - 1), maxDelayMs);
}

/** The retry options of the emulators whose processor doubles its wait after each failure (NETOPIA, Nexi). */
export interface DoublingRetryOptions {
  /** First retry delay; attempt n waits baseDelayMs × 2^(n-1), at most one hour. */
  baseDelayMs: number;
  /** Attempts per delivery, the first included. */
  maxAttempts: number;
  /** Deadline of one call to the merchant. */
  timeoutMs: number;
  /** How often the worker looks for due retries. */
  pollMs: number;
}

/** The longest wait between two attempts under a doubling schedule. */
const MAX_DOUBLING_DELAY_MS = 3600_000;

export function doublingSchedule(options: DoublingRetryOptions): RetrySchedule {
  return { ...options, delayMs: exponentialBackoff(options.baseDelayMs, 2, MAX_DOUBLING_DELAY_MS) };
}

/** A delivery as claimed: the queue row's id and attempt count (this attempt's number), plus what it carries. */
export interface ClaimedRow {
  id: number | string;
  attempts: number | string;
}

/** Due deliveries one worker claims per round trip to the database. */
const BATCH = 10;
/** Reply text kept in the delivery log. */
const LOGGED_REPLY_CHARS = 2048;
/** How much longer than the HTTP deadline a claim stays invisible to other workers. */
const LEASE_MARGIN_MS = 30_000;
const NOTHING = sql``;

/**
 * Sends what an emulator queued to merchants and retries it from a durable queue table. A claim is a lease:
 * the claiming statement bumps `attempts` and pushes `next_attempt_at` past the HTTP deadline, so no
 * transaction (and, on PGlite, no connection) is held during the call, other processes skip the row (FOR
 * UPDATE SKIP LOCKED), and a process that dies mid-attempt only delays that delivery until the lease runs out.
 * Subclasses say how one delivery is sent and judged; the queue, the schedule and the log are the same.
 */
export abstract class DeliveryWorker<Claimed extends ClaimedRow> {
  private timer: NodeJS.Timeout | undefined;
  protected stopped = true;
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly db: Kysely<any>,
    private readonly setup: {
      queue: DeliveryQueue;
      retry: RetrySchedule;
      log: FastifyBaseLogger;
      /** Logged when a round of work throws, e.g. 'Nexi emulator: notification delivery failed to run'. */
      failureMessage: string;
      /** Work each poll does before it claims deliveries (expiries, reviews); it may queue deliveries. */
      housekeeping?: () => Promise<void>;
    },
  ) {}

  /** Sends one claimed delivery (attempt number `claimed.attempts`) and judges the merchant's answer. */
  protected abstract send(claimed: Claimed): Promise<AttemptReport>;

  /** The deadline of one call to the merchant, for `send`. */
  protected get timeoutMs(): number {
    return this.setup.retry.timeoutMs;
  }

  /** How long a claimed delivery stays invisible to other workers: the HTTP deadline plus a margin. */
  get leaseMs(): number {
    return this.setup.retry.timeoutMs + LEASE_MARGIN_MS;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops polling and waits for attempts under way, so their outcome is recorded before the store closes. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Looks for due work now rather than at the next poll (after an API call queued a delivery). */
  kick(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.schedule(0);
  }

  /**
   * The first attempt of a freshly queued delivery, made by the request that caused it (queued with a lease,
   * so the worker leaves it alone). Never throws: the worker retries what fails here.
   */
  async deliverNow(id: number): Promise<AttemptOutcome | undefined> {
    const { table, join, carries } = this.setup.queue;
    return this.track(async () => {
      const { rows } = await sql<Claimed>`
        UPDATE ${sql.table(table)} q
        SET attempts = q.attempts + 1, next_attempt_at = now() + ${this.leaseMs} * interval '1 millisecond', updated_at = now()
        ${join ? sql`FROM ${join.from}` : NOTHING}
        WHERE q.id = ${id} AND q.status = 'pending' AND q.attempts = 0 ${join ? sql`AND ${join.on}` : NOTHING}
        RETURNING q.id, q.attempts, ${carries}`.execute(this.db);
      return rows[0] && this.attempt(rows[0]);
    });
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.track(() => this.poll()).finally(() => this.schedule(this.setup.retry.pollMs)), delayMs);
    // The queue is durable; a pending retry is no reason to keep the process alive.
    this.timer.unref();
  }

  private async track<T>(work: () => Promise<T>): Promise<T | undefined> {
    const promise = work().catch((err: unknown) => {
      this.setup.log.error({ err }, this.setup.failureMessage);
      return undefined;
    });
    this.inFlight.add(promise);
    try {
      return await promise;
    } finally {
      this.inFlight.delete(promise);
    }
  }

  private async poll(): Promise<void> {
    await this.setup.housekeeping?.();
    const { table, join, carries } = this.setup.queue;
    while (!this.stopped) {
      const { rows } = await sql<Claimed>`
        UPDATE ${sql.table(table)} q
        SET attempts = q.attempts + 1, next_attempt_at = now() + ${this.leaseMs} * interval '1 millisecond', updated_at = now()
        ${join ? sql`FROM ${join.from}` : NOTHING}
        WHERE ${join ? sql`${join.on} AND` : NOTHING} q.id IN (
          SELECT id FROM ${sql.table(table)}
          WHERE status = 'pending' AND next_attempt_at <= now()
          ORDER BY next_attempt_at, id
          LIMIT ${BATCH}
          FOR UPDATE SKIP LOCKED)
        RETURNING q.id, q.attempts, ${carries}`.execute(this.db);
      await Promise.all(rows.map((row) => this.attempt(row)));
      if (rows.length < BATCH) return;
    }
  }

  private async attempt(claimed: Claimed): Promise<AttemptOutcome> {
    const id = Number(claimed.id);
    const attempt = Number(claimed.attempts);
    const startedAt = new Date();
    const started = performance.now();
    const report = await this.send({ ...claimed, id, attempts: attempt });
    const outcome: AttemptOutcome = report.outcome === 'retry' && attempt >= this.setup.retry.maxAttempts ? 'gave_up' : report.outcome;
    await this.record(id, attempt, outcome, report, { startedAt, durationMs: Math.round(performance.now() - started) });
    return outcome;
  }

  private async record(
    id: number,
    attempt: number,
    outcome: AttemptOutcome,
    report: AttemptReport,
    run: { startedAt: Date; durationMs: number },
  ): Promise<void> {
    const retry = outcome === 'retry';
    const { table, attemptLog } = this.setup.queue;
    await this.db.transaction().execute(async (trx) => {
      // The attempts guard drops the record of a claim whose lease ran out and was taken over.
      const updated = await trx
        .updateTable(table)
        .set({
          status: outcome === 'delivered' ? 'delivered' : retry ? 'pending' : 'failed',
          next_attempt_at: retry ? sql<Date>`now() + ${this.setup.retry.delayMs(attempt)} * interval '1 millisecond'` : null,
          updated_at: new Date(),
        })
        .where('id', '=', id)
        .where('attempts', '=', attempt)
        .returning('next_attempt_at')
        .executeTakeFirst();
      if (!updated) return;
      const { reply } = report;
      await trx
        .insertInto(attemptLog.table)
        .values({
          [attemptLog.deliveryColumn]: id,
          attempt,
          ...report.logColumns,
          started_at: run.startedAt,
          duration_ms: run.durationMs,
          http_status: reply.status ?? null,
          ...(attemptLog.keepsReplies ? { reply: reply.status === undefined ? null : reply.body.slice(0, LOGGED_REPLY_CHARS) } : {}),
          outcome,
          error: report.error,
          next_retry_at: updated.next_attempt_at,
        })
        .execute();
    });
  }
}
