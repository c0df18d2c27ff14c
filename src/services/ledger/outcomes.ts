import { newId } from '../../core/ids.js';
import { toStorable } from '../../core/storable-text.js';
import { transitionAttempt, transitionPayment, STATUS_EVENTS, type AttemptStatus, type EventType, type PaymentStatus } from '../../core/transitions.js';
import type { OperationReport, VerifiedNotification } from '../../connectors/types.js';
import type { Payment, PaymentAttempt } from '../../store/schema.js';
import type { NewEvent } from '../../store/queries/events.js';
import { insertOperationAnswer, settleInboxRow } from '../../store/queries/inbox.js';
import { applyChange, readLedgerRows, readLockedLedgerRow, type AppliedStatement, type LedgerRow, type PlannedChange } from '../../store/queries/ledger.js';
import { TurnBatch } from '../../store/turn-batch.js';
import { cacheSlot } from '../hub-caches.js';
import { notificationOutcomes } from '../../observability/metrics.js';
import type { HubContext } from '../context.js';
import { paymentMethodFamily } from '../payment-methods.js';
import { inTransaction, noteOutboxWrite } from '../unit-of-work.js';
import { anyHookWants, runHooks, type LedgerCause } from './hooks.js';
import { paymentSnapshot, presentAttempt } from './snapshots.js';

/** The hub's reply codes for a statement the ledger checks refuse (the inbox answers the processor with them). */
export const LEDGER_REFUSALS = { unknownOrder: 0x300000f7, integrity: 0x300000f8 } as const;

export type Applied = { status: 'applied' | 'duplicate' | 'ignored'; paymentId: string };
export type Refused = { status: 'rejected'; code: number; reason: string; paymentId?: string };

/** The ledger checks (the order is ours, for this connection, for this amount) and the transitions. */
function planApplication(ctx: HubContext, connectionId: string, v: VerifiedNotification, row: LedgerRow | undefined): PlannedChange | Refused {
  if (!row) return { status: 'rejected', code: LEDGER_REFUSALS.unknownOrder, reason: `unknown order ${v.reference}` };
  const payment: Payment = row;
  if (payment.connection_id !== connectionId)
    return { status: 'rejected', code: LEDGER_REFUSALS.unknownOrder, reason: `order ${v.reference} does not belong to this connection`, paymentId: payment.id };
  if ((v.expected.amount !== undefined && v.expected.amount !== row.attempt_amount) || v.expected.currency !== row.attempt_currency) {
    return {
      status: 'rejected',
      code: LEDGER_REFUSALS.integrity,
      reason: `amount mismatch: the notification is for ${v.expected.amount ?? '?'} ${v.expected.currency}, the order is for ${row.attempt_amount} ${row.attempt_currency}`,
      paymentId: payment.id,
    };
  }
  if (v.outcome.kind === 'refunded' && v.outcome.totalRefunded > row.attempt_amount) {
    return {
      status: 'rejected',
      code: LEDGER_REFUSALS.integrity,
      reason: `refund total ${v.outcome.totalRefunded} exceeds the order's ${row.attempt_amount} ${row.attempt_currency}`,
      paymentId: payment.id,
    };
  }
  const now = new Date();
  const outcome = v.outcome;
  const change = transitionPayment({ ...payment, status: payment.status as PaymentStatus }, outcome);
  const attemptStatus = transitionAttempt(row.attempt_status as AttemptStatus, outcome, {
    total: change.state.amount_refunded,
    captured: change.state.amount_captured,
  });
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
      id: row.attempt_id,
      payment_id: payment.id,
      number: row.attempt_number,
      provider: row.attempt_provider,
      amount: row.attempt_amount,
      currency: row.attempt_currency,
      redirect: null,
      created_at: row.attempt_created_at,
      updated_at: now,
      reconciled_at: null,
      ...attempt,
    };
    events.push({
      merchantId: payment.merchant_id,
      type: 'payment.attempt_failed',
      paymentId: payment.id,
      data: { ...paymentSnapshot(ctx, updated), attempt: presentAttempt(failedAttempt) },
    });
  }
  return { row, updated, changed: change.changed, ignored, ignoredReason: change.ignoredReason ?? null, attempt, events, now };
}

