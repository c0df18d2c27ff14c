import { randomBytes } from 'node:crypto';
import { sql, type Insertable, type Transaction, type Updateable } from 'kysely';
import { orderView, type OrderRow } from './order-view.js';
import type { EmuDb, EmuTables } from './schema.js';

/**
 * Orders and the changes that happen to them. Every status change is written together with the
 * notification that reports it (same transaction), so a crash can lose neither.
 */

/** A payment link may be opened for payment up to 20 times (docs "Payment links" → "Number of attempts"). */
export const MAX_TRIES = 20;
/** Statuses in which the link still takes a payment. */
export const PAYABLE_STATUSES = ['initialized', 'declined'] as const;

export type NewOrder = Omit<Insertable<EmuTables['emu_multisafepay_orders']>, 'id' | 'session_id' | 'transaction_id' | 'status' | 'financial_status'>;

export function newSessionId(): string {
  // MultiSafepay's session ids are 35 alphanumerics (`82Az5nicWa3Xb3qsNuuYcAHshvO43HjUmyv`).
  return randomBytes(27).toString('base64url').replace(/[-_]/g, 'x').slice(0, 35);
}

export function isPayable(order: OrderRow, now = new Date()): boolean {
  return (PAYABLE_STATUSES as readonly string[]).includes(order.status) && new Date(order.expires_at) > now && order.tries < MAX_TRIES;
}

/** Inserts a new order; undefined when the account already has one with this order_id (error 1006). */
export async function insertOrder(db: EmuDb, order: NewOrder): Promise<OrderRow | undefined> {
  return db
    .insertInto('emu_multisafepay_orders')
    .values({
      ...order,
      session_id: newSessionId(),
      transaction_id: sql<number>`nextval('emu_multisafepay_transaction_seq')` as unknown as number,
      status: 'initialized',
      financial_status: 'initialized',
    })
    .onConflict((oc) => oc.columns(['api_key', 'order_id']).doNothing())
    .returningAll()
    .executeTakeFirst();
}

export async function findOrder(db: EmuDb, apiKey: string, orderId: string): Promise<OrderRow | undefined> {
  return db.selectFrom('emu_multisafepay_orders').selectAll().where('api_key', '=', apiKey).where('order_id', '=', orderId).executeTakeFirst();
}

export async function findBySession(db: EmuDb, sessionId: string): Promise<OrderRow | undefined> {
  if (!/^[A-Za-z0-9]{10,64}$/.test(sessionId)) return undefined;
  return db.selectFrom('emu_multisafepay_orders').selectAll().where('session_id', '=', sessionId).executeTakeFirst();
}

/**
 * Queues the notification of the order's current state, when the order has a notification URL. `leased`
 * notifications wait for the caller's own first attempt (see Notifier.deliverNow); the rest are due at once.
 */
export async function queueNotification(trx: Transaction<EmuTables>, row: OrderRow, leaseMs: number | undefined): Promise<number | undefined> {
  if (!row.notification_url) return undefined;
  const inserted = await trx
    .insertInto('emu_multisafepay_notifications')
    .values({
      order_pk: Number(row.id),
      body: JSON.stringify(orderView(row)),
      order_status: row.status,
      status: 'pending',
      next_attempt_at: leaseMs === undefined ? sql<Date>`now()` : sql<Date>`now() + ${leaseMs} * interval '1 millisecond'`,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(inserted.id);
}

export type OrderChange = Updateable<EmuTables['emu_multisafepay_orders']>;

/**
 * Applies `change` to one order if it is in one of `from` statuses (row-locked), and queues the notification
 * of the result. Undefined when the order was not in such a status (a double submit, a race): nothing happens.
 */
export async function changeOrder(
  db: EmuDb,
  orderPk: number,
  from: readonly string[],
  change: (row: OrderRow) => Record<string, unknown> | undefined,
  notify: { leaseMs?: number } | false,
): Promise<{ row: OrderRow; notificationId?: number } | undefined> {
  return db.transaction().execute(async (trx) => {
    const current = await trx
      .selectFrom('emu_multisafepay_orders')
      .selectAll()
      .where('id', '=', orderPk)
      .where('status', 'in', from)
      .forUpdate()
      .executeTakeFirst();
    if (!current) return undefined;
    const values = change(current);
    if (!values) return undefined;
    const row = await trx
      .updateTable('emu_multisafepay_orders')
      .set({ ...values, modified_at: new Date() } as unknown as OrderChange)
      .where('id', '=', orderPk)
      .returningAll()
      .executeTakeFirstOrThrow();
    const notificationId = notify ? await queueNotification(trx, row, notify.leaseMs) : undefined;
    return { row, notificationId };
  });
}

/**
 * Lets every link whose lifetime (`seconds_active`/`days_active`) has passed expire, with a notification
 * each. Rows another process is changing are skipped and caught by the next poll.
 */
export async function expireDueOrders(db: EmuDb): Promise<number> {
  return db.transaction().execute(async (trx) => {
    const { rows } = await sql<OrderRow>`
      UPDATE emu_multisafepay_orders SET status = 'expired', financial_status = 'expired', pending_card = NULL, modified_at = now()
      WHERE id IN (
        SELECT id FROM emu_multisafepay_orders
        WHERE status IN ('initialized', 'declined') AND expires_at <= now()
        ORDER BY expires_at LIMIT 50 FOR UPDATE SKIP LOCKED)
      RETURNING *`.execute(trx);
    for (const row of rows) await queueNotification(trx, row, undefined);
    return rows.length;
  });
}

/** Ends the manual review of uncleared payments whose time has come (the test cards' "after 3 minutes"). */
export async function resolveDueReviews(db: EmuDb): Promise<number> {
  return db.transaction().execute(async (trx) => {
    const { rows } = await sql<OrderRow>`
      UPDATE emu_multisafepay_orders
      SET status = resolve_to, financial_status = resolve_to,
          completed_at = CASE WHEN resolve_to = 'completed' THEN now() ELSE completed_at END,
          reason = CASE WHEN resolve_to = 'void' THEN 'Declined after manual review' ELSE reason END,
          response_code = CASE WHEN resolve_to = 'void' THEN NULL ELSE response_code END,
          resolve_at = NULL, resolve_to = NULL, modified_at = now()
      WHERE id IN (
        SELECT id FROM emu_multisafepay_orders
        WHERE status = 'uncleared' AND resolve_at <= now()
        ORDER BY resolve_at LIMIT 50 FOR UPDATE SKIP LOCKED)
      RETURNING *`.execute(trx);
    for (const row of rows) await queueNotification(trx, row, undefined);
    return rows.length;
  });
}
