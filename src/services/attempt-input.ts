import type { Party, PaymentRedirectInput } from '../connectors/types.js';
import type { Payment } from '../store/schema.js';
import type { LoadedConnection } from './connections.js';
import { notificationUrl, paymentReturnUrl, type HubBase } from './hub-urls.js';

/**
 * What the hub tells the processor about one attempt, whichever way the payment is opened (a sealed form the
 * ledger stores with a new attempt, or a start call). Its own module: the ledger builds it when it creates an
 * attempt, and attempt-start when it opens one, and neither imports the other.
 */
export function redirectInput(hub: HubBase, payment: Payment, loaded: LoadedConnection, attemptId: string, now: Date): PaymentRedirectInput {
  return {
    reference: attemptId,
    amount: payment.amount,
    currency: payment.currency,
    description: payment.description,
    billing: payment.billing as unknown as Party,
    shipping: (payment.shipping ?? undefined) as Party | undefined,
    metadata: payment.metadata,
    merchantOrderId: payment.order_id,
    // The payer's language, when the payment names one (a payment step's; the merchant's `metadata.language`).
    language: typeof payment.metadata.language === 'string' ? payment.metadata.language.toLowerCase() : undefined,
    urls: {
      notify: notificationUrl(hub, loaded.row.provider, loaded.row.id),
      return: paymentReturnUrl(hub, payment.id),
      cancel: paymentReturnUrl(hub, payment.id, true),
    },
    expiresAt: payment.expires_at ? new Date(payment.expires_at) : undefined,
    now,
  };
}
