/**
 * The payment and attempt state machines, as tables that tests enumerate.
 *
 * Processors report outcomes (normalized by each connector into a `ProcessorOutcome`); the tables say what
 * each outcome does in each state. Transitions are monotonic: money facts only move forward (a late
 * `pending_review` never overrides `paid`), expiry never undoes a confirmed payment (a capture after expiry
 * or cancelation is recorded as paid late), and a declined attempt leaves the payment payable.
 */

export const PAYMENT_STATUSES = ['pending', 'processing', 'authorized', 'paid', 'partially_refunded', 'refunded', 'canceled', 'expired'] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

/**
 * `unknown`: the hub's call that opens or finishes the attempt (a start, a 3-D Secure completion) reached the
 * processor and its answer never came (see OperationFailure): money may have moved. It blocks a new attempt on
 * the payment until the processor's status says what happened (the worker asks within seconds, for connectors
 * with a status check; otherwise the operator resolves it in the processor's back office).
 */
export const ATTEMPT_STATUSES = ['created', 'processing', 'authorized', 'captured', 'partially_refunded', 'refunded', 'failed', 'canceled', 'unknown'] as const;
export type AttemptStatus = (typeof ATTEMPT_STATUSES)[number];

/** What a processor says happened, in minor units of the payment's currency. */
export type ProcessorOutcome =
  | { kind: 'pending_review' }
  | { kind: 'authorized'; amount: number }
  | { kind: 'captured'; amount: number }
  | { kind: 'failed'; code: string; message: string }
  | { kind: 'canceled' }
  /** `totalRefunded` is cumulative, so replays and reordering are harmless. */
  | { kind: 'refunded'; totalRefunded: number }
  /** A processor operation on the payment failed (e.g. a refused capture); recorded, no state change. */
  | { kind: 'operation_failed'; code: string; message: string }
  /** Informational (e.g. NETOPIA's `new`): recorded only. */
  | { kind: 'informational' }
  /**
   * Concluded by the hub, never said by a processor: a call that may have opened or finished the attempt got no
   * usable answer (OperationFailure `unknown`). Moves a fresh attempt to `unknown`; changes no money.
   */
  | { kind: 'unknown'; code: string; message: string };

export type OutcomeKind = ProcessorOutcome['kind'];
/** The outcomes a processor can say (`unknown` is the hub's own conclusion). */
export type ProcessorOutcomeKind = Exclude<OutcomeKind, 'unknown'>;
export const OUTCOME_KINDS: readonly OutcomeKind[] = [
  'pending_review',
  'authorized',
  'captured',
  'failed',
  'canceled',
  'refunded',
  'operation_failed',
  'informational',
  'unknown',
];

/** Hub-side events: the expiry janitor and the merchant's own cancel. */
export type HubEvent = 'expire' | 'cancel';

/**
 * A target state, `refund` (partially_refunded or refunded, decided by the amounts), `same` (recorded, no change)
 * or `ignore` (stale or impossible in this state: recorded on the notification, no change).
 */
type Target<S> = S | 'refund' | 'same' | 'ignore';

