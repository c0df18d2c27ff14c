import type { Selectable } from 'kysely';
import { ORDER_REFERENCE_PARAM, parseOrderXml } from '../../src/connectors/netopia-v1/order-xml.js';
import type { EmuDb, EmuTables, OrderStatus } from './schema.js';

/** An order as NETOPIA keeps it: one per (signature, merchant order id), identified by its purchase id. */
export interface Order
  extends Omit<Selectable<EmuTables['emu_netopia_v1_orders']>, 'purchase' | 'amount_minor' | 'amount_ron' | 'captured_ron' | 'credited_ron'> {
  purchase: number;
  amount_minor: number;
  amount_ron: number;
  captured_ron: number;
  credited_ron: number;
}

/** Statuses in which the customer can still pay; every other status is a finished order. */
export const PAYABLE_STATUSES: readonly OrderStatus[] = ['open', 'three_ds'];

export function isPayable(order: Order): boolean {
  return PAYABLE_STATUSES.includes(order.status);
}

export function toOrder(row: Selectable<EmuTables['emu_netopia_v1_orders']>): Order {
  return {
    ...row,
    purchase: Number(row.purchase),
    amount_minor: Number(row.amount_minor),
    amount_ron: Number(row.amount_ron),
    captured_ron: Number(row.captured_ron),
    credited_ron: Number(row.credited_ron),
  };
}

export const PURCHASE_RE = /^[1-9]\d{0,14}$/;

export async function findOrder(db: EmuDb, purchase: number): Promise<Order | undefined> {
  const row = await db.selectFrom('emu_netopia_v1_orders').selectAll().where('purchase', '=', purchase).executeTakeFirst();
  return row && toOrder(row);
}

/** The order behind a `:purchase` path parameter, or undefined when the text is not a purchase id. */
export async function findOrderByParam(db: EmuDb, param: string): Promise<Order | undefined> {
  return PURCHASE_RE.test(param) ? findOrder(db, Number(param)) : undefined;
}

/** The account's order named by a URL's purchase id (the back office): another account's order is not found. */
export async function findAccountOrder(db: EmuDb, signature: string, param: string): Promise<Order | undefined> {
  const order = await findOrderByParam(db, param);
  return order && order.signature === signature ? order : undefined;
}

export async function listOrders(db: EmuDb, signature: string, limit: number): Promise<Order[]> {
  const rows = await db.selectFrom('emu_netopia_v1_orders').selectAll().where('signature', '=', signature).orderBy('purchase', 'desc').limit(limit).execute();
  return rows.map(toOrder);
}

export type NewOrder = Omit<
  Order,
  'purchase' | 'status' | 'error_code' | 'pan_masked' | 'rrn' | 'payment_instrument_id' | 'captured_ron' | 'credited_ron' | 'created_at' | 'updated_at'
>;

/**
 * Records a new order, or returns the one already recorded under the same (signature, order id) with
 * `created: false`: concurrent posts of one order end on one row.
 */
export async function insertOrGetOrder(db: EmuDb, order: NewOrder): Promise<{ order: Order; created: boolean }> {
  const inserted = await db
    .insertInto('emu_netopia_v1_orders')
    .values({ ...order, status: 'open', error_code: null, pan_masked: null, rrn: null, payment_instrument_id: null })
    .onConflict((oc) => oc.columns(['signature', 'order_id']).doNothing())
    .returningAll()
    .executeTakeFirst();
  if (inserted) return { order: toOrder(inserted), created: true };
  const existing = await db
    .selectFrom('emu_netopia_v1_orders')
    .selectAll()
    .where('signature', '=', order.signature)
    .where('order_id', '=', order.order_id)
    .executeTakeFirstOrThrow();
  return { order: toOrder(existing), created: false };
}

/** Parks an open order at the 3-D Secure step; false when it was no longer open (a concurrent submit won). */
export async function startThreeDs(db: EmuDb, purchase: number, card: { panMasked: string; instrumentId: string }): Promise<boolean> {
  const result = await db
    .updateTable('emu_netopia_v1_orders')
    .set({ status: 'three_ds', pan_masked: card.panMasked, payment_instrument_id: card.instrumentId, updated_at: new Date() })
    .where('purchase', '=', purchase)
    .where('status', '=', 'open')
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/**
 * The reference the payer knows the order by: the merchant's own (the `order_reference` parameter the hub sends,
 * NETOPIA keeps a request's `<params>` with its order) when the request has one, else the request's order id.
 */
export function payerOrderReference(order: Order): string {
  try {
    return parseOrderXml(order.request_xml).params?.find((p) => p.name === ORDER_REFERENCE_PARAM)?.value || order.order_id;
  } catch {
    return order.order_id;
  }
}

/**
 * The merchant's return URL with `orderId` appended (what NETOPIA's PHP sample reads), keeping the existing
 * query string and fragment byte for byte rather than re-serialising them through URLSearchParams.
 */
export function returnUrlFor(order: Order): string {
  const hashAt = order.return_url.indexOf('#');
  const base = hashAt === -1 ? order.return_url : order.return_url.slice(0, hashAt);
  const fragment = hashAt === -1 ? '' : order.return_url.slice(hashAt);
  const separator = !base.includes('?') ? '?' : base.endsWith('?') || base.endsWith('&') ? '' : '&';
  return `${base}${separator}orderId=${encodeURIComponent(order.order_id)}${fragment}`;
}
