import type { Transaction } from 'kysely';
import { newId } from '../../core/ids.js';
import { blocksNewAttempt, effectiveStatus, type AttemptStatus, type PaymentStatus } from '../../core/transitions.js';
import type { Party } from '../../connectors/types.js';
import { connectorFor } from '../../connectors/registry.js';
import type { Connection, Database, Invoice, Payment } from '../../store/schema.js';
import {
  insertCollection,
  insertInvoicePayment,
  lockInvoice,
  markCollectionReversed,
  selectInvoiceAttempts,
  selectInvoice,
  selectInvoiceByPayToken,
  selectInvoiceLines,
  selectInvoiceOfPayment,
  selectOpenPaymentCollection,
  selectUncollectedCardMoney,
  underSavepoint,
  updateInvoice,
  type InvoiceAttemptRow,
} from '../../store/queries/invoices.js';
import { findConnection, listMerchantConnections } from '../../store/queries/connections.js';
import { ConflictError, NotFoundError, type HubContext } from '../context.js';
import { createPayment, type LedgerCause, type LedgerHook } from '../ledger/index.js';
import { checkPaymentAgainstConnector } from '../payment-requirements.js';
import { invoicePayUrl } from '../hub-urls.js';
import { inTransaction, noteOutboxWrite } from '../unit-of-work.js';
import { emitEvent } from '../webhooks.js';
import { convertProformaLocked } from './documents.js';
import { presentInvoice, todayInRomania, type BuyerInput } from './inputs.js';
import { getInvoiceSettings } from './setup.js';

/**
 * Card payments of invoices. The payments and their attempts are the ledger's: this module asks it to create one
 * for an invoice's amount due (marked `surface = 'invoice'` and linked in `invoice_payments`), and its ledger hook
 * (`invoicePaymentHook`) hears of their changes inside the ledger's transaction, where it records collections and
 * moves the invoice (paid, a proforma's fiscal invoice, an overpayment, a refund).
 */

/** Whether card payment applies to a document: its own flag, else the merchant's setting. */
export function cardPaymentOn(invoice: Invoice, cardPaymentDefault: boolean): boolean {
  return invoice.card_payment ?? cardPaymentDefault;
}

/** What is still to be paid on a document (never negative). */
export function amountDue(invoice: Pick<Invoice, 'total' | 'amount_paid'>): number {
  return Math.max(0, invoice.total - invoice.amount_paid);
}

/**
 * The connections an invoice can be paid on: every active connection of its merchant whose processor takes the
 * invoice's currency and amount due. With two processors (NETOPIA and another) the customer chooses; a merchant
 * who wants a processor off the pay page disables that connection for the time being. (A per-connection choice in
 * the invoice settings can narrow this later without changing the page.)
 */
export async function invoiceConnections(db: HubContext['db'], invoice: Invoice): Promise<Connection[]> {
  const due = amountDue(invoice);
  const rows = await listMerchantConnections(db, invoice.merchant_id);
  return rows.filter((c) => {
    if (c.status !== 'active') return false;
    const connector = connectorFor(c.provider);
    if (!connector) return false;
    const problems = checkPaymentAgainstConnector(connector.capabilities, { amount: due, currency: invoice.currency });
    // Payer fields are checked when the payment is made (the buyer's e-mail, phone); here only what rules a processor out.
    return !problems.some((p) => p.field === 'currency' || p.field === 'amount');
  });
}

/** The buyer as the processor's billing party: its e-mail and phone go to the processor, which confirms there. */
export function billingOf(invoice: Invoice): Party {
  const b = invoice.buyer as unknown as BuyerInput;
  const name = (b.name ?? invoice.buyer_name).trim();
  const space = name.lastIndexOf(' ');
  const [first, last] = b.type === 'person' && space > 0 ? [name.slice(0, space), name.slice(space + 1)] : [name, name];
  return {
    type: b.type === 'company' ? 'company' : 'person',
    first_name: first,
    last_name: last,
    email: b.email ?? '',
    ...(b.phone ? { phone: b.phone } : {}),
    ...(b.address ? { address: b.address } : {}),
    ...(b.city ? { city: b.city } : {}),
    ...(b.county ? { county: b.county } : {}),
    country: b.country ?? 'RO',
    ...(b.type === 'company' ? { company: name, ...(b.fiscal_code ? { fiscal_number: b.fiscal_code } : {}) } : {}),
  };
}

