import type { Transaction } from 'kysely';
import { newId } from '../core/ids.js';
import { toDecimalString } from '../core/money.js';
import { FieldErrors } from '../core/validation.js';
import type { RefundRequest } from '../connectors/types.js';
import type { Database, Refund } from '../store/schema.js';
import { lockPayment } from '../store/queries/payments.js';
import {
  claimPendingRefund,
  insertRefund,
  leaseStaleRefunds,
  recordRefundError,
  selectAmountRefunded,
  selectAttemptOrThrow,
  selectConnectionOrThrow,
  selectLastCapturedAttempt,
  selectMerchantRefund,
  selectOpenRefund,
  selectPaymentOrThrow,
  selectPaymentRefunds,
  selectRefundOrThrow,
  selectUnsentRefunds,
  settleRefundRow,
} from '../store/queries/refunds.js';
import { ConflictError, NotFoundError, UnprocessableError, type HubContext } from './context.js';
import { loadConnection, loadPaymentConnection } from './connections.js';
import { paymentSnapshot, recordOperationReport } from './ledger/index.js';
import { getPaymentRow } from './payments.js';
import { hashRequest, runIdempotent } from './idempotency.js';
import { inTransaction, noteOutboxWrite } from './unit-of-work.js';
import { callProcessor, isOperationError } from './processor-calls.js';
import { refundProblem } from './payment-requirements.js';
import { reconcileAttempt } from './reconcile.js';
import { emitEvent } from './webhooks.js';

/**
 * Refunds made through the processor's API (connectors with `refund`). A refund is written first (`pending`),
 * then sent (`processing`, under a lease), then settled by the processor's answer (`succeeded` / `failed`).
 * The ledger's refunded amount moves only through the processor's statements (its answer, its notification, a
 * status check), never through the request itself. One refund at a time per payment: the processor sees the
 * refunds in the order the ledger does.
 */

/** How long a sent refund may stay unanswered before the janitor asks the processor what happened. */
const SEND_LEASE = '5 minutes';
/** A refund written but never sent (the process died in between) is sent by the janitor after this. */
const UNSENT_AFTER = '30 seconds';

export function presentRefund(r: Refund) {
  return {
    id: r.id,
    object: 'refund' as const,
    payment_id: r.payment_id,
    attempt_id: r.attempt_id,
    amount: r.amount,
    currency: r.currency,
    reason: r.reason,
    status: r.status,
    error_code: r.error_code,
    error_message: r.error_message,
    created_at: new Date(r.created_at).toISOString(),
    updated_at: new Date(r.updated_at).toISOString(),
  };
}

export interface CreateRefundInput {
  amount?: number;
  reason?: string;
}

/** Writes a refund of a captured payment (all that remains when no amount is given), inside the caller's transaction. */
export async function createRefund(
  ctx: HubContext,
  trx: Transaction<Database>,
  merchantId: string,
  paymentId: string,
  input: CreateRefundInput,
): Promise<Refund> {
  const payment = await lockPayment(trx, paymentId, merchantId);
  if (!payment) throw new NotFoundError(`no payment ${JSON.stringify(paymentId)}`);
  const connection = await selectConnectionOrThrow(trx, payment.connection_id);
  const loaded = loadConnection(ctx, connection);
  if (!loaded.connector.refund) {
    throw new UnprocessableError(`${connection.provider} refunds are made in the processor's own back office; the hub records them from its notifications`);
  }
  if (payment.status !== 'paid' && payment.status !== 'partially_refunded') {
    throw new UnprocessableError(`only a paid payment can be refunded; this one is ${payment.status}`);
  }
  const open = await selectOpenRefund(trx, paymentId);
  if (open) throw new ConflictError(`refund ${open.id} of this payment is still in progress; try again when it has settled`);
  const attempt = await selectLastCapturedAttempt(trx, paymentId);
  if (!attempt) throw new UnprocessableError('this payment has no captured attempt to refund');
  const available = payment.amount_captured - payment.amount_refunded;
  const amount = input.amount ?? available;
  const errors = new FieldErrors();
  if (!Number.isSafeInteger(amount) || amount <= 0) errors.add('amount', 'must be a positive integer of minor units');
  else if (amount > available)
    errors.add('amount', `must be at most ${available} (${toDecimalString(available, payment.currency)} ${payment.currency} remain to refund)`);
  errors.throwIfAny();
  // What the processor refunds (capabilities.refunds): nothing through the hub, only in full, or any part.
  const refusal = refundProblem(loaded.connector.capabilities, connection.provider, {
    amount,
    captured: payment.amount_captured,
    refundedBefore: payment.amount_refunded,
  });
  if (refusal?.field) errors.add(refusal.field, refusal.message);
  else if (refusal) throw new UnprocessableError(refusal.message);
  errors.throwIfAny();
  const now = new Date();
  return insertRefund(trx, {
    id: newId('ref'),
    merchant_id: merchantId,
    payment_id: paymentId,
    attempt_id: attempt.id,
    amount,
    currency: payment.currency,
    refunded_before: payment.amount_refunded,
    reason: input.reason ?? null,
    status: 'pending',
    created_at: now,
    updated_at: now,
  });
}

/**
 * `POST /v1/payments/{id}/refunds`: writes a refund once per Idempotency-Key and sends it (the janitor sends it if
 * this process dies first); a replay answers the refund as it is now.
 */
