import { sql, type Insertable, type Kysely, type Transaction } from 'kysely';
import type { Database, WebhookDelivery, WebhookEndpoint, WebhookEndpointsTable } from '../schema.js';

type Db = Kysely<Database>;

/** Locks a merchant's row (FOR NO KEY UPDATE) for the caller's transaction. */
export async function lockMerchant(trx: Transaction<Database>, merchantId: string): Promise<void> {
  await trx.selectFrom('merchants').select('id').where('id', '=', merchantId).forNoKeyUpdate().execute();
}

/** How many active webhook endpoints a merchant has, not counting payments' own callback endpoints. */
export async function countActiveEndpoints(trx: Transaction<Database>, merchantId: string): Promise<number> {
  const { n } = await trx
    .selectFrom('webhook_endpoints')
    .select(sql<number>`count(*)::int`.as('n'))
    .where('merchant_id', '=', merchantId)
    .where('status', '=', 'active')
    .where('payment_id', 'is', null)
    .executeTakeFirstOrThrow();
  return n;
}

/** Writes a new webhook endpoint and returns its row. */
export function insertWebhookEndpoint(trx: Transaction<Database>, values: Insertable<WebhookEndpointsTable>): Promise<WebhookEndpoint> {
  return trx.insertInto('webhook_endpoints').values(values).returningAll().executeTakeFirstOrThrow();
}

/** One of a merchant's webhook endpoints. */
export function selectWebhookEndpoint(db: Db, merchantId: string, id: string): Promise<WebhookEndpoint | undefined> {
  return db.selectFrom('webhook_endpoints').selectAll().where('merchant_id', '=', merchantId).where('id', '=', id).executeTakeFirst();
}

/** A merchant's webhook endpoints, newest first. */
export function selectWebhookEndpoints(db: Db, merchantId: string): Promise<WebhookEndpoint[]> {
  return db.selectFrom('webhook_endpoints').selectAll().where('merchant_id', '=', merchantId).orderBy('id', 'desc').execute();
}

/** An endpoint's status and payment, its row locked for the caller's transaction (kysely's NoResultError when missing). */
export function lockWebhookEndpoint(trx: Transaction<Database>, id: string): Promise<Pick<WebhookEndpoint, 'status' | 'payment_id'>> {
  return trx.selectFrom('webhook_endpoints').select(['status', 'payment_id']).where('id', '=', id).forUpdate().executeTakeFirstOrThrow();
}

/** Changes an endpoint's columns and returns its new row. */
export function updateWebhookEndpointRow(trx: Transaction<Database>, id: string, patch: Record<string, unknown>): Promise<WebhookEndpoint> {
  return trx.updateTable('webhook_endpoints').set(patch).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
}

/** Cancels an endpoint's pending deliveries (its endpoint was disabled). */
export async function cancelPendingDeliveries(trx: Transaction<Database>, endpointId: string): Promise<void> {
  await trx
    .updateTable('webhook_deliveries')
    .set({ status: 'canceled', last_error: 'endpoint disabled' })
    .where('endpoint_id', '=', endpointId)
    .where('status', '=', 'pending')
    .execute();
}

/** One delivery attempt's outcome, and the delivery's state after it. */
export interface DeliveryAttemptRecord {
  deliveryId: string;
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  responseBody: string | null;
  attempts: number;
  status: string;
  nextAttemptAt: Date;
  lastError: string | null;
  deliveredAt: Date | null;
}

/** Logs a delivery attempt and writes the delivery's new state (lease released), in one statement. */
export async function recordDeliveryAttempt(db: Db, r: DeliveryAttemptRecord): Promise<void> {
  await sql`
    WITH logged AS (
      INSERT INTO webhook_delivery_attempts (delivery_id, status_code, duration_ms, error, response_body)
      VALUES (${r.deliveryId}, ${r.statusCode}, ${r.durationMs}, ${r.error}, ${r.responseBody})
    )
    UPDATE webhook_deliveries SET attempts = ${r.attempts}, status = ${r.status}, next_attempt_at = ${r.nextAttemptAt},
      locked_until = NULL, last_status_code = ${r.statusCode}, last_error = ${r.lastError}, delivered_at = ${r.deliveredAt}
    WHERE id = ${r.deliveryId}`.execute(db);
}

