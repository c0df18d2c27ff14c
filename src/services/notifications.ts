import { newId } from '../core/ids.js';
import { transitionAttempt, transitionPayment, STATUS_EVENTS, type AttemptStatus, type EventType, type PaymentStatus } from '../core/transitions.js';
import { connectorFor } from '../connectors/registry.js';
import type { Connector, HttpReply, InboundNotification, VerifiedNotification } from '../connectors/types.js';
import { notificationOutcomes } from '../observability/metrics.js';
import type { HubContext } from './context.js';
import { loadConnection } from './connections.js';
import { paymentSnapshot, presentAttempt } from './payments.js';
import { emitEvent } from './webhooks.js';

/** The hub's own reply codes for what happens after verification (storage and ledger checks). */
export const INBOX_ERRORS = { storage: 0x300000f9, unknownConnection: 0x300000fa, unknownOrder: 0x300000f7, integrity: 0x300000f8, internal: 0x300000fb } as const;

export interface ReceivedNotification extends InboundNotification {
  remoteAddr?: string;
}

type Applied = { status: 'applied' | 'duplicate' | 'ignored'; paymentId: string };
type Refused = { status: 'rejected'; code: number; reason: string; paymentId?: string };

/**
 * The notification inbox (rule 2 of the design): the raw bytes are stored first; then verified; then checked
 * against the ledger and applied under a row lock in one transaction with the outbox; only then is the
 * processor answered, in its own protocol. Storage trouble answers "temporary error" so the processor retries;
 * nothing unverified or inconsistent changes the ledger.
 */
export async function receiveNotification(ctx: HubContext, provider: string, connectionId: string, n: ReceivedNotification): Promise<HttpReply> {
  const connector = connectorFor(provider);
  if (!connector) throw new Error(`no connector ${provider}`);
  const count = (outcome: string) => notificationOutcomes.inc({ provider, outcome });
  const id = newId('ntf');
  try {
    await ctx.db
      .insertInto('notifications')
      .values({ id, provider, connection_id: connectionId.slice(0, 64), remote_addr: n.remoteAddr ?? null, content_type: n.contentType?.slice(0, 200) ?? null, body: n.body, status: 'received' })
      .execute();
  } catch (e) {
    ctx.logger.error({ err: e, provider }, 'could not store an inbound notification; asking the processor to retry');
    count('error');
    return connector.replyToNotification({ kind: 'temporary_error', code: INBOX_ERRORS.storage, message: 'could not record the notification; please retry' });
  }

  const settle = async (status: string, fields: { error?: string; summary?: Record<string, unknown>; paymentId?: string }) => {
    await ctx.db
      .updateTable('notifications')
      .set({ status, error: fields.error ?? null, summary: fields.summary ? JSON.stringify(fields.summary) : null, payment_id: fields.paymentId ?? null, processed_at: new Date() })
      .where('id', '=', id)
      .execute()
      .catch((e) => ctx.logger.error({ err: e, notification: id }, 'could not mark a notification as settled'));
  };

  let verdict;
  try {
    const row = await ctx.db.selectFrom('connections').selectAll().where('id', '=', connectionId).where('provider', '=', provider).executeTakeFirst();
    if (!row) {
      await settle('rejected', { error: 'unknown connection' });
      count('rejected');
      return connector.replyToNotification({ kind: 'permanent_error', code: INBOX_ERRORS.unknownConnection, message: 'unknown connection' });
    }
    const loaded = loadConnection(ctx, row);
    verdict = connector.verifyNotification(loaded.config, n);
  } catch (e) {
    // The row stays `received`: once the cause is fixed, the processor's retry (or an operator) replays it.
    ctx.logger.error({ err: e, notification: id }, 'notification could not be processed');
    count('error');
    return connector.replyToNotification({ kind: 'temporary_error', code: INBOX_ERRORS.storage, message: 'temporary failure; please retry' });
  }
  if (!verdict.ok) {
    await settle('rejected', { error: verdict.reason });
    count('rejected');
    ctx.logger.warn({ notification: id, provider, reason: verdict.reason }, 'notification rejected');
    return connector.replyToNotification({ kind: verdict.permanent ? 'permanent_error' : 'temporary_error', code: verdict.code, message: verdict.reason });
  }

  let result: Applied | Refused;
  try {
    result = await applyVerified(ctx, connector, connectionId, id, verdict);
  } catch (e) {
    ctx.logger.error({ err: e, notification: id }, 'could not apply a verified notification; asking the processor to retry');
    count('error');
    return connector.replyToNotification({ kind: 'temporary_error', code: INBOX_ERRORS.storage, message: 'could not record the notification; please retry' });
  }
  count(result.status);
  if (result.status === 'rejected') {
    await settle('rejected', { error: result.reason, summary: verdict.summary, paymentId: result.paymentId });
    ctx.logger.warn({ notification: id, provider, reason: result.reason }, 'notification refused by the ledger checks');
    return connector.replyToNotification({ kind: 'permanent_error', code: result.code, message: result.reason });
  }
  if (result.status === 'applied') ctx.onOutboxWrite?.();
  return connector.replyToNotification({ kind: 'recorded', verdict });
}

