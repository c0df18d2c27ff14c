/**
 * The ledger: the only code that writes payment and attempt state (`payments`, `payment_attempts`). It creates
 * payments and attempts, applies processors' statements (notifications, answers to the hub's calls) through the
 * transitions of `core/transitions.ts`, applies hub events (expiry, cancel), and writes the events that tell
 * merchants, in the same statement or transaction as the change. Surfaces subscribe with hooks (`hooks.ts`); the
 * ledger never imports one.
 */
export { type LedgerCause, type LedgerHook } from './hooks.js';
export { paymentSnapshot, presentAttempt } from './snapshots.js';
export { applyVerified, LEDGER_REFUSALS, recordOperationReport, type Applied, type Refused } from './outcomes.js';
export {
  createPayment,
  createPaymentOnce,
  preparePayment,
  writePayment,
  type CreatePaymentInput,
  type PaymentSurface,
  type PreparedPayment,
} from './payments.js';
export { openAttempt, storeHandOff, storeNextChallenge, type OpenedAttempt } from './attempts.js';
export { cancelPayment, expireDuePayments } from './hub-events.js';
