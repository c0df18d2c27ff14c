import { effectiveStatus, type PaymentStatus } from '../core/transitions.js';
import type { Payment, Refund } from '../store/schema.js';
import { lockPayment } from '../store/queries/payments.js';
import { deliveryIsOfPayment, selectPaymentFingerprint } from '../store/queries/payment-live.js';
import { ConflictError, NotFoundError, type HubContext } from './context.js';
import { loadPaymentConnection } from './connections.js';
import { cancelPayment } from './ledger/index.js';
import { getPaymentRow } from './payments.js';
import { createRefundOnce, listRefunds } from './refunds.js';
import { inTransaction } from './unit-of-work.js';
import { redeliver } from './webhooks.js';

/**
 * What a person does to one payment from the console, over the same use cases as the API: a refund is
 * `createRefundOnce` (the refund endpoint's, with its idempotency key), a cancel is the ledger's `cancelPayment`,
 * a redelivery is `webhooks.redeliver`. Each takes the scope of the console's user: one merchant's id, or null
 * for the operator (who acts on behalf of the payment's merchant); another merchant's payment is not found.
 */

/** How a payment may be refunded now: through the hub at all, only in full or any part, and how much remains. */
export interface RefundOptions {
  payment: Payment;
  /** The payment's processor (its connection's provider). */
  provider: string;
  /** The processor's refunds through its API: none (its back office only), full only, or any part. */
  mode: 'none' | 'full' | 'partial';
  /** Paid or partly refunded, with something left to refund. */
  refundableNow: boolean;
  /** Minor units of the payment's currency that remain to refund. */
  remaining: number;
}

export async function refundOptions(ctx: HubContext, scope: string | null, paymentId: string): Promise<RefundOptions> {
  const payment = await getPaymentRow(ctx.db, scope, paymentId);
  const loaded = await loadPaymentConnection(ctx, paymentId);
  const mode = loaded.connector.refund ? loaded.connector.capabilities.refunds : 'none';
  const remaining = Math.max(0, payment.amount_captured - payment.amount_refunded);
  return {
    payment,
    provider: loaded.row.provider,
    mode,
    refundableNow: (payment.status === 'paid' || payment.status === 'partially_refunded') && remaining > 0,
    remaining,
  };
}

/**
 * Refunds a payment exactly as `POST /v1/payments/{id}/refunds` does, once per key: the same key (a form
 * submitted twice) answers the refund already made.
 */
export async function refundPayment(ctx: HubContext, scope: string | null, paymentId: string, amount: number, key: string) {
  const payment = await getPaymentRow(ctx.db, scope, paymentId);
  return createRefundOnce(ctx, payment.merchant_id, paymentId, { amount }, key);
}

/** A payment's refunds, oldest first. */
export async function paymentRefunds(ctx: HubContext, scope: string | null, paymentId: string): Promise<Refund[]> {
  const payment = await getPaymentRow(ctx.db, scope, paymentId);
  return listRefunds(ctx, payment.merchant_id, paymentId);
}

/** Whether the payment's state allows a cancel: only a payment still waiting for its payer (pending, not expired). */
export function cancelable(payment: Pick<Payment, 'status' | 'expires_at'>, now = new Date()): boolean {
  return effectiveStatus(payment.status as PaymentStatus, payment.expires_at, now) === 'pending';
}

/**
 * Cancels a payment that waits for its payer (the ledger's cancel, with its event), for the console and for
 * `POST /v1/payments/{id}/cancel`. Idempotent: a payment canceled already is answered as it is (no second event);
 * any other state (paid, failed, expired, processing …) is a conflict that names it.
 */
export async function cancelMerchantPayment(ctx: HubContext, scope: string | null, paymentId: string): Promise<Payment> {
  return inTransaction(ctx, async (trx) => {
    const locked = await lockPayment(trx, paymentId, scope ?? undefined);
    if (!locked) throw new NotFoundError(`no payment ${JSON.stringify(paymentId)}`);
    if (locked.status === 'canceled') return locked;
    if (!cancelable(locked)) {
      const status = effectiveStatus(locked.status as PaymentStatus, locked.expires_at, new Date());
      throw new ConflictError(`only a pending payment can be canceled; this one is ${status}`);
    }
    return cancelPayment(ctx, trx, paymentId);
  });
}

/** Queues one of the payment's webhook deliveries again (`webhooks.redeliver`); a delivery of another payment is not found. */
export async function redeliverPaymentDelivery(ctx: HubContext, scope: string | null, paymentId: string, deliveryId: string) {
  const payment = await getPaymentRow(ctx.db, scope, paymentId);
  if (!(await deliveryIsOfPayment(ctx.db, deliveryId, paymentId))) throw new NotFoundError(`no webhook delivery ${JSON.stringify(deliveryId)}`);
  return redeliver(ctx, payment.merchant_id, deliveryId);
}

/** A text that changes whenever anything on the payment's timeline changes (what an open console page polls). */
export async function paymentFingerprint(ctx: HubContext, scope: string | null, paymentId: string): Promise<string | undefined> {
  return selectPaymentFingerprint(ctx.db, scope, paymentId);
}