export const PAYMENT_TRANSITIONS: Readonly<Record<PaymentStatus, Readonly<Record<OutcomeKind | HubEvent, Target<PaymentStatus>>>>> = {
  pending: {
    pending_review: 'processing',
    authorized: 'authorized',
    captured: 'paid',
    failed: 'same',
    canceled: 'canceled',
    refunded: 'refund',
    operation_failed: 'same',
    informational: 'same',
    unknown: 'same',
    expire: 'expired',
    cancel: 'canceled',
  },
  processing: {
    pending_review: 'same',
    authorized: 'authorized',
    captured: 'paid',
    failed: 'pending',
    canceled: 'canceled',
    refunded: 'refund',
    operation_failed: 'same',
    informational: 'same',
    unknown: 'same',
    expire: 'ignore',
    cancel: 'ignore',
  },
  authorized: {
    pending_review: 'ignore',
    authorized: 'same',
    captured: 'paid',
    failed: 'same',
    canceled: 'canceled',
    refunded: 'refund',
    operation_failed: 'same',
    informational: 'same',
    unknown: 'same',
    expire: 'ignore',
    cancel: 'ignore',
  },
  paid: {
    pending_review: 'ignore',
    authorized: 'ignore',
    captured: 'same',
    failed: 'ignore',
    canceled: 'ignore',
    refunded: 'refund',
    operation_failed: 'same',
    informational: 'same',
    unknown: 'same',
    expire: 'ignore',
    cancel: 'ignore',
  },
  partially_refunded: {
    pending_review: 'ignore',
    authorized: 'ignore',
    captured: 'ignore',
    failed: 'ignore',
    canceled: 'ignore',
    refunded: 'refund',
    operation_failed: 'same',
    informational: 'same',
    unknown: 'same',
    expire: 'ignore',
    cancel: 'ignore',
  },
  refunded: {
    pending_review: 'ignore',
    authorized: 'ignore',
    captured: 'ignore',
    failed: 'ignore',
    canceled: 'ignore',
    refunded: 'ignore',
    operation_failed: 'same',
    informational: 'same',
    unknown: 'same',
    expire: 'ignore',
    cancel: 'ignore',
  },
  canceled: {
    pending_review: 'ignore',
    authorized: 'ignore',
    captured: 'paid',
    failed: 'ignore',
    canceled: 'same',
    refunded: 'refund',
    operation_failed: 'same',
    informational: 'same',
    unknown: 'same',
    expire: 'ignore',
    cancel: 'same',
  },
  expired: {
    pending_review: 'processing',
    authorized: 'authorized',
    captured: 'paid',
    failed: 'same',
    canceled: 'same',
    refunded: 'refund',
    operation_failed: 'same',
    informational: 'same',
    unknown: 'same',
    expire: 'same',
    cancel: 'ignore',
  },
};

export const ATTEMPT_TRANSITIONS: Readonly<Record<AttemptStatus, Readonly<Record<OutcomeKind, Target<AttemptStatus>>>>> = {
  created: {
    pending_review: 'processing',
    authorized: 'authorized',
    captured: 'captured',
    failed: 'failed',
    canceled: 'canceled',
    refunded: 'refund',
    operation_failed: 'same',
    informational: 'same',
    unknown: 'unknown',
  },
  processing: {
    pending_review: 'same',
    authorized: 'authorized',
    captured: 'captured',
    failed: 'failed',
    canceled: 'canceled',
    refunded: 'refund',
    operation_failed: 'same',
    informational: 'same',
    unknown: 'ignore',
  },
  authorized: {
    pending_review: 'ignore',
    authorized: 'same',
    captured: 'captured',
    failed: 'same',
    canceled: 'canceled',
    refunded: 'refund',
    operation_failed: 'same',
    informational: 'same',
    unknown: 'ignore',
  },
  captured: {
    pending_review: 'ignore',
    authorized: 'ignore',
    captured: 'same',
    failed: 'ignore',
    canceled: 'ignore',
    refunded: 'refund',
    operation_failed: 'same',
    informational: 'same',
    unknown: 'ignore',
  },
  partially_refunded: {
    pending_review: 'ignore',
    authorized: 'ignore',
    captured: 'ignore',
    failed: 'ignore',
    canceled: 'ignore',
    refunded: 'refund',
    operation_failed: 'same',
    informational: 'same',
    unknown: 'ignore',
  },
  refunded: {
    pending_review: 'ignore',
    authorized: 'ignore',
    captured: 'ignore',
    failed: 'ignore',
    canceled: 'ignore',
    refunded: 'ignore',
    operation_failed: 'same',
    informational: 'same',
    unknown: 'ignore',
  },
  // A processor may let the customer retry on its own page under the same order: a later success wins.
  failed: {
    pending_review: 'processing',
    authorized: 'authorized',
    captured: 'captured',
    failed: 'same',
    canceled: 'ignore',
    refunded: 'refund',
    operation_failed: 'same',
    informational: 'same',
    unknown: 'ignore',
  },
  canceled: {
    pending_review: 'ignore',
    authorized: 'ignore',
    captured: 'captured',
    failed: 'ignore',
    canceled: 'same',
    refunded: 'refund',
    operation_failed: 'same',
    informational: 'same',
    unknown: 'ignore',
  },
  // Only the processor's word resolves it; the hub's own conclusion again changes nothing.
  unknown: {
    pending_review: 'processing',
    authorized: 'authorized',
    captured: 'captured',
    failed: 'failed',
    canceled: 'canceled',
    refunded: 'refund',
    operation_failed: 'same',
    informational: 'same',
    unknown: 'same',
  },
};

/** The money a payment has moved so far, in minor units. */
export interface PaymentMoney {
  amount: number;
  amount_authorized: number;
  amount_captured: number;
  amount_refunded: number;
}

