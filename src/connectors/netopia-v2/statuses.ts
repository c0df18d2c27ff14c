/**
 * NETOPIA v2 `payment.status` (the SDK constants, identical in the Go, Python and PHP SDKs; protocol notes §2.6)
 * mapped onto the ledger's vocabulary, as a table that tests enumerate.
 */
import type { ProcessorOutcome } from '../../core/transitions.js';
import { V1_ERROR_CODES } from '../netopia-v1/errors.js';

export type StatusKind = 'informational' | 'authorized' | 'captured' | 'canceled' | 'pending_review' | 'refunded' | 'failed';

export interface StatusEntry {
  /** NETOPIA's constant name (STATUS_<name>). */
  name: string;
  kind: StatusKind;
  /** The word the hub records as the notification's `action`. */
  action: string;
}

/**
 * Decisions where NETOPIA documents nothing beyond the constant's name:
 * - 8 CREDIT and 10 CHARGEBACK_ACCEPT both mean money went back to the cardholder. `payment.amount` of a status-8
 *   message is the total credited so far on the order (cumulative: the hub's decision, which its emulator follows);
 *   a 10 is taken as the whole order coming back, so its `payment.amount` (the order's) is the refunded total.
 * - 9 CHARGEBACK_INIT and 16 CHARGEBACK_REPRESENTMENT move no money yet (a dispute opened, the merchant contesting
 *   it): recorded only.
 * - 7 SCHEDULED, 19-22 (recurring and SMS trial purchases) do not apply to one-off card payments: recorded only.
 * - 12 DECLINED is a card decline: the attempt failed, the payment stays payable (treating it as a cancel was a
 *   known integration bug). 11 ERROR and 23 EXPIRED ("cancel a not paid purchase") end the attempt the same way.
 * - 13 FRAUD is NETOPIA's antifraud review, not a verdict: pending review, like 6, 14 and 18.
 * - 17 REVERSED (an authorization released) ends like 4 CANCELED (a void).
 */
export const NETOPIA_V2_STATUSES: Readonly<Record<number, StatusEntry>> = Object.freeze({
  1: { name: 'NEW', kind: 'informational', action: 'new' },
  2: { name: 'OPENED', kind: 'authorized', action: 'authorized' },
  3: { name: 'PAID', kind: 'captured', action: 'paid' },
  4: { name: 'CANCELED', kind: 'canceled', action: 'canceled' },
  5: { name: 'CONFIRMED', kind: 'captured', action: 'confirmed' },
  6: { name: 'PENDING', kind: 'pending_review', action: 'pending' },
  7: { name: 'SCHEDULED', kind: 'informational', action: 'scheduled' },
  8: { name: 'CREDIT', kind: 'refunded', action: 'credit' },
  9: { name: 'CHARGEBACK_INIT', kind: 'informational', action: 'chargeback_initiated' },
  10: { name: 'CHARGEBACK_ACCEPT', kind: 'refunded', action: 'chargeback_accepted' },
  11: { name: 'ERROR', kind: 'failed', action: 'error' },
  12: { name: 'DECLINED', kind: 'failed', action: 'declined' },
  13: { name: 'FRAUD', kind: 'pending_review', action: 'fraud_review' },
  14: { name: 'PENDING_AUTH', kind: 'pending_review', action: 'pending_auth' },
  15: { name: '3D_AUTH', kind: 'informational', action: '3ds_required' },
  16: { name: 'CHARGEBACK_REPRESENTMENT', kind: 'informational', action: 'chargeback_representment' },
  17: { name: 'REVERSED', kind: 'canceled', action: 'reversed' },
  18: { name: 'PENDING_ANY', kind: 'pending_review', action: 'pending_any' },
  19: { name: 'PROGRAMMED_RECURRENT_PAYMENT', kind: 'informational', action: 'recurring_scheduled' },
  20: { name: 'CANCELED_PROGRAMMED_RECURRENT_PAYMENT', kind: 'informational', action: 'recurring_canceled' },
  21: { name: 'TRIAL_PENDING', kind: 'informational', action: 'trial_pending' },
  22: { name: 'TRIAL', kind: 'informational', action: 'trial' },
  23: { name: 'EXPIRED', kind: 'failed', action: 'expired' },
});

