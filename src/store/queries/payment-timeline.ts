import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';

type Db = Kysely<Database>;

/**
 * What a payment's timeline shows beside its attempts: the notifications received with their raw bodies, its
 * events, their webhook deliveries and each delivery's attempts.
 */

/** The notifications and processor answers recorded for a payment, oldest first, with their bodies. */
export function selectPaymentNotificationBodies(db: Db, paymentId: string) {
  return db
    .selectFrom('notifications')
    .select(['id', 'provider', 'attempt_id', 'received_at', 'status', 'source', 'outcome', 'error', 'content_type', 'body', 'body_excerpt', 'body_length'])
    .where('payment_id', '=', paymentId)
    .orderBy('received_at')
    .orderBy('id')
    .execute();
}

/** A payment's events, oldest first. */
export function selectPaymentEvents(db: Db, paymentId: string) {
  return db.selectFrom('events').select(['id', 'type', 'created_at']).where('payment_id', '=', paymentId).orderBy('id').execute();
}

/** The webhook deliveries of these events, with their endpoint's URL. */
export function selectDeliveriesOfEvents(db: Db, eventIds: readonly string[]) {
  if (eventIds.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('webhook_deliveries as d')
    .innerJoin('webhook_endpoints as e', 'e.id', 'd.endpoint_id')
    .select(['d.id', 'd.event_id', 'd.status', 'd.attempts', 'd.last_status_code', 'd.last_error', 'd.delivered_at', 'd.next_attempt_at', 'e.url'])
    .where('d.event_id', 'in', eventIds)
    .orderBy('d.id')
    .execute();
}

/** The attempts of these deliveries, oldest first. */
export function selectAttemptsOfDeliveries(db: Db, deliveryIds: readonly string[]) {
  if (deliveryIds.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('webhook_delivery_attempts')
    .select(['delivery_id', 'attempted_at', 'status_code', 'duration_ms', 'error'])
    .where('delivery_id', 'in', deliveryIds)
    .orderBy('id')
    .execute();
}

/** A merchant's connections (or everyone's), for the payment list's filter. */
export function selectConnectionChoices(db: Db, merchantId: string | null) {
  let q = db.selectFrom('connections').select(['id', 'code', 'provider', 'merchant_id']);
  if (merchantId !== null) q = q.where('merchant_id', '=', merchantId);
  return q.orderBy('merchant_id').orderBy('code').execute();
}
