import { randomBytes } from 'node:crypto';
import type { Selectable } from 'kysely';
import type { EmuV2Db, EmuV2Tables, OrderMode, PaymentStatus } from './schema.js';

type Row = Selectable<EmuV2Tables['emu_netopia_v2_orders']>;

/** An order as NETOPIA keeps it: one per (POS signature, merchant orderID), identified by its ntpID. */
export interface Order extends Omit<Row, 'ntp_id' | 'amount_minor' | 'paid_minor' | 'credited_minor' | 'status'> {
  ntp_id: number;
  amount_minor: number;
  paid_minor: number;
  credited_minor: number;
  status: PaymentStatus;
}

export function toOrder(row: Row): Order {
  return {
    ...row,
    ntp_id: Number(row.ntp_id),
    amount_minor: Number(row.amount_minor),
    paid_minor: Number(row.paid_minor),
    credited_minor: Number(row.credited_minor),
    status: Number(row.status) as PaymentStatus,
    exp_month: row.exp_month === null ? null : Number(row.exp_month),
    exp_year: row.exp_year === null ? null : Number(row.exp_year),
  };
}

/** An opaque random token, URL- and form-safe. */
export function randomToken(bytes = 24): string {
  return randomBytes(bytes).toString('base64url');
}

const NTP_ID_RE = /^[1-9]\d{0,15}$/;

/** The ntpID of a request: digits, as a string (what NETOPIA sends) or an integer (what some clients send). */
export function readNtpId(value: unknown): number | undefined {
  const text = typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : value;
  return typeof text === 'string' && NTP_ID_RE.test(text) && Number.isSafeInteger(Number(text)) ? Number(text) : undefined;
}

export async function findOrder(db: EmuV2Db, signature: string, ntpId: number): Promise<Order | undefined> {
  const row = await db.selectFrom('emu_netopia_v2_orders').selectAll().where('ntp_id', '=', ntpId).where('signature', '=', signature).executeTakeFirst();
  return row && toOrder(row);
}

export async function findOrderByOrderId(db: EmuV2Db, signature: string, orderId: string): Promise<Order | undefined> {
  const row = await db.selectFrom('emu_netopia_v2_orders').selectAll().where('signature', '=', signature).where('order_id', '=', orderId).executeTakeFirst();
  return row && toOrder(row);
}

/** The order behind a hosted page URL. */
export async function findOrderByPageToken(db: EmuV2Db, token: string): Promise<Order | undefined> {
  if (!/^[A-Za-z0-9_-]{16,64}$/.test(token)) return undefined;
  const row = await db.selectFrom('emu_netopia_v2_orders').selectAll().where('page_token', '=', token).executeTakeFirst();
  return row && toOrder(row);
}

/** The order a 3-D Secure paReq was issued for. */
export async function findOrderByPaReq(db: EmuV2Db, paReq: string): Promise<Order | undefined> {
  if (!/^[A-Za-z0-9_-]{16,128}$/.test(paReq)) return undefined;
  const row = await db.selectFrom('emu_netopia_v2_orders').selectAll().where('pa_req', '=', paReq).executeTakeFirst();
  return row && toOrder(row);
}

/** The approved order whose card a token stands for, within one POS. */
export async function findOrderByToken(db: EmuV2Db, signature: string, token: string): Promise<Order | undefined> {
  const row = await db.selectFrom('emu_netopia_v2_orders').selectAll().where('signature', '=', signature).where('token', '=', token).executeTakeFirst();
  return row && toOrder(row);
}

export interface NewOrder {
  signature: string;
  order_id: string;
  mode: OrderMode;
  description: string;
  currency: string;
  amount_minor: number;
  order_data: Record<string, string>;
  billing: Record<string, unknown>;
  notify_url: string;
  redirect_url: string;
  cancel_url: string | null;
  language: string;
}

/**
 * Records a new order (status 1, "101 redirect to the payment page"), or returns the one already recorded
 * under the same (signature, orderID) with `created: false`: concurrent starts of one order end on one row.
 */
export async function insertOrGetOrder(db: EmuV2Db, order: NewOrder): Promise<{ order: Order; created: boolean }> {
  const inserted = await db
    .insertInto('emu_netopia_v2_orders')
    .values({
      ...order,
      order_data: JSON.stringify(order.order_data),
      billing: JSON.stringify(order.billing),
      page_token: randomToken(),
      status: 1,
      error_code: '101',
      error_message: 'Redirect user to payment page',
    })
    .onConflict((oc) => oc.columns(['signature', 'order_id']).doNothing())
    .returningAll()
    .executeTakeFirst();
  if (inserted) return { order: toOrder(inserted), created: true };
  const existing = await findOrderByOrderId(db, order.signature, order.order_id);
  if (!existing) throw new Error('an order that conflicted on insert has disappeared');
  return { order: existing, created: false };
}
