import { randomBytes, randomUUID } from 'node:crypto';
import { sql, type Selectable, type Transaction } from 'kysely';
import { bankById } from './banks.js';
import { voltJson } from './notification-body.js';
import type { Account, EmuVoltDb, EmuVoltTables, PaymentStatus, StatusUpdate } from './schema.js';
import type { PaymentRequest } from './validation.js';

/** Volt payments in the sandbox: creation, the checkout's state changes, refunds, and the notifications each queues. */

export type PaymentRow = Selectable<EmuVoltTables['emu_volt_payments']>;
type Trx = Transaction<EmuVoltTables>;

export const OPEN_STATUSES: readonly PaymentStatus[] = ['NEW_PAYMENT', 'BANK_REDIRECT'];
export const REFUNDABLE_STATUSES: readonly PaymentStatus[] = ['COMPLETED'];
const CURRENCY_NAMES: Readonly<Record<string, string>> = { EUR: 'Euro', GBP: 'Pound Sterling', PLN: 'Polish Zloty' };

/** The broad status a notification and the return URL carry for a detailed one. */
export function broadStatus(status: PaymentStatus): 'COMPLETED' | 'PENDING' | 'FAILED' {
  if (status === 'COMPLETED') return 'COMPLETED';
  return status === 'NEW_PAYMENT' || status === 'BANK_REDIRECT' ? 'PENDING' : 'FAILED';
}

function update(status: PaymentStatus): string {
  return JSON.stringify([{ createdAt: new Date().toISOString(), newStatus: status } satisfies StatusUpdate]);
}

export async function findPayment(db: EmuVoltDb | Trx, id: string): Promise<PaymentRow | undefined> {
  if (!/^[0-9a-f-]{36}$/.test(id)) return undefined;
  return db.selectFrom('emu_volt_payments').selectAll().where('id', '=', id).executeTakeFirst();
}

/** A new payment; undefined when the account already has one with this uniqueReference. */
export async function createPayment(db: EmuVoltDb, account: Account, req: PaymentRequest): Promise<PaymentRow | undefined> {
  // Volt makes up the uniqueReference when only merchantInternalReference is given.
  const uniqueReference = req.uniqueReference ?? randomBytes(9).toString('hex').toUpperCase();
  return db
    .insertInto('emu_volt_payments')
    .values({
      id: randomUUID(),
      client_id: account.client_id,
      unique_reference: uniqueReference,
      merchant_internal_reference: req.merchantInternalReference ?? null,
      currency: req.currencyCode,
      amount: req.amount,
      type: req.type,
      shopper: JSON.stringify(req.shopper),
      notification_url: req.urls.notificationUrl ?? null,
      success_url: req.urls.paymentSuccessUrl ?? null,
      failure_url: req.urls.paymentFailureUrl ?? null,
      pending_url: req.urls.paymentPendingUrl ?? null,
      cancel_url: req.urls.paymentCancelUrl ?? null,
      checkout_token: randomBytes(24).toString('base64url'),
      status: 'NEW_PAYMENT',
      status_updates: update('NEW_PAYMENT'),
    })
    .onConflict((oc) => oc.columns(['client_id', 'unique_reference']).doNothing())
    .returningAll()
    .executeTakeFirst();
}

/** `GET /payments/{id}` in Volt's shape. */
export function paymentView(p: PaymentRow) {
  const bank = bankById(p.bank_id);
  return {
    id: p.id,
    active: true,
    createdAt: new Date(p.created_at).toISOString(),
    currency: { id: p.currency, name: CURRENCY_NAMES[p.currency] ?? p.currency, decimal: 2, active: true },
    amount: Number(p.amount),
    type: p.type,
    uniqueReference: p.unique_reference,
    merchantInternalReference: p.merchant_internal_reference,
    bank: bank ? { id: bank.id, name: bank.name, country: bank.country, officialName: bank.officialName, active: true } : null,
    status: p.status,
    statusUpdates: p.status_updates,
    shopper: p.shopper,
    refundedAmount: Number(p.refunded),
  };
}

async function notificationUrlOf(trx: Trx, p: PaymentRow, forRefund: boolean): Promise<string | null> {
  const account = await trx.selectFrom('emu_volt_accounts').select('notification_url').where('client_id', '=', p.client_id).executeTakeFirst();
  // Payment notifications go where the payment asked, else to the application's URL; refund notifications
  // always go to the application's URL (Volt's rule), which falls back here to the payment's when the
  // sandbox application has none configured.
  return forRefund ? (account?.notification_url ?? p.notification_url) : (p.notification_url ?? account?.notification_url ?? null);
}

/**
 * Queues one notification, due after `firstDueMs`: a request that makes the first attempt itself passes the
 * notifier's lease, so that the worker does not race it.
 */