/** A merchant's deliveries, newest first, of one endpoint or one event when named. */
export function selectDeliveries(db: Db, merchantId: string, filter: { endpointId?: string; eventId?: string; limit?: number }): Promise<WebhookDelivery[]> {
  let q = db.selectFrom('webhook_deliveries').selectAll().where('merchant_id', '=', merchantId);
  if (filter.endpointId) q = q.where('endpoint_id', '=', filter.endpointId);
  if (filter.eventId) q = q.where('event_id', '=', filter.eventId);
  return q
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(filter.limit ?? 100)
    .execute();
}

/** One of a merchant's deliveries. */
export function selectDelivery(db: Db, merchantId: string, id: string): Promise<WebhookDelivery | undefined> {
  return db.selectFrom('webhook_deliveries').selectAll().where('merchant_id', '=', merchantId).where('id', '=', id).executeTakeFirst();
}

/** A delivery's attempts, oldest first. */
export function selectDeliveryAttempts(db: Db, deliveryId: string) {
  return db.selectFrom('webhook_delivery_attempts').selectAll().where('delivery_id', '=', deliveryId).orderBy('id').execute();
}

/** A delivery as its log shows it: with its event's type and payment (and that payment's order id), and its endpoint's URL. */
export interface DeliveryLogRow extends WebhookDelivery {
  event_type: string;
  payment_id: string | null;
  order_id: string | null;
  endpoint_url: string;
}

/**
 * A merchant's deliveries, newest first (by id, which orders them by their event's time), of one endpoint when
 * named, after a cursor (a delivery id) when given; or the one delivery `deliveryId`. The merchant's listing reads
 * `webhook_deliveries_merchant_log_idx` (migration 010).
 */
export function selectDeliveryLog(
  db: Db,
  merchantId: string,
  filter: { endpointId?: string; startingAfter?: string; deliveryId?: string; limit: number },
): Promise<DeliveryLogRow[]> {
  return deliveryLogQuery(db, merchantId, filter).execute();
}

/** The statement of `selectDeliveryLog`, unexecuted (a test reads its plan). */
export function deliveryLogQuery(db: Db, merchantId: string, filter: { endpointId?: string; startingAfter?: string; deliveryId?: string; limit: number }) {
  let q = db
    .selectFrom('webhook_deliveries as d')
    .innerJoin('events as ev', 'ev.id', 'd.event_id')
    .innerJoin('webhook_endpoints as e', 'e.id', 'd.endpoint_id')
    .leftJoin('payments as p', 'p.id', 'ev.payment_id')
    .selectAll('d')
    .select(['ev.type as event_type', 'ev.payment_id as payment_id', 'p.order_id as order_id', 'e.url as endpoint_url'])
    .where('d.merchant_id', '=', merchantId);
  if (filter.deliveryId) q = q.where('d.id', '=', filter.deliveryId);
  if (filter.endpointId) q = q.where('d.endpoint_id', '=', filter.endpointId);
  if (filter.startingAfter) q = q.where('d.id', '<', filter.startingAfter);
  return q.orderBy('d.id', 'desc').limit(filter.limit);
}