/** The table entry for a status; a number NETOPIA may add later is recorded as informational. */
export function statusEntry(status: number): StatusEntry {
  const known = Object.prototype.hasOwnProperty.call(NETOPIA_V2_STATUSES, status) ? NETOPIA_V2_STATUSES[status] : undefined;
  return known ?? { name: `UNKNOWN_${status}`, kind: 'informational', action: `status_${status}` };
}

/** Codes that mean "approved" or "no error" in `error.code` / `payment.code`. */
export function isApprovalCode(code: string | undefined): boolean {
  return code === undefined || code === '' || code === '00' || code === '0';
}

/**
 * Card decline codes (the v1 catalogue, which v2 reuses; notes §1.5 and §2.5): 16-38. NETOPIA's sandbox answers an
 * expired card with status 1 NEW and code 19, so a status that would only be informational but carries one of
 * these codes is a declined attempt.
 */
export function isCardDeclineCode(code: string | undefined): boolean {
  if (code === undefined || !/^\d{1,3}$/.test(code)) return false;
  const n = Number(code);
  return n >= 16 && n <= 38;
}

/** A short text for a card error code, when NETOPIA sent none. */
export function cardErrorText(code: string): string | undefined {
  const n = /^\d{1,3}$/.test(code) ? Number(code) : NaN;
  return Object.prototype.hasOwnProperty.call(V1_ERROR_CODES, n) ? V1_ERROR_CODES[n] : undefined;
}

export interface StatusFacts {
  status: number;
  /** `payment.amount` in minor units of `payment.currency`. */
  amountMinor: number;
  /** The error code NETOPIA attached (`payment.code` of an IPN, `error.code` of an API answer). */
  code?: string;
  message?: string;
}

export interface StatusVerdict {
  outcome: ProcessorOutcome;
  entry: StatusEntry;
  /** True when the amount is a refunded total rather than the order's amount (checked on currency only). */
  amountIsRefundTotal: boolean;
  /** A failure decided by the code rather than the status (dedupe keys keep the code apart). */
  failedByCode: boolean;
}

/** What a status (with its amount and code) means for the ledger. */
export function outcomeOfStatus(facts: StatusFacts): StatusVerdict {
  const entry = statusEntry(facts.status);
  const failure = (): ProcessorOutcome => {
    const code = facts.code && !isApprovalCode(facts.code) ? facts.code : `status_${facts.status}`;
    const message = facts.message || (facts.code ? cardErrorText(facts.code) : undefined) || entry.name;
    return { kind: 'failed', code, message };
  };
  switch (entry.kind) {
    case 'authorized':
      return { outcome: { kind: 'authorized', amount: facts.amountMinor }, entry, amountIsRefundTotal: false, failedByCode: false };
    case 'captured':
      return { outcome: { kind: 'captured', amount: facts.amountMinor }, entry, amountIsRefundTotal: false, failedByCode: false };
    case 'refunded':
      return { outcome: { kind: 'refunded', totalRefunded: facts.amountMinor }, entry, amountIsRefundTotal: true, failedByCode: false };
    case 'canceled':
      return { outcome: { kind: 'canceled' }, entry, amountIsRefundTotal: false, failedByCode: false };
    case 'pending_review':
      return { outcome: { kind: 'pending_review' }, entry, amountIsRefundTotal: false, failedByCode: false };
    case 'failed':
      return { outcome: failure(), entry, amountIsRefundTotal: false, failedByCode: false };
    case 'informational':
      if (isCardDeclineCode(facts.code)) return { outcome: failure(), entry, amountIsRefundTotal: false, failedByCode: true };
      return { outcome: { kind: 'informational' }, entry, amountIsRefundTotal: false, failedByCode: false };
  }
}

/**
 * Two messages with the same key say the same thing: `${ntpID}:${status}`; a credit (8) adds the credited total
 * (each further partial credit is news); a failure decided by its code adds the code (a status-1 decline must
 * not collide with the plain status-1 "new").
 */
export function dedupeKeyOf(ntpID: string, facts: StatusFacts, verdict: StatusVerdict): string {
  if (verdict.failedByCode) return `${ntpID}:${facts.status}:${verdict.outcome.kind === 'failed' ? verdict.outcome.code : ''}`;
  if (facts.status === 8) return `${ntpID}:8:${facts.amountMinor}`;
  return `${ntpID}:${facts.status}`;
}