/**
 * What a card payment may still be asked for: the amount due, less card money of the invoice's payments that the
 * merchant has not recorded as collections yet ("collection recorded automatically" off), so a paid card payment
 * never leaves the invoice payable again.
 */
export async function payableDue(db: HubContext['db'], invoice: Invoice): Promise<number> {
  return amountDue(invoice) - Math.max(0, await selectUncollectedCardMoney(db, invoice.id));
}

/** Why a payment of an invoice cannot start now (the pay page says it; the API answers 409). */
export class InvoiceNotPayable extends ConflictError {
  constructor(
    readonly reason: 'not_issued' | 'paid' | 'card_payment_off' | 'nothing_due' | 'in_progress' | 'connection',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Attempt statuses during which money may be moving (the processor is reviewing it, holds it authorized, or its
 * answer was lost): no other attempt of the invoice may start until the processor says how it ended.
 */
const IN_PROGRESS: ReadonlySet<string> = new Set(['processing', 'authorized', 'unknown']);
function attemptInProgress(status: string): boolean {
  return IN_PROGRESS.has(status) || blocksNewAttempt(status as AttemptStatus);
}

/** The payment started (or reused) for an invoice: the hub's payment page hands the customer to the processor. */
export interface StartedInvoicePayment {
  paymentId: string;
  invoiceId: string;
  /** Whether an earlier payment of this invoice on this connection, not yet attempted, was reused. */
  reused: boolean;
}

/**
 * Starts a card payment of an invoice on one of its connections, in one transaction with the invoice's row
 * locked (so two tabs or two processes queue here): refuses when the invoice is not payable or another attempt of
 * it is in progress (processing, unknown, authorized: the double-payment guard), reuses a payment of the same
 * connection whose customer never got to the processor (or was declined: the payment page opens a new attempt),
 * and otherwise has the ledger create a payment for the amount due, order id = the printed number, linked to the
 * invoice, before the customer is sent anywhere.
 */
export async function startInvoicePayment(ctx: HubContext, payToken: string, connectionId: string): Promise<StartedInvoicePayment> {
  return inTransaction(ctx, async (trx) => {
    const found = await selectInvoiceByPayToken(trx, payToken);
    if (!found) throw new NotFoundError('no such invoice');
    const invoice = (await lockInvoice(trx, found.merchant_id, found.id))!;
    const settings = await getInvoiceSettings({ db: trx }, invoice.merchant_id);
    if (invoice.status === 'paid') throw new InvoiceNotPayable('paid', `invoice ${invoice.full_number} is paid`);
    if (invoice.status !== 'issued') throw new InvoiceNotPayable('not_issued', `invoice ${invoice.id} is ${invoice.status}`);
    if (!cardPaymentOn(invoice, settings.card_payment_default)) throw new InvoiceNotPayable('card_payment_off', 'card payment is off for this invoice');
    const due = await payableDue(trx, invoice);
    if (due <= 0) throw new InvoiceNotPayable('nothing_due', `nothing is due on invoice ${invoice.full_number}`);
    const connection = (await invoiceConnections(trx, invoice)).find((c) => c.id === connectionId);
    if (!connection) throw new InvoiceNotPayable('connection', 'this processor does not take payments of this invoice');

    const attempts = await selectInvoiceAttempts(trx, invoice.id);
    const busy = attempts.find((a) => attemptInProgress(a.status));
    if (busy) throw new InvoiceNotPayable('in_progress', `a payment of invoice ${invoice.full_number} is in progress (${busy.provider}, ${busy.status})`);
    // A payment of this connection still payable for the amount due, whose last attempt never reached the
    // processor or was declined, is the one to continue (a reload, a second press, a retry after a wrong CVV).
    const lastByPayment = new Map<string, InvoiceAttemptRow>();
    for (const a of attempts) lastByPayment.set(a.payment_id, a);
    for (const a of lastByPayment.values()) {
      const status = effectiveStatus(a.payment_status as PaymentStatus, a.payment_expires_at);
      if (a.connection_id === connection.id && status === 'pending' && a.payment_amount === due && (a.status === 'created' || a.status === 'failed'))
        return { paymentId: a.payment_id, invoiceId: invoice.id, reused: true };
    }

    const kindWord = invoice.kind === 'proforma' ? 'Proforma' : 'Factura';
    const created = await createPayment(
      ctx,
      trx,
      invoice.merchant_id,
      {
        connection: connection.id,
        order_id: invoice.full_number!,
        amount: due,
        currency: invoice.currency,
        description: `${kindWord} ${invoice.full_number}`,
        billing: billingOf(invoice),
        // Back on the pay link once the processor is done (it then says paid, or offers the buttons again).
        return_url: invoicePayUrl(ctx, payToken),
        metadata: { language: invoice.language, invoice_id: invoice.id },
      },
      'invoice',
    );
    await insertInvoicePayment(trx, { payment_id: created.id, invoice_id: invoice.id, merchant_id: invoice.merchant_id });
    return { paymentId: created.id, invoiceId: invoice.id, reused: false };
  });
}

// ---- the ledger hook

/** An invoice's document as its events carry it. */
async function invoiceEventData(
  ctx: HubContext,
  trx: Transaction<Database>,
  invoice: Invoice,
  cardPaymentDefault: boolean,
  extra: Record<string, unknown> = {},
) {
  return { ...presentInvoice(invoice, await selectInvoiceLines(trx, invoice.id), cardPaymentDefault, ctx), ...extra };
}

/**
 * What a change of one of its payments does to an invoice, inside the ledger's transaction (the invoice's row
 * locked, so concurrent notifications of its payments, on any hub process, queue here). The ledger calls hooks
 * only for a change it applied (never for a duplicate), and its transitions are monotonic, so each captured or
 * refunded amount is seen once, whatever order the processor's notifications came in:
 * - money captured: with "collection recorded automatically" on, a card collection and the invoice's amount paid;
 *   at amount due 0 the invoice is `paid` (`invoice.paid`), and a paid proforma with "fiscal invoice
 *   automatically" on gets its fiscal invoice (`invoice.converted`), once (the proforma names it; a unique index
 *   holds it). Money captured on an invoice already paid (two tabs, two processors) is an overpayment
 *   (`invoice.overpaid`), recorded and never counted into the amount paid;
 * - an attempt declined: `invoice.payment_failed`;
 * - money refunded: a negative collection that reverses the payment's collection, and the amount due back.
 */
export async function applyInvoicePaymentChange(
  ctx: HubContext,
  trx: Transaction<Database>,
  before: Payment,
  after: Payment,
  cause: LedgerCause,
): Promise<void> {
  const link = await selectInvoiceOfPayment(trx, after.id);
  if (!link) return;
  const locked = await lockInvoice(trx, link.merchant_id, link.invoice_id);
  if (!locked) return;
  let invoice = locked;
  const settings = await getInvoiceSettings({ db: trx }, invoice.merchant_id);
  const captured = after.amount_captured - before.amount_captured;
  const refunded = after.amount_refunded - before.amount_refunded;
  // The payment's latest attempt as the ledger just wrote it: its processor's reference and failure.
  const attempt = (await selectInvoiceAttempts(trx, invoice.id)).filter((a) => a.payment_id === after.id).at(-1);
  const reference = attempt?.processor_reference ?? null;
  const processor = (await findConnection(trx, invoice.merchant_id, after.connection_id))?.provider ?? null;
  const emit = async (type: 'invoice.paid' | 'invoice.payment_failed' | 'invoice.overpaid' | 'invoice.converted', extra: Record<string, unknown> = {}) => {
    await emitEvent(trx, invoice.merchant_id, type, after.id, await invoiceEventData(ctx, trx, invoice, settings.card_payment_default, extra));
    noteOutboxWrite(ctx, trx);
  };

  if (cause.kind === 'outcome' && cause.outcome === 'failed' && captured === 0) {
    await emit('invoice.payment_failed', { attempt: attempt ? presentInvoiceAttempt(attempt) : null });
  }

  if (captured > 0 && settings.auto_collection) {
    const due = amountDue(invoice);
    const today = todayInRomania();
    // Money captured when nothing was due any more (two tabs, two processors) is an overpayment: recorded, never paid twice.
    const overpayment = invoice.status === 'paid' || due === 0;
    await insertCollection(trx, {
      id: newId('col'),
      merchant_id: invoice.merchant_id,
      invoice_id: invoice.id,
      collected_on: today,
      amount: captured,
      currency: after.currency,
      method: 'card',
      processor,
      processor_reference: reference,
      payment_id: after.id,
      overpayment,
    });
    if (overpayment) {
      await emit('invoice.overpaid', { payment_id: after.id, overpaid_amount: captured });
    } else {
      const paidNow = Math.min(invoice.total, invoice.amount_paid + captured);
      const full = paidNow >= invoice.total;
      invoice = await updateInvoice(trx, invoice.id, { amount_paid: paidNow, ...(full ? { status: 'paid' as const, paid_at: new Date() } : {}) });
      if (captured > due) await emit('invoice.overpaid', { payment_id: after.id, overpaid_amount: captured - due });
      if (full) {
        await emit('invoice.paid', { payment_id: after.id });
        if (invoice.kind === 'proforma' && settings.auto_fiscal_from_proforma && invoice.related_invoice_id === null) {
          // Under a savepoint: a fiscal invoice that cannot be issued (no fiscal series, no seller profile) leaves the
          // proforma paid and the payment recorded; the merchant converts it by hand (POST /v1/invoices/{id}/convert).
          const made = await underSavepoint(trx, () => convertProformaLocked(ctx, trx, invoice.merchant_id, invoice.id));
          if (made.ok) {
            invoice = (await lockInvoice(trx, invoice.merchant_id, invoice.id))!;
            await emit('invoice.converted', { fiscal_invoice_id: made.value.id, fiscal_invoice_number: made.value.full_number });
          } else {
            ctx.logger.warn({ invoice: invoice.id, err: made.error }, 'the fiscal invoice of a paid proforma could not be issued');
          }
        }
      }
    }
  }

  if (refunded > 0) {
    const original = await selectOpenPaymentCollection(trx, invoice.id, after.id);
    if (!original) return;
    const reversal = await insertCollection(trx, {
      id: newId('col'),
      merchant_id: invoice.merchant_id,
      invoice_id: invoice.id,
      collected_on: todayInRomania(),
      amount: -Math.min(refunded, original.amount),
      currency: after.currency,
      method: 'card',
      processor,
      processor_reference: reference,
      payment_id: after.id,
      overpayment: original.overpayment,
    });
    await markCollectionReversed(trx, original.id, reversal.id);
    if (!original.overpayment) {
      const paidNow = Math.max(0, invoice.amount_paid - Math.min(refunded, original.amount));
      invoice = await updateInvoice(trx, invoice.id, {
        amount_paid: paidNow,
        ...(invoice.status === 'paid' && paidNow < invoice.total ? { status: 'issued' as const, paid_at: null } : {}),
      });
    }
  }
}

/**
 * The invoices' ledger hook, registered where the hub is built: it wants every change of a payment made for an
 * invoice, recognised from the payment's row (`surface = 'invoice'`, set at creation), so every other payment
 * keeps the ledger's fast path.
 */
export function invoicePaymentHook(ctx: HubContext): LedgerHook {
  return {
    name: 'invoices',
    wants: (_cause, payment) => payment.surface === 'invoice',
    onPaymentChanged: (trx, before, after, cause) => applyInvoicePaymentChange(ctx, trx, before, after, cause),
  };
}

// ---- reads

/** Every card attempt of one of a merchant's invoices, oldest first, as the API shows them. */
export async function listInvoiceAttempts(ctx: Pick<HubContext, 'db'>, merchantId: string, invoiceId: string) {
  if (!(await selectInvoice(ctx.db, merchantId, invoiceId))) throw new NotFoundError(`no invoice ${JSON.stringify(invoiceId)}`);
  return (await selectInvoiceAttempts(ctx.db, invoiceId)).map(presentInvoiceAttempt);
}

export function presentInvoiceAttempt(a: InvoiceAttemptRow) {
  return {
    id: a.attempt_id,
    object: 'invoice_attempt' as const,
    payment_id: a.payment_id,
    number: a.attempt_number,
    status: a.status,
    processor: a.provider,
    connection: a.connection_code,
    amount: a.amount,
    currency: a.currency,
    processor_reference: a.processor_reference,
    failure: a.error_code === null && a.error_message === null ? null : { code: a.error_code, message: a.error_message },
    created_at: new Date(a.created_at).toISOString(),
    updated_at: new Date(a.updated_at).toISOString(),
  };
}

// ---- the pay page

/** What the hosted pay page (`/i/{pay_token}`) shows: the document, and the processors it can be paid on now. */
export interface InvoicePayView {
  invoice: Invoice;
  lines: Awaited<ReturnType<typeof selectInvoiceLines>>;
  /** `payable`: buttons; `paid`: says so, takes no payment; `in_progress`: an attempt's outcome is awaited; `closed`: not payable. */
  state: 'payable' | 'paid' | 'in_progress' | 'closed';
  connections: { id: string; provider: string; name: string }[];
  /** The last attempt declined, in the processor's words (shown above the buttons). */
  lastFailure: string | null;
}

/** The pay page's view of a document by its token (NotFoundError when no document has it). */
export async function invoicePayView(ctx: HubContext, payToken: string): Promise<InvoicePayView> {
  const invoice = await selectInvoiceByPayToken(ctx.db, payToken);
  if (!invoice || (invoice.status !== 'issued' && invoice.status !== 'paid')) throw new NotFoundError('no such invoice');
  const settings = await getInvoiceSettings(ctx, invoice.merchant_id);
  if (!cardPaymentOn(invoice, settings.card_payment_default) && invoice.status !== 'paid') throw new NotFoundError('no such invoice');
  const lines = await selectInvoiceLines(ctx.db, invoice.id);
  const attempts = await selectInvoiceAttempts(ctx.db, invoice.id);
  const last = attempts.at(-1);
  const lastFailure = last?.status === 'failed' ? (last.error_message ?? '') : null;
  if (invoice.status === 'paid' || (await payableDue(ctx.db, invoice)) <= 0) return { invoice, lines, state: 'paid', connections: [], lastFailure: null };
  if (attempts.some((a) => attemptInProgress(a.status))) return { invoice, lines, state: 'in_progress', connections: [], lastFailure: null };
  const usable = await invoiceConnections(ctx.db, invoice);
  // Two connections of one processor are told apart by their codes.
  const shared = (provider: string) => usable.filter((c) => c.provider === provider).length > 1;
  const connections = usable.map((c) => {
    const name = connectorFor(c.provider)?.displayName ?? c.provider;
    return { id: c.id, provider: c.provider, name: shared(c.provider) ? `${name} (${c.code})` : name };
  });
  return { invoice, lines, state: connections.length ? 'payable' : 'closed', connections, lastFailure };
}
