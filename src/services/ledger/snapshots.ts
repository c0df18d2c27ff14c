import { effectiveStatus, type PaymentStatus } from '../../core/transitions.js';
import type { Payment, PaymentAttempt } from '../../store/schema.js';
import { paymentPageUrl, type HubBase } from '../hub-urls.js';

/** The payment as merchants see it in events (no attempts or notifications). */
export function paymentSnapshot(hub: HubBase, p: Payment, now = new Date()) {
  return {
    id: p.id,
    object: 'payment' as const,
    connection_id: p.connection_id,
    order_id: p.order_id,
    amount: p.amount,
    currency: p.currency,
    description: p.description,
    status: effectiveStatus(p.status as PaymentStatus, p.expires_at, now),
    amount_authorized: p.amount_authorized,
    amount_captured: p.amount_captured,
    amount_refunded: p.amount_refunded,
    paid_late: p.paid_late,
    payment_url: paymentPageUrl(hub, p.id),
    return_url: p.return_url,
    expires_at: p.expires_at ? new Date(p.expires_at).toISOString() : null,
    metadata: p.metadata,
    created_at: new Date(p.created_at).toISOString(),
    updated_at: new Date(p.updated_at).toISOString(),
  };
}

export function presentAttempt(a: PaymentAttempt) {
  return {
    id: a.id,
    number: a.number,
    provider: a.provider,
    status: a.status,
    amount: a.amount,
    currency: a.currency,
    processor_reference: a.processor_reference,
    action: a.action,
    error_code: a.error_code,
    error_message: a.error_message,
    pan_masked: a.pan_masked,
    created_at: new Date(a.created_at).toISOString(),
    updated_at: new Date(a.updated_at).toISOString(),
  };
}
