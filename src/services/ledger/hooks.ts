import type { Transaction } from 'kysely';
import type { Database, Payment } from '../../store/schema.js';

/**
 * What moved a payment: a processor's statement (a notification, or the answer to one of the hub's calls) or a
 * hub event (expiry, cancel).
 */
export type LedgerCause = { kind: 'outcome'; outcome: string; summary: Record<string, unknown> } | { kind: 'expire' } | { kind: 'cancel' };

/**
 * A surface (payment steps, OnPay, and next invoices and terminals) told about ledger changes inside the ledger's
 * own transaction, so what it keeps changes with the payment or not at all. The ledger never imports a surface:
 * surfaces register a hook where the hub is built (`HubContext.ledgerHooks`).
 */
export interface LedgerHook {
  /** For logs. */
  readonly name: string;
  /**
   * Whether this hook must see the change, cheap (no I/O): asked with the cause and the payment's row as the
   * ledger read it before the change (for a processor's statement, the row its fast path reads anyway; for a hub
   * event, the locked row), so a surface recognises its own payments (`payment.surface`) without a query. A
   * statement that no hook wants is applied by the ledger's fast path (one compare-and-swap statement, no
   * transaction), and one that a hook wants by the locked path, inside a transaction that then calls
   * `onPaymentChanged` (where the hook is asked again, with the locked row).
   */
  wants(cause: LedgerCause, payment: Payment): boolean;
  /**
   * Called inside the ledger's transaction after the change was written (never for a duplicate or an ignored
   * statement). `before` and `after` are the payment's rows; its events are written, and the hook may write its own.
   */
  onPaymentChanged(trx: Transaction<Database>, before: Payment, after: Payment, cause: LedgerCause): Promise<void>;
}

/** Whether any hook wants to see this change of `payment` (and so the locked path). */
export function anyHookWants(hooks: readonly LedgerHook[], cause: LedgerCause, payment: Payment): boolean {
  return hooks.some((h) => h.wants(cause, payment));
}

/** Calls the hooks that want this change, in registration order. */
export async function runHooks(hooks: readonly LedgerHook[], trx: Transaction<Database>, before: Payment, after: Payment, cause: LedgerCause): Promise<void> {
  for (const hook of hooks) if (hook.wants(cause, before)) await hook.onPaymentChanged(trx, before, after, cause);
}
