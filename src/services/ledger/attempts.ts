import { blocksNewAttempt, effectiveStatus, isPayable, type AttemptStatus, type PaymentStatus } from '../../core/transitions.js';
import { connectorFor } from '../../connectors/registry.js';
import type { Connection, Payment, PaymentAttempt } from '../../store/schema.js';
import { insertAttempt, lockPayment, replaceHandOff, selectConnection, selectLastAttempt, storeFirstHandOff } from '../../store/queries/payments.js';
import { NotFoundError, type HubContext } from '../context.js';
import { loadConnection } from '../connections.js';
import { checkPaymentAgainstConnector, type PaymentProblem } from '../payment-requirements.js';
import { inTransaction } from '../unit-of-work.js';
import { newAttempt } from './payments.js';

/** What opening a payment for its payer found. */
export type OpenedAttempt =
  /** The payment is no longer payable (or its connection is disabled): its status, and its last attempt. */
  | { kind: 'status'; payment: Payment; status: PaymentStatus; lastAttempt?: PaymentAttempt }
  /** The connector could never open this payment (made before creation checked what the connector requires). */
  | { kind: 'unpayable'; payment: Payment; provider: string; problems: PaymentProblem[] }
  /** The attempt to hand the payer to: the open one, or a new one when the last was declined. */
  | { kind: 'attempt'; payment: Payment; attempt: PaymentAttempt; connection: Connection };

/**
 * The attempt a payer opening the payment page is handed to, under the payment's row lock: the open attempt, or a
 * new one when the last one was declined (a declined attempt leaves the payment payable).
 */
export async function openAttempt(ctx: HubContext, paymentId: string): Promise<OpenedAttempt> {
  return inTransaction(ctx, async (trx) => {
    const payment = await lockPayment(trx, paymentId);
    if (!payment) throw new NotFoundError(`no payment ${JSON.stringify(paymentId)}`);
    const last = await selectLastAttempt(trx, paymentId);
    const status = effectiveStatus(payment.status as PaymentStatus, payment.expires_at);
    if (!isPayable(status)) return { kind: 'status' as const, payment, status, lastAttempt: last };
    const connection = await selectConnection(trx, payment.connection_id);
    if (!connection) throw new Error(`payment ${payment.id} names no connection`);
    const connector = connectorFor(connection.provider);
    const problems = connector ? checkPaymentAgainstConnector(connector.capabilities, { ...payment, amount: Number(payment.amount) }) : [];
    if (problems.length) return { kind: 'unpayable' as const, payment, provider: connection.provider, problems };
    if (last && last.status === 'created') return { kind: 'attempt' as const, payment, attempt: last, connection };
    // The processor may have taken the money on the last attempt: no new one until its status says.
    if (last && blocksNewAttempt(last.status as AttemptStatus)) return { kind: 'status' as const, payment, status, lastAttempt: last };
    if (connection.status !== 'active') return { kind: 'status' as const, payment, status, lastAttempt: last };
    const attempt = newAttempt(ctx, payment, loadConnection(ctx, connection), (last?.number ?? 0) + 1, new Date());
    await insertAttempt(trx, attempt);
    return { kind: 'attempt' as const, payment, attempt, connection };
  });
}

/**
 * Stores the hand-off (and the processor's reference) a start call answered for an attempt, unless another
 * request stored one first: answers whether this one was stored (two tabs racing end on one hand-off).
 */
export function storeHandOff(ctx: HubContext, attemptId: string, redirect: unknown, processorReference: string | null): Promise<boolean> {
  return storeFirstHandOff(ctx.db, attemptId, redirect, processorReference);
}

/** Replaces an attempt's hand-off with the next step of its 3-D Secure challenge. */
export function storeNextChallenge(ctx: HubContext, attemptId: string, redirect: unknown): Promise<void> {
  return replaceHandOff(ctx.db, attemptId, redirect);
}
