import type { OutcomeKind, ProcessorOutcome } from '../../core/transitions.js';
import type { MspOrder } from './order.js';

/**
 * MultiSafepay order statuses (`status`) and what each one means for the hub's ledger. Sources: the OpenAPI
 * `Status` enum (initialized, completed, declined, expired, cancelled, void, uncleared, reserved, shipped,
 * refunded, chargeback) and the "Payment statuses" page (which adds partial_refunded and pairs each order
 * status with a transaction status, `financial_status`).
 *
 * - `void` with transaction status `cancelled` is a cancelled order (the merchant cancelled the link):
 *   `canceled`. void/void is an uncleared payment turned down after review (the test cards' "after 3 minutes,
 *   this changes to Void") or a chargeback: a failed attempt, so the customer may pay again; the ledger
 *   ignores it once the payment is paid (a chargeback proper comes as `chargeback`).
 * - `declined` and `expired` close one transaction of the order (a payment link allows up to 20 tries, and
 *   the link can be paid again until it expires): a failed attempt, the payment stays payable.
 * - `shipped` follows the funds: shipped/completed is the capture, shipped/uncleared still under review.
 * - `chargeback` takes the whole amount back: recorded as a full refund, so the ledger shows the money gone.
 */
export const ORDER_STATUS_OUTCOMES: Readonly<Record<string, OutcomeKind>> = Object.freeze({
  initialized: 'informational',
  completed: 'captured',
  uncleared: 'pending_review',
  reserved: 'informational',
  declined: 'failed',
  expired: 'failed',
  cancelled: 'canceled',
  canceled: 'canceled',
  void: 'canceled',
  shipped: 'captured',
  refunded: 'refunded',
  partial_refunded: 'refunded',
  chargeback: 'refunded',
  chargedback: 'refunded',
});

export const ORDER_STATUSES: readonly string[] = Object.keys(ORDER_STATUS_OUTCOMES);

const FAILURE_TEXT: Readonly<Record<string, string>> = { declined: 'The transaction was declined', expired: 'The payment link expired before it was paid' };

/** What an order object says happened, in the ledger's vocabulary. Unknown statuses are recorded only. */
export function outcomeOf(order: MspOrder): ProcessorOutcome {
  const kind = Object.prototype.hasOwnProperty.call(ORDER_STATUS_OUTCOMES, order.status) ? ORDER_STATUS_OUTCOMES[order.status]! : 'informational';
  switch (kind) {
    case 'captured':
      if (order.status === 'shipped' && order.financial_status !== 'completed') {
        return order.financial_status === 'uncleared' ? { kind: 'pending_review' } : { kind: 'informational' };
      }
      return { kind: 'captured', amount: order.amount };
    case 'failed':
      return {
        kind: 'failed',
        code: order.reason_code ?? order.response_code ?? order.status,
        message: order.reason ?? FAILURE_TEXT[order.status] ?? order.status,
      };
    case 'refunded': {
      // partial_refunded names no amount by itself: without amount_refunded there is nothing to record.
      if (order.status === 'partial_refunded')
        return order.amount_refunded === undefined ? { kind: 'informational' } : { kind: 'refunded', totalRefunded: order.amount_refunded };
      if (order.status === 'refunded' && order.amount_refunded) return { kind: 'refunded', totalRefunded: order.amount_refunded };
      return { kind: 'refunded', totalRefunded: order.amount };
    }
    case 'pending_review':
      return { kind: 'pending_review' };
    case 'canceled':
      if (order.status === 'void' && order.financial_status === 'void') {
        return { kind: 'failed', code: order.reason_code ?? order.response_code ?? 'void', message: order.reason ?? 'The transaction was voided' };
      }
      return { kind: 'canceled' };
    default:
      return { kind: 'informational' };
  }
}

/**
 * Two messages with the same key say the same thing (a notification and a status check included). A refund
 * fact is its running total, whichever message carries it; any other fact is one transaction's statuses.
 */
export function dedupeKeyOf(order: MspOrder, outcome: ProcessorOutcome): string {
  if (outcome.kind === 'refunded') return `${order.order_id}:refunded:${outcome.totalRefunded}`;
  return `${order.order_id}:${order.transaction_id ?? '-'}:${order.status}:${order.financial_status ?? '-'}`;
}

/** What the ledger keeps of an order object: MultiSafepay's own words, no card data beyond the last four digits. */
export function summaryOf(order: MspOrder, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const summary: Record<string, unknown> = {
    action: order.status,
    processor_status: order.status,
    order_id: order.order_id,
    amount: order.amount,
    currency: order.currency,
  };
  const put = (key: string, value: unknown) => {
    if (value !== undefined) summary[key] = value;
  };
  put('financial_status', order.financial_status);
  put('payment_method', order.payment_type);
  // MultiSafepay's timestamps carry no zone; they are passed on as written.
  put('processor_time', order.status === 'completed' ? (order.completed ?? order.modified) : order.modified);
  put('transaction_id', order.transaction_id);
  put('amount_refunded', order.amount_refunded);
  put('reason', order.reason);
  put('reason_code', order.reason_code);
  put('response_code', order.response_code);
  put('last4', order.last4);
  put('pan_masked', order.last4 ? `****${order.last4}` : undefined);
  return { ...summary, ...extra };
}