export interface PaymentState extends PaymentMoney {
  status: PaymentStatus;
  paid_late: boolean;
}

export interface PaymentChange {
  /** The new state (equal to the old one when nothing changed). */
  state: PaymentState;
  changed: boolean;
  /** Why nothing changed, when the table says `ignore`. */
  ignoredReason?: string;
}

function refundTarget(total: number, captured: number): 'partially_refunded' | 'refunded' {
  return total >= captured ? 'refunded' : 'partially_refunded';
}

/** Applies a processor outcome or a hub event to a payment. Pure; the caller persists the result. */
export function transitionPayment(current: PaymentState, input: ProcessorOutcome | { kind: HubEvent }): PaymentChange {
  const target = PAYMENT_TRANSITIONS[current.status][input.kind];
  if (target === 'ignore') return { state: current, changed: false, ignoredReason: `${input.kind} does not apply to a ${current.status} payment` };
  const next: PaymentState = { ...current };
  switch (input.kind) {
    case 'authorized':
      next.amount_authorized = Math.max(next.amount_authorized, input.amount);
      break;
    case 'captured':
      next.amount_authorized = Math.max(next.amount_authorized, input.amount);
      next.amount_captured = Math.max(next.amount_captured, input.amount);
      if (current.status === 'expired' || current.status === 'canceled') next.paid_late = true;
      break;
    case 'refunded':
      // A refund implies the capture even when its notification was lost or arrives later.
      if (next.amount_captured === 0) next.amount_captured = Math.max(next.amount_authorized, next.amount);
      if (input.totalRefunded <= next.amount_refunded) return { state: current, changed: false, ignoredReason: 'refund total already recorded' };
      next.amount_refunded = Math.min(input.totalRefunded, next.amount_captured);
      break;
  }
  if (target === 'refund') next.status = refundTarget(next.amount_refunded, next.amount_captured);
  else if (target !== 'same') next.status = target;
  const changed =
    next.status !== current.status ||
    next.amount_authorized !== current.amount_authorized ||
    next.amount_captured !== current.amount_captured ||
    next.amount_refunded !== current.amount_refunded ||
    next.paid_late !== current.paid_late;
  return { state: next, changed };
}

/** Applies a processor outcome to one attempt; returns the new status, or null when it does not apply. */
export function transitionAttempt(status: AttemptStatus, outcome: ProcessorOutcome, refund?: { total: number; captured: number }): AttemptStatus | null {
  const target = ATTEMPT_TRANSITIONS[status][outcome.kind];
  if (target === 'ignore') return null;
  if (target === 'same') return status;
  if (target === 'refund') return refund ? refundTarget(refund.total, refund.captured) : 'refunded';
  return target;
}

/**
 * Attempt statuses that keep a payment from getting a new attempt: the processor may already have taken the
 * money (the answer to the hub's call was lost), so the payer is not offered to pay again until it says.
 */
export function blocksNewAttempt(status: AttemptStatus): boolean {
  return ATTEMPT_TRANSITIONS[status].unknown === 'same';
}

/** Statuses in which the customer may still pay (open the payment page, start a new attempt). */
export function isPayable(status: PaymentStatus): boolean {
  return status === 'pending';
}

/** Read-time expiry: a pending payment whose deadline passed is expired even before the janitor stores it. */
export function effectiveStatus(status: PaymentStatus, expiresAt: Date | null, now = new Date()): PaymentStatus {
  return status === 'pending' && expiresAt !== null && expiresAt.getTime() <= now.getTime() ? 'expired' : status;
}

/** The merchant-facing event a payment status change produces. */
export const STATUS_EVENTS: Readonly<Partial<Record<PaymentStatus, string>>> = {
  processing: 'payment.processing',
  authorized: 'payment.authorized',
  paid: 'payment.paid',
  partially_refunded: 'payment.refunded',
  refunded: 'payment.refunded',
  canceled: 'payment.canceled',
  expired: 'payment.expired',
};

export const EVENT_TYPES = [
  'payment.created',
  'payment.processing',
  'payment.authorized',
  'payment.paid',
  'payment.attempt_failed',
  'payment.refunded',
  'payment.refund_failed',
  'payment.canceled',
  'payment.expired',
  'payment_step.updated',
  'invoice.issued',
  'invoice.canceled',
  'invoice.paid',
  'invoice.payment_failed',
  'invoice.overpaid',
  'invoice.converted',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];