export async function createRefundOnce(
  ctx: HubContext,
  merchantId: string,
  paymentId: string,
  input: CreateRefundInput,
  key: string | undefined,
): Promise<{ refund: Refund; status: number; replayed: boolean }> {
  const path = `/v1/payments/${paymentId}/refunds`;
  const stored = await runIdempotent(ctx.db, merchantId, key, hashRequest('POST', path, input), async (trx) => ({
    status: 201,
    body: presentRefund(await createRefund(ctx, trx, merchantId, paymentId, input)),
  }));
  const refundId = (stored.body as { id: string }).id;
  const refund = stored.replayed ? await getRefund(ctx, merchantId, refundId) : await sendRefund(ctx, refundId);
  return { refund, status: stored.status, replayed: stored.replayed };
}

async function settle(ctx: HubContext, refund: Refund, status: 'succeeded' | 'failed', error?: { code: string; message: string }): Promise<Refund> {
  return inTransaction(ctx, async (trx) => {
    const updated = await settleRefundRow(trx, refund.id, status, error);
    if (!updated) return selectRefundOrThrow(trx, refund.id);
    if (status === 'failed') {
      const payment = await selectPaymentOrThrow(trx, refund.payment_id);
      await emitEvent(trx, refund.merchant_id, 'payment.refund_failed', refund.payment_id, {
        ...paymentSnapshot(ctx, payment),
        refund: presentRefund(updated),
      });
      noteOutboxWrite(ctx, trx);
    }
    return updated;
  });
}

/**
 * Sends a pending refund to the processor and settles it from the answer. An answer that never came (timeout,
 * network) leaves it `processing`: the janitor asks the processor later rather than sending it twice.
 */
export async function sendRefund(ctx: HubContext, refundId: string): Promise<Refund> {
  const claimed = await claimPendingRefund(ctx.db, refundId, SEND_LEASE);
  if (!claimed) return selectRefundOrThrow(ctx.db, refundId);
  const attempt = await selectAttemptOrThrow(ctx.db, claimed.attempt_id);
  const loaded = await loadPaymentConnection(ctx, claimed.payment_id);
  const request: RefundRequest = {
    reference: attempt.id,
    processorReference: attempt.processor_reference,
    amount: attempt.amount,
    currency: attempt.currency,
    refundId: claimed.id,
    refundAmount: claimed.amount,
    refundedBefore: claimed.refunded_before,
    now: new Date(),
  };
  const res = await callProcessor(ctx, loaded, 'refund', (token) => loaded.connector.refund!.request(loaded.config, request, token));
  if (isOperationError(res)) {
    ctx.logger.warn({ refund: claimed.id, code: res.code }, 'refund sent, answer unknown; the janitor will ask the processor');
    await recordRefundError(ctx.db, claimed.id, res.code, res.message);
    return { ...claimed, error_code: res.code, error_message: res.message };
  }
  const answer = loaded.connector.refund!.response(loaded.config, request, res);
  if (isOperationError(answer)) {
    if (answer.failure !== 'refused') {
      await recordRefundError(ctx.db, claimed.id, answer.code, answer.message);
      return { ...claimed, error_code: answer.code, error_message: answer.message };
    }
    return settle(ctx, claimed, 'failed', answer);
  }
  const recorded = await recordOperationReport(ctx, loaded.row, { id: attempt.id, currency: attempt.currency }, 'refund', res.body, answer);
  if (recorded.status === 'rejected') return settle(ctx, claimed, 'failed', { code: 'ledger_refused', message: recorded.reason });
  return settle(ctx, claimed, 'succeeded');
}

/**
 * The refunds janitor: sends refunds that were written but never sent, and asks the processor about refunds
 * whose answer never came (lease expired), settling them by what the ledger then holds.
 */
export async function settleStaleRefunds(ctx: HubContext, limit = 10): Promise<number> {
  const unsent = await selectUnsentRefunds(ctx.db, UNSENT_AFTER, limit);
  for (const r of unsent) await sendRefund(ctx, r.id);
  const stale = await leaseStaleRefunds(ctx.db, SEND_LEASE, limit);
  for (const refund of stale) {
    const checked = await reconcileAttempt(ctx, refund.attempt_id);
    if (!checked) continue; // the processor is still unreachable: the lease was renewed, ask again later
    const payment = await selectAmountRefunded(ctx.db, refund.payment_id);
    if (payment.amount_refunded >= Number(refund.refunded_before) + Number(refund.amount)) await settle(ctx, refund, 'succeeded');
    else await settle(ctx, refund, 'failed', { code: 'not_confirmed', message: 'the processor did not confirm this refund; it shows no refund for it' });
  }
  return unsent.length + stale.length;
}

export async function listRefunds(ctx: HubContext, merchantId: string, paymentId: string): Promise<Refund[]> {
  await getPaymentRow(ctx.db, merchantId, paymentId);
  return selectPaymentRefunds(ctx.db, merchantId, paymentId);
}

export async function getRefund(ctx: HubContext, merchantId: string, id: string): Promise<Refund> {
  const row = await selectMerchantRefund(ctx.db, merchantId, id);
  if (!row) throw new NotFoundError(`no refund ${JSON.stringify(id)}`);
  return row;
}
