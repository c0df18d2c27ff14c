import type { Transaction } from 'kysely';
import { transitionPayment, type HubEvent, type PaymentStatus } from '../../core/transitions.js';
import type { Database, Payment } from '../../store/schema.js';
import { insertEvent } from '../../store/queries/events.js';
import { lockDuePendingPayments, lockPayment, updatePaymentStatus } from '../../store/queries/payments.js';
import type { HubContext } from '../context.js';
import { inTransaction, noteOutboxWrite } from '../unit-of-work.js';
import { runHooks } from './hooks.js';
import { paymentSnapshot } from './snapshots.js';

const EVENT_OF: Record<HubEvent, 'payment.expired' | 'payment.canceled'> = { expire: 'payment.expired', cancel: 'payment.canceled' };

/** Applies a hub event to a payment whose row the caller's transaction holds; answers the row after it. */
async function applyHubEvent(ctx: HubContext, trx: Transaction<Database>, p: Payment, kind: HubEvent): Promise<Payment> {
  const change = transitionPayment({ ...p, status: p.status as PaymentStatus }, { kind });
  if (!change.changed) return p;
  const updated = await updatePaymentStatus(trx, p.id, change.state.status);
  await insertEvent(trx, { merchantId: p.merchant_id, type: EVENT_OF[kind], paymentId: p.id, data: paymentSnapshot(ctx, updated) });
  noteOutboxWrite(ctx, trx);
  await runHooks(ctx.ledgerHooks, trx, p, updated, { kind });
  return updated;
}

/** Stores the expiry of pending payments whose deadline passed (reads already show them expired). */
export async function expireDuePayments(ctx: HubContext, limit = 100): Promise<number> {
  return inTransaction(ctx, async (trx) => {
    const due = await lockDuePendingPayments(trx, limit);
    for (const p of due) await applyHubEvent(ctx, trx, p, 'expire');
    return due.length;
  });
}

/**
 * Cancels a payment, inside the caller's transaction (a surface cancels along with its own writes), unless the
 * transitions keep it (a payment already paid stays paid).
 */
export async function cancelPayment(ctx: HubContext, trx: Transaction<Database>, paymentId: string): Promise<Payment> {
  const p = await lockPayment(trx, paymentId);
  if (!p) throw new Error(`no payment ${paymentId} to cancel`);
  return applyHubEvent(ctx, trx, p, 'cancel');
}