/** Replaces an endpoint's secret, keeping the current one as the previous until `previousExpiresAt`; returns the new row. */
export function rotateEndpointSecret(
  trx: Transaction<Database>,
  id: string,
  values: { secretEncrypted: string; previousExpiresAt: Date },
): Promise<WebhookEndpoint> {
  return trx
    .updateTable('webhook_endpoints')
    .set({
      previous_secret_encrypted: sql<string>`secret_encrypted`,
      previous_secret_expires_at: values.previousExpiresAt,
      secret_encrypted: values.secretEncrypted,
      updated_at: new Date(),
    })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Queues a delivery again, due now and without a lease, and returns its row. */
export function requeueDelivery(db: Db, id: string): Promise<WebhookDelivery> {
  return db
    .updateTable('webhook_deliveries')
    .set({ status: 'pending', next_attempt_at: new Date(), locked_until: null })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** A claimed delivery with what sending it needs: its endpoint's URL and secret, and its event's payload. */
export interface DueDelivery extends WebhookDelivery {
  url: string;
  secret_encrypted: string;
  /** The secret before the last rotation while it is still honoured (null otherwise). */
  previous_secret_encrypted: string | null;
  payload: string;
  event_created_at: Date;
}

/** What `claimDueDeliveries` may take. */
export interface DueDeliveryClaim {
  /** Deliveries to claim at most. */
  limit: number;
  /** Due deliveries looked at per merchant. */
  window: number;
  /** Deliveries in flight at once per endpoint, and per merchant (leases younger than the in-flight window). */
  perEndpoint: number;
  perMerchant: number;
  /** The lease a claim takes, and how young a lease must be to count as in flight, in milliseconds. */
  leaseMs: number;
  inFlightWindowMs: number;
}

/**
 * Claims due deliveries fairly across merchants under the caps, with a lease, in one statement (`SKIP LOCKED`);
 * marks `canceled` those whose endpoint is no longer active. The fairness rules are told at `claimDueFairly`.
 */
export async function claimDueDeliveries(db: Db, c: DueDeliveryClaim): Promise<DueDelivery[]> {
  const result = await sql<DueDelivery>`
    WITH busy AS (
      SELECT merchant_id, endpoint_id FROM webhook_deliveries
      WHERE status = 'pending' AND locked_until IS NOT NULL AND locked_until > now() + ${`${c.leaseMs - c.inFlightWindowMs} milliseconds`}::interval
    ), busy_merchants AS (
      SELECT merchant_id, count(*)::int AS n FROM busy GROUP BY merchant_id
    ), busy_endpoints AS (
      SELECT endpoint_id, count(*)::int AS n FROM busy GROUP BY endpoint_id
    ), candidates AS (
      SELECT d.id, d.merchant_id, d.endpoint_id, d.next_attempt_at, e.status AS endpoint_status
      FROM merchants m
      LEFT JOIN busy_merchants bm ON bm.merchant_id = m.id
      CROSS JOIN LATERAL (
        SELECT w.id, w.merchant_id, w.endpoint_id, w.next_attempt_at FROM webhook_deliveries w
        WHERE w.merchant_id = m.id AND w.status = 'pending' AND w.next_attempt_at <= now() AND (w.locked_until IS NULL OR w.locked_until < now())
        ORDER BY w.next_attempt_at, w.id
        LIMIT ${c.window}
      ) d
      JOIN webhook_endpoints e ON e.id = d.endpoint_id
      WHERE coalesce(bm.n, 0) < ${c.perMerchant}
    ), canceled AS (
      UPDATE webhook_deliveries SET status = 'canceled', last_error = 'endpoint disabled', locked_until = NULL
      WHERE id IN (SELECT id FROM candidates WHERE endpoint_status <> 'active') AND status = 'pending'
        AND (locked_until IS NULL OR locked_until < now())
    ), endpoint_slots AS (
      SELECT c.*, coalesce(be.n, 0) + row_number() OVER (PARTITION BY c.endpoint_id ORDER BY c.next_attempt_at, c.id) AS endpoint_slot
      FROM candidates c LEFT JOIN busy_endpoints be ON be.endpoint_id = c.endpoint_id
      WHERE c.endpoint_status = 'active'
    ), merchant_slots AS (
      SELECT s.id, s.next_attempt_at, coalesce(bm.n, 0) + row_number() OVER (PARTITION BY s.merchant_id ORDER BY s.next_attempt_at, s.id) AS merchant_slot
      FROM endpoint_slots s LEFT JOIN busy_merchants bm ON bm.merchant_id = s.merchant_id
      WHERE s.endpoint_slot <= ${c.perEndpoint}
    ), picked AS (
      SELECT id FROM merchant_slots WHERE merchant_slot <= ${c.perMerchant}
      ORDER BY merchant_slot, next_attempt_at, id
      LIMIT ${c.limit}
    ), claimed AS (
      UPDATE webhook_deliveries SET locked_until = now() + ${`${c.leaseMs} milliseconds`}::interval
      WHERE id IN (
        SELECT w.id FROM webhook_deliveries w
        WHERE w.id IN (SELECT id FROM picked)
          AND w.status = 'pending' AND w.next_attempt_at <= now() AND (w.locked_until IS NULL OR w.locked_until < now())
        FOR UPDATE SKIP LOCKED
      )
      RETURNING *
    )
    SELECT claimed.*, e.url, e.secret_encrypted, ev.payload, ev.created_at AS event_created_at,
      CASE WHEN e.previous_secret_expires_at > now() THEN e.previous_secret_encrypted END AS previous_secret_encrypted
    FROM claimed JOIN webhook_endpoints e ON e.id = claimed.endpoint_id JOIN events ev ON ev.id = claimed.event_id`.execute(db);
  return result.rows;
}