export async function queueNotification(
  trx: Trx,
  row: { client_id: string; payment_id: string | null; url: string | null; body: string; volt_type?: string },
  firstDueMs: number,
): Promise<number | undefined> {
  if (!row.url) return undefined;
  const queued = await trx
    .insertInto('emu_volt_notifications')
    .values({
      client_id: row.client_id,
      payment_id: row.payment_id,
      url: row.url,
      body: row.body,
      volt_type: row.volt_type ?? null,
      status: 'pending',
      next_attempt_at: sql<Date>`now() + ${firstDueMs} * interval '1 millisecond'` as unknown as Date,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(queued.id);
}

function paymentNotification(p: PaymentRow): string {
  const bank = bankById(p.bank_id);
  const status = p.status;
  return voltJson({
    payment: p.id,
    reference: p.unique_reference,
    ...(p.merchant_internal_reference !== null ? { merchantInternalReference: p.merchant_internal_reference } : {}),
    amount: Number(p.amount),
    status: broadStatus(status),
    detailedStatus: status,
    ...(bank ? { groupName: bank.name } : {}),
  });
}

/**
 * Moves an open payment to `to` (optionally recording the bank chosen) and queues the notification that
 * reports it, in one transaction, due after `firstDueMs` (the lease of the caller's own first attempt).
 * Undefined when the payment was no longer open (a double submit).
 */
export async function transition(
  db: EmuVoltDb,
  id: string,
  to: PaymentStatus,
  firstDueMs: number,
  bankId?: string,
): Promise<{ payment: PaymentRow; notificationId?: number } | undefined> {
  return db.transaction().execute(async (trx) => {
    const from: readonly PaymentStatus[] = to === 'BANK_REDIRECT' ? ['NEW_PAYMENT'] : OPEN_STATUSES;
    const payment = await trx
      .updateTable('emu_volt_payments')
      .set({
        status: to,
        status_updates: sql`status_updates || ${update(to)}::jsonb` as unknown as string,
        ...(bankId ? { bank_id: bankId } : {}),
        updated_at: new Date(),
      })
      .where('id', '=', id)
      .where('status', 'in', from)
      .returningAll()
      .executeTakeFirst();
    if (!payment) return undefined;
    const notificationId = await queueNotification(
      trx,
      { client_id: payment.client_id, payment_id: payment.id, url: await notificationUrlOf(trx, payment, false), body: paymentNotification(payment) },
      firstDueMs,
    );
    return { payment, notificationId };
  });
}

/**
 * Payments left open past the checkout's lifetime become ABANDONED_BY_USER; returns how many. Their
 * notifications are due at once: no request is waiting to make a first attempt.
 */
export async function abandonExpired(db: EmuVoltDb, ttlMs: number): Promise<number> {
  const due = await db
    .selectFrom('emu_volt_payments')
    .select('id')
    .where('status', 'in', OPEN_STATUSES)
    .where('created_at', '<', sql<Date>`now() - ${ttlMs} * interval '1 millisecond'`)
    .limit(20)
    .execute();
  let count = 0;
  for (const { id } of due) if (await transition(db, id, 'ABANDONED_BY_USER', 0)) count++;
  return count;
}

export type RefundResult = { ok: true; refundId: string; notificationId?: number } | { ok: false; status: number; message: string; property?: string };

/**
 * Volt sandbox refund: refused unless the payment completed and the amount is within what is left;
 * confirmed at once, with its refund_confirmed notification. The idempotency key makes a retry harmless.
 */
export async function requestRefund(
  db: EmuVoltDb,
  account: Account,
  paymentId: string,
  input: { amount?: number; externalReference?: string; idempotencyKey?: string },
  leaseMs: number,
): Promise<RefundResult> {
  return db.transaction().execute(async (trx): Promise<RefundResult> => {
    const payment = await trx
      .selectFrom('emu_volt_payments')
      .selectAll()
      .where('id', '=', paymentId)
      .where('client_id', '=', account.client_id)
      .forUpdate()
      .executeTakeFirst();
    if (!payment) return { ok: false, status: 404, message: 'Payment not found' };
    if (input.idempotencyKey) {
      const seen = await trx
        .selectFrom('emu_volt_refunds')
        .select('id')
        .where('client_id', '=', account.client_id)
        .where('idempotency_key', '=', input.idempotencyKey)
        .executeTakeFirst();
      if (seen) return { ok: false, status: 403, message: 'A resource has already been created with this idempotency key.' };
    }
    if (!REFUNDABLE_STATUSES.includes(payment.status))
      return { ok: false, status: 422, message: `Payment with id: ${payment.id} cannot be refunded in status ${payment.status}.` };
    const available = Number(payment.amount) - Number(payment.refunded);
    const amount = input.amount ?? available;
    if (available <= 0) return { ok: false, status: 422, message: `Payment with id: ${payment.id} has been fully refunded.` };
    if (amount > available) return { ok: false, status: 422, message: `The refund amount exceeds the available amount of ${available}.`, property: 'amount' };
    const refundId = randomUUID();
    await trx
      .insertInto('emu_volt_refunds')
      .values({
        id: refundId,
        payment_id: payment.id,
        client_id: account.client_id,
        amount,
        external_reference: input.externalReference ?? null,
        idempotency_key: input.idempotencyKey ?? null,
        status: 'REFUND_CONFIRMED',
      })
      .execute();
    await trx
      .updateTable('emu_volt_payments')
      .set({ refunded: Number(payment.refunded) + amount, updated_at: new Date() })
      .where('id', '=', payment.id)
      .execute();
    const body = voltJson({
      refund: refundId,
      payment: payment.id,
      status: 'REFUND_CONFIRMED',
      error: '',
      amount,
      currency: payment.currency,
      externalReference: input.externalReference ?? null,
      merchantInternalReference: payment.merchant_internal_reference,
      timestamp: new Date().toISOString().replace(/\.\d{3}Z$/, '+00:00'),
    });
    const notificationId = await queueNotification(
      trx,
      { client_id: account.client_id, payment_id: payment.id, url: await notificationUrlOf(trx, payment, true), body, volt_type: 'refund_confirmed' },
      leaseMs,
    );
    return { ok: true, refundId, notificationId };
  });
}
