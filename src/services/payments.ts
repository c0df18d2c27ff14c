import { effectiveStatus, type PaymentStatus } from '../core/transitions.js';
import { FieldErrors } from '../core/validation.js';
import type { Redirect } from '../connectors/types.js';
import type { Payment, PaymentAttempt } from '../store/schema.js';
import { selectAttempt, selectAttempts, selectLastAttempt, selectPayment, selectPaymentNotifications, selectPaymentPage } from '../store/queries/payments.js';
import { NotFoundError, type HubContext } from './context.js';
import { getConnection, loadConnection } from './connections.js';
import { startAttempt } from './attempt-start.js';
import { openAttempt, paymentSnapshot, presentAttempt } from './ledger/index.js';
import type { PaymentProblem } from './payment-requirements.js';
import {
  selectAttemptsOfDeliveries,
  selectConnectionChoices,
  selectDeliveriesOfEvents,
  selectPaymentEvents,
  selectPaymentNotificationBodies,
} from '../store/queries/payment-timeline.js';
import { redactBody } from './redact.js';

/**
 * Payments as merchants and payers read them, and the payment page's hand-off. Every write is the ledger's
 * (`ledger/`): creating a payment, opening an attempt, storing what the processor said.
 */

export async function getPaymentRow(db: HubContext['db'], merchantId: string | null, id: string): Promise<Payment> {
  const row = await selectPayment(db, merchantId, id);
  if (!row) throw new NotFoundError(`no payment ${JSON.stringify(id)}`);
  return row;
}

/** A payment by id, whoever's it is (the payer's pages know it by its id alone). */
export function findPayment(ctx: HubContext, id: string): Promise<Payment> {
  return getPaymentRow(ctx.db, null, id);
}

/** A payment's latest attempt, if it has one. */
export function lastAttemptOf(ctx: HubContext, paymentId: string): Promise<PaymentAttempt | undefined> {
  return selectLastAttempt(ctx.db, paymentId);
}

/** A payment with every attempt and every notification received for it. */
export async function getPayment(ctx: HubContext, merchantId: string | null, id: string) {
  const payment = await getPaymentRow(ctx.db, merchantId, id);
  const [attempts, notifications] = await Promise.all([selectAttempts(ctx.db, id), selectPaymentNotifications(ctx.db, id)]);
  return {
    ...paymentSnapshot(ctx, payment),
    attempts: attempts.map(presentAttempt),
    notifications: notifications.map((n) => ({
      id: n.id,
      provider: n.provider,
      attempt_id: n.attempt_id,
      received_at: new Date(n.received_at).toISOString(),
      status: n.status,
      summary: n.summary,
      error: n.error,
    })),
  };
}

export interface ListPaymentsFilter {
  status?: string;
  order_id?: string;
  connection?: string;
  created_gte?: string;
  created_lte?: string;
  starting_after?: string;
  limit?: number;
}

/** Newest first, cursor-paginated by id (ids are time-ordered). */
export async function listPayments(ctx: HubContext, merchantId: string, filter: ListPaymentsFilter) {
  const limit = Math.min(Math.max(filter.limit ?? 20, 1), 100);
  let connectionId: string | undefined;
  if (filter.connection) {
    const conn = await getConnection(ctx, merchantId, filter.connection).catch(() => null);
    if (!conn) return { object: 'list' as const, data: [], has_more: false, next_cursor: null };
    connectionId = conn.id;
  }
  const errors = new FieldErrors();
  const dateFilter = (name: 'created_gte' | 'created_lte'): Date | undefined => {
    const text = filter[name];
    if (!text) return undefined;
    const d = new Date(text);
    // Dates the schema's format accepts but a database cannot hold (year 0, a leap second) are refused here.
    if (Number.isNaN(d.getTime()) || d.getUTCFullYear() < 1 || d.getUTCFullYear() > 9999)
      errors.add(`querystring.${name}`, 'must be a date-time between years 1 and 9999');
    return d;
  };
  const createdGte = dateFilter('created_gte');
  const createdLte = dateFilter('created_lte');
  errors.throwIfAny();
  const rows = await selectPaymentPage(ctx.db, {
    merchantId,
    status: filter.status,
    orderId: filter.order_id,
    connectionId,
    createdGte,
    createdLte,
    startingAfter: filter.starting_after,
    limit: limit + 1,
  });
  const page = rows.slice(0, limit);
  const hasMore = rows.length > limit;
  return {
    object: 'list' as const,
    data: page.map((p) => paymentSnapshot(ctx, p)),
    has_more: hasMore,
    next_cursor: hasMore ? page[page.length - 1]!.id : null,
  };
}

