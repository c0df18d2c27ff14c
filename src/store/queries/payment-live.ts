import { sql, type Kysely } from 'kysely';
import type { Database } from '../schema.js';

type Db = Kysely<Database>;

/**
 * What the console's open payment pages poll: one cheap read of everything that changes a payment's timeline
 * (the payment row, its attempts, notifications, refunds, events and their deliveries), and the delivery check of
 * the console's redeliver action. Reads only: the ledger's writes stay as they are.
 */

/**
 * A payment's fingerprint: a text that changes whenever its row, an attempt, a notification, a refund, an event or
 * a webhook delivery of it changes. Of one merchant, or (null) any; undefined when there is no such payment.
 */
export async function selectPaymentFingerprint(db: Db, merchantId: string | null, paymentId: string): Promise<string | undefined> {
  let q = db
    .selectFrom('payments as p')
    .select([
      'p.updated_at',
      'p.status',
      sql<string>`(select count(*) || ':' || coalesce(max(a.updated_at)::text, '') from payment_attempts a where a.payment_id = p.id)`.as('attempts'),
      sql<string>`(select count(*)::text from notifications n where n.payment_id = p.id)`.as('notifications'),
      sql<string>`(select count(*) || ':' || coalesce(max(r.updated_at)::text, '') from refunds r where r.payment_id = p.id)`.as('refunds'),
      sql<string>`(select count(*)::text from events e where e.payment_id = p.id)`.as('events'),
      sql<string>`(select count(*) || ':' || coalesce(sum(d.attempts), 0) || ':' || coalesce(string_agg(d.status, ',' order by d.id), '') from webhook_deliveries d join events e on e.id = d.event_id where e.payment_id = p.id)`.as(
        'deliveries',
      ),
    ])
    .where('p.id', '=', paymentId);
  if (merchantId !== null) q = q.where('p.merchant_id', '=', merchantId);
  const row = await q.executeTakeFirst();
  if (!row) return undefined;
  return [new Date(row.updated_at).toISOString(), row.status, row.attempts, row.notifications, row.refunds, row.events, row.deliveries].join('|');
}

/** Whether this webhook delivery is of one of this payment's events. */
export async function deliveryIsOfPayment(db: Db, deliveryId: string, paymentId: string): Promise<boolean> {
  const row = await db
    .selectFrom('webhook_deliveries as d')
    .innerJoin('events as e', 'e.id', 'd.event_id')
    .select('d.id')
    .where('d.id', '=', deliveryId)
    .where('e.payment_id', '=', paymentId)
    .executeTakeFirst();
  return row !== undefined;
}
