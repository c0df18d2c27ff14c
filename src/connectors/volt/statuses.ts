import type { ProcessorOutcomeKind, ProcessorOutcome } from '../../core/transitions.js';

/**
 * Volt's status words and what each means to the ledger. One table serves the three places they appear:
 * the notification's broad `status` (COMPLETED | FAILED | PENDING | RECEIVED | NOT_RECEIVED), its
 * `detailedStatus`, and the flat status of `GET /payments/{id}`; refund notifications add REFUND_*.
 *
 * Decisions where Volt's words and the ledger's differ:
 * - COMPLETED is Volt Gateway's final success ("initiated and accepted by the bank"): it is the payment, as
 *   the OnPay surface reports it. Volt warns that funds are not guaranteed; RECEIVED (Volt Connect only)
 *   confirms them, and NOT_RECEIVED after COMPLETED is recorded but cannot undo a payment (the state
 *   machine ignores a failure after a capture).
 * - A shopper who cancels or abandons Volt's checkout fails that attempt only: the hub's payment stays
 *   payable (a `canceled` outcome would close it).
 * - The payer on the way to the bank (NEW_PAYMENT, BANK_REDIRECT, AWAITING_CHECKOUT_AUTHORISATION) is
 *   informational; a bank that holds the payment (DELAYED_AT_BANK, a second approver) is pending review.
 */
export const VOLT_STATUS_OUTCOMES: Readonly<Record<string, ProcessorOutcomeKind>> = Object.freeze({
  // Success.
  COMPLETED: 'captured',
  RECEIVED: 'captured',
  SETTLED: 'captured',
  // Still open.
  PENDING: 'pending_review',
  NEW_PAYMENT: 'informational',
  BANK_REDIRECT: 'informational',
  AWAITING_CHECKOUT_AUTHORISATION: 'informational',
  APPROVED_BY_RISK: 'informational',
  DELAYED_AT_BANK: 'pending_review',
  AUTHORISED_BY_USER: 'pending_review',
  ADDITIONAL_AUTHORIZATION_REQUIRED: 'pending_review',
  PROVIDER_COMMUNICATION_ERROR: 'pending_review',
  // Failed attempts.
  FAILED: 'failed',
  NOT_RECEIVED: 'failed',
  REFUSED_BY_BANK: 'failed',
  REFUSED_BY_RISK: 'failed',
  ERROR_AT_BANK: 'failed',
  CANCELLED_BY_USER: 'failed',
  ABANDONED_BY_USER: 'failed',
  // Refunds.
  REFUND_CONFIRMED: 'refunded',
  REFUND_FAILED: 'operation_failed',
  REFUND_REJECTED: 'operation_failed',
});

/** Volt's own wording of the failure reasons, for the merchant. */
export const VOLT_FAILURE_MESSAGES: Readonly<Record<string, string>> = Object.freeze({
  FAILED: 'The payment could not be completed',
  NOT_RECEIVED: 'The payment was initiated but the funds were not received',
  REFUSED_BY_BANK: "The payment was refused by the shopper's bank",
  REFUSED_BY_RISK: "The payment was refused by Volt's risk checks",
  ERROR_AT_BANK: "An error occurred at the shopper's bank",
  CANCELLED_BY_USER: 'The shopper cancelled the payment',
  ABANDONED_BY_USER: 'The shopper abandoned the payment',
  REFUND_FAILED: 'The refund failed',
  REFUND_REJECTED: 'The refund was rejected',
});

function known(word: string | undefined): word is string {
  return word !== undefined && Object.prototype.hasOwnProperty.call(VOLT_STATUS_OUTCOMES, word);
}

/**
 * The status word a notification is about, as specific as it says: `detailedStatus` refines the broad
 * `status`, but only within its class (a detailed word that contradicts the broad status is not believed).
 * Returns the word and the kind of outcome; unknown words are informational (recorded, nothing changes).
 */
export function resolveStatus(status: string | undefined, detailedStatus?: string): { word: string; kind: ProcessorOutcomeKind } {
  const broad = known(status) ? VOLT_STATUS_OUTCOMES[status] : undefined;
  const detail = known(detailedStatus) ? VOLT_STATUS_OUTCOMES[detailedStatus] : undefined;
  if (broad === undefined) {
    if (detail !== undefined) return { word: detailedStatus!, kind: detail };
    return { word: detailedStatus ?? status ?? 'UNKNOWN', kind: 'informational' };
  }
  const sameClass = detail !== undefined && (detail === broad || (broad === 'pending_review' && detail === 'informational'));
  return sameClass ? { word: detailedStatus!, kind: detail! } : { word: status!, kind: broad };
}

/** The ledger outcome for a resolved status; `amount` is the payment's (or, for refunds, the refunded total). */
export function outcomeFor(resolved: { word: string; kind: ProcessorOutcomeKind }, amount: number | undefined, message?: string): ProcessorOutcome {
  switch (resolved.kind) {
    case 'captured':
      return amount === undefined ? { kind: 'pending_review' } : { kind: 'captured', amount };
    case 'authorized':
      return amount === undefined ? { kind: 'pending_review' } : { kind: 'authorized', amount };
    case 'refunded':
      return amount === undefined ? { kind: 'informational' } : { kind: 'refunded', totalRefunded: amount };
    case 'failed':
    case 'operation_failed':
      return { kind: resolved.kind, code: resolved.word, message: message || VOLT_FAILURE_MESSAGES[resolved.word] || resolved.word };
    case 'pending_review':
    case 'canceled':
    case 'informational':
      return { kind: resolved.kind };
  }
}