/** The statement as the ledger's write records it in the inbox row. */
function appliedStatement(connectionId: string, notificationId: string, v: VerifiedNotification): AppliedStatement {
  const method = typeof v.summary.payment_method === 'string' ? v.summary.payment_method.trim().slice(0, 100) : '';
  return {
    connectionId,
    notificationId,
    dedupeKey: v.dedupeKey,
    outcomeKind: v.outcome.kind,
    summary: v.summary,
    paymentMethod: method ? { name: method, family: paymentMethodFamily(method) } : undefined,
  };
}

/** Per database, the ledger rows that notifications of the current event-loop turn read (one query for the turn). */
const ledgerReads = cacheSlot('ledger rows read in this turn', (db) => new TurnBatch<string, LedgerRow>((references) => readLedgerRows(db, references)));

/** How many times the optimistic path re-reads a row that changed under it before taking the locking path. */
const OPTIMISTIC_TRIES = 3;

/**
 * Checks a verified notification against the ledger and applies it: the attempt, its payment, the inbox row and
 * the outbox change together or not at all, and every notification of one payment is applied against the state
 * the previous one left (across processes).
 *
 * The common case takes two statements and no explicit transaction: the row is read, the change worked out, and
 * one statement applies it only if the row still holds what was read (a compare-and-swap under a row lock; if
 * it moved, the row is read again). A statement that a surface's hook wants to see (a conversation's payment
 * step, an invoice's payment: asked with the row read), or one that keeps losing the race, takes the locking path: one transaction that locks the attempt
 * and its payment first (the statement after the lock sees what the previous holder committed), applies the same
 * statement, then calls the hooks.
 */
export async function applyVerified(ctx: HubContext, connectionId: string, notificationId: string, verified: VerifiedNotification): Promise<Applied | Refused> {
  // A processor's answer is recorded whatever text it holds (its connector refuses unstorable notifications, but
  // an answer to the hub's own call must be kept): what the database cannot hold becomes U+FFFD.
  const v = toStorable(verified);
  const cause: LedgerCause = { kind: 'outcome', outcome: v.outcome.kind, summary: v.summary };
  const statement = appliedStatement(connectionId, notificationId, v);
  const result = (plan: PlannedChange, duplicateOf: string | null): Applied => ({
    status: duplicateOf ? 'duplicate' : plan.ignored ? 'ignored' : 'applied',
    paymentId: plan.row.id,
  });
  for (let i = 0; i < OPTIMISTIC_TRIES; i++) {
    const row = await ctx.caches.of(ledgerReads).load(v.reference);
    // A change a surface's hook wants (asked with the row just read: no more I/O) takes the locked path.
    if (row && anyHookWants(ctx.ledgerHooks, cause, row)) break;
    const plan = planApplication(ctx, connectionId, v, row);
    if ('status' in plan) return plan;
    const applied = await applyChange(ctx.db, statement, plan, 'compare-and-swap');
    if (!applied.applied) continue;
    const answer = result(plan, applied.duplicate_of);
    if (answer.status === 'applied') noteOutboxWrite(ctx, ctx.db);
    return answer;
  }
  return inTransaction(ctx, async (trx) => {
    const plan = planApplication(ctx, connectionId, v, await readLockedLedgerRow(trx, v.reference));
    if ('status' in plan) return plan;
    const applied = await applyChange(trx, statement, plan, 'locked');
    const answer = result(plan, applied.duplicate_of);
    if (answer.status === 'applied') {
      await runHooks(ctx.ledgerHooks, trx, plan.row, plan.updated, cause);
      noteOutboxWrite(ctx, trx);
    }
    return answer;
  });
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
  await insertOperationAnswer(ctx.db, { id, provider: connection.provider, connectionId: connection.id, body: Buffer.from(rawAnswer), source });
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
    await settleInboxRow(ctx.db, id, { status: 'rejected', error: result.reason, summary: toStorable(report.summary), paymentId: result.paymentId ?? null });
  }
  notificationOutcomes.inc({ provider: connection.provider, outcome: `${source}_${result.status}` });
  return result;
}