export type PaymentPage =
  | { kind: 'redirect'; payment: Payment; redirect: Redirect }
  | { kind: 'status'; payment: Payment; status: PaymentStatus; lastAttempt?: PaymentAttempt }
  /** The processor could not be reached to open the payment; the customer may retry shortly. */
  | { kind: 'unavailable'; payment: Payment; message: string }
  /**
   * The connector could never open this payment (made before creation checked what the connector requires: a
   * missing payer field, an amount above the processor's limit); no attempt is made.
   */
  | { kind: 'unpayable'; payment: Payment; provider: string; problems: PaymentProblem[] };

/**
 * What the hosted payment page shows: the processor hand-off of the open attempt, or a new attempt when the
 * last one was declined (a declined attempt leaves the payment payable), or the payment's final status.
 */
export async function openPaymentPage(ctx: HubContext, paymentId: string): Promise<PaymentPage> {
  const opened = await openAttempt(ctx, paymentId);
  if (opened.kind === 'status' || opened.kind === 'unpayable') return opened;
  const { payment, attempt } = opened;
  if (attempt.redirect) return { kind: 'redirect', payment, redirect: attempt.redirect as unknown as Redirect };
  const loaded = loadConnection(ctx, opened.connection);
  if (!loaded.connector.start) throw new Error(`attempt ${attempt.id} has no hand-off and ${loaded.row.provider} has no start call`);
  const started = await startAttempt(ctx, payment, attempt, loaded);
  if (started.kind === 'redirect') return { kind: 'redirect', payment, redirect: started.redirect };
  if (started.kind === 'unavailable') return { kind: 'unavailable', payment, message: started.message };
  // Settled at once: show what the ledger now says.
  const now = await getPaymentRow(ctx.db, null, payment.id);
  const last = await selectAttempt(ctx.db, attempt.id);
  if (!last) throw new Error(`attempt ${attempt.id} vanished`);
  return { kind: 'status', payment: now, status: effectiveStatus(now.status as PaymentStatus, now.expires_at), lastAttempt: last };
}

/** The console's list: like `listPayments`, of one merchant or (null) of all, with the rows themselves. */
export interface PaymentSearch {
  status?: string;
  connectionId?: string;
  createdGte?: Date;
  createdLte?: Date;
  /** A payment id, order id, payer e-mail or processor reference. */
  search?: string;
  /** Only payments with an attempt whose outcome is unknown. */
  attemptUnknown?: boolean;
  startingAfter?: string;
  /** Payments in this currency whose amount (minor units of it) is within the bounds given. */
  currency?: string;
  amountGte?: number;
  amountLte?: number;
  limit?: number;
}

export async function searchPayments(ctx: HubContext, merchantId: string | null, filter: PaymentSearch) {
  const limit = Math.min(Math.max(filter.limit ?? 25, 1), 500);
  const rows = await selectPaymentPage(ctx.db, {
    merchantId,
    status: filter.status,
    connectionId: filter.connectionId,
    createdGte: filter.createdGte,
    createdLte: filter.createdLte,
    search: filter.search?.trim() || undefined,
    attemptUnknown: filter.attemptUnknown,
    currency: filter.currency,
    amountGte: filter.amountGte,
    amountLte: filter.amountLte,
    startingAfter: filter.startingAfter,
    limit: limit + 1,
  });
  const page = rows.slice(0, limit);
  const hasMore = rows.length > limit;
  return { rows: page, hasMore, nextCursor: hasMore ? page[page.length - 1]!.id : null };
}

/** The connections a merchant's (or, null, every) payment list may be filtered by. */
export function paymentConnectionChoices(ctx: HubContext, merchantId: string | null) {
  return selectConnectionChoices(ctx.db, merchantId);
}

/**
 * A payment's whole story for the console: the payment, its attempts, the notifications and processor answers
 * received (their raw bodies redacted of secrets and card data), its events and their webhook deliveries with
 * each delivery's attempts. Of one merchant, or (null) any: another merchant's payment is not found.
 */
export async function paymentTimeline(ctx: HubContext, merchantId: string | null, id: string) {
  const payment = await getPaymentRow(ctx.db, merchantId, id);
  const [attempts, notifications, events] = await Promise.all([
    selectAttempts(ctx.db, id),
    selectPaymentNotificationBodies(ctx.db, id),
    selectPaymentEvents(ctx.db, id),
  ]);
  const deliveries = await selectDeliveriesOfEvents(
    ctx.db,
    events.map((e) => e.id),
  );
  const deliveryAttempts = await selectAttemptsOfDeliveries(
    ctx.db,
    deliveries.map((d) => d.id),
  );
  return {
    payment,
    status: effectiveStatus(payment.status as PaymentStatus, payment.expires_at),
    attempts,
    notifications: notifications.map(({ body, ...n }) => ({ ...n, body: redactBody(n.content_type, body) })),
    events: events.map((e) => ({
      ...e,
      deliveries: deliveries.filter((d) => d.event_id === e.id).map((d) => ({ ...d, attempt_log: deliveryAttempts.filter((a) => a.delivery_id === d.id) })),
    })),
  };
}