async function applyVerified(ctx: HubContext, connector: Connector, connectionId: string, notificationId: string, v: VerifiedNotification): Promise<Applied | Refused> {
  return ctx.db.transaction().execute(async (trx) => {
    const attempt = await trx.selectFrom('payment_attempts').selectAll().where('id', '=', v.reference).executeTakeFirst();
    if (!attempt) return { status: 'rejected', code: INBOX_ERRORS.unknownOrder, reason: `unknown order ${v.reference}` };
    // The payment row lock serializes every notification of one payment, across processes.
    const payment = await trx.selectFrom('payments').selectAll().where('id', '=', attempt.payment_id).forUpdate().executeTakeFirstOrThrow();
    if (payment.connection_id !== connectionId) return { status: 'rejected', code: INBOX_ERRORS.unknownOrder, reason: `order ${v.reference} does not belong to this connection`, paymentId: payment.id };
    if (v.expected.amount !== attempt.amount || v.expected.currency !== attempt.currency) {
      return { status: 'rejected', code: INBOX_ERRORS.integrity, reason: `amount mismatch: the notification is for ${v.expected.amount} ${v.expected.currency}, the order is for ${attempt.amount} ${attempt.currency}`, paymentId: payment.id };
    }
    const duplicate = await trx
      .selectFrom('notifications')
      .select('id')
      .where('connection_id', '=', connectionId)
      .where('dedupe_key', '=', v.dedupeKey)
      .where('status', '=', 'applied')
      .limit(1)
      .executeTakeFirst();
    const base = { payment_id: payment.id, attempt_id: attempt.id, dedupe_key: v.dedupeKey, summary: JSON.stringify(v.summary), processed_at: new Date() };
    if (duplicate) {
      await trx.updateTable('notifications').set({ ...base, status: 'duplicate', error: `same as ${duplicate.id}` }).where('id', '=', notificationId).execute();
      return { status: 'duplicate', paymentId: payment.id };
    }

    const outcome = v.outcome;
    const paymentChange = transitionPayment({ ...payment, status: payment.status as PaymentStatus }, outcome);
    const attemptStatus = transitionAttempt(attempt.status as AttemptStatus, outcome, { total: paymentChange.state.amount_refunded, captured: paymentChange.state.amount_captured });
    const now = new Date();
    const failure = outcome.kind === 'failed' || outcome.kind === 'operation_failed' ? outcome : null;
    await trx
      .updateTable('payment_attempts')
      .set({
        status: attemptStatus ?? attempt.status,
        processor_reference: v.processorReference ?? attempt.processor_reference,
        action: typeof v.summary.action === 'string' ? v.summary.action : attempt.action,
        error_code: failure ? failure.code : attemptStatus && attemptStatus !== attempt.status ? null : attempt.error_code,
        error_message: failure ? failure.message : attemptStatus && attemptStatus !== attempt.status ? null : attempt.error_message,
        pan_masked: typeof v.summary.pan_masked === 'string' ? v.summary.pan_masked : attempt.pan_masked,
        updated_at: now,
      })
      .where('id', '=', attempt.id)
      .execute();

    let updated = payment;
    if (paymentChange.changed) {
      const s = paymentChange.state;
      updated = await trx
        .updateTable('payments')
        .set({ status: s.status, amount_authorized: s.amount_authorized, amount_captured: s.amount_captured, amount_refunded: s.amount_refunded, paid_late: s.paid_late, updated_at: now })
        .where('id', '=', payment.id)
        .returningAll()
        .executeTakeFirstOrThrow();
      const event = STATUS_EVENTS[s.status];
      if (event && (s.status !== payment.status || s.amount_refunded !== payment.amount_refunded)) {
        await emitEvent(trx, payment.merchant_id, event as EventType, payment.id, paymentSnapshot(ctx, updated));
      }
    }
    if (outcome.kind === 'failed' && attemptStatus === 'failed' && attempt.status !== 'failed') {
      const failedAttempt = await trx.selectFrom('payment_attempts').selectAll().where('id', '=', attempt.id).executeTakeFirstOrThrow();
      await emitEvent(trx, payment.merchant_id, 'payment.attempt_failed', payment.id, { ...paymentSnapshot(ctx, updated), attempt: presentAttempt(failedAttempt) });
    }
    const ignored = !paymentChange.changed && attemptStatus === null;
    await trx
      .updateTable('notifications')
      .set({ ...base, status: ignored ? 'ignored' : 'applied', error: ignored ? (paymentChange.ignoredReason ?? 'stale notification') : null })
      .where('id', '=', notificationId)
      .execute();
    return { status: ignored ? 'ignored' : 'applied', paymentId: payment.id };
  });
}
