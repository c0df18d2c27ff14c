import type { Transaction } from 'kysely';
import { V1_ERROR_CODES } from '../../src/connectors/netopia-v1/errors.js';
import type { V1Mobilpay } from '../../src/connectors/netopia-v1/ipn-xml.js';
import { formatTimestamp } from '../../src/connectors/netopia-v1/order-xml.js';
import { parseAmount } from './amounts.js';
import { newCrc, newMobilpay, queueIpn } from './ipn.js';
import { toOrder, type Order } from './orders.js';
import type { EmuDb, EmuTables } from './schema.js';

/**
 * What the operator can do to an order in NETOPIA's admin, with NETOPIA's refusals (51–55). Amounts typed by
 * the operator are RON, the currency IPN amounts are in.
 *
 * Decisions where NETOPIA's documentation is silent:
 * - `capture` may be partial: the `confirmed` IPN's processed_amount is the captured amount.
 * - `credit` may be partial and repeated: each `credit` IPN's processed_amount is the CUMULATIVE credited
 *   amount so far, so a full credit has processed_amount == original_amount as in NETOPIA's fixtures, and
 *   credits of 10 and 15 report 10.00 then 25.00. The limit is what was captured and not yet credited (54).
 * - `canceled` reports the voided preauthorised amount as processed_amount.
 * - `resend` repeats the latest IPN of the order with a new crc and timestamp.
 */
export type Operation = 'capture' | 'cancel' | 'credit' | 'resend';
export const OPERATIONS: readonly Operation[] = ['capture', 'cancel', 'credit', 'resend'];

export type OperationResult = { ok: true; deliveryId: number } | { ok: false; code: number; message: string };

function refuse(code: number, detail?: string): OperationResult {
  const message = V1_ERROR_CODES[code] ?? V1_ERROR_CODES[99]!;
  return { ok: false, code, message: detail ? `${message}: ${detail}` : message };
}

/**
 * The amount field of a capture or credit: blank means everything still available. Zero is only meaningful
 * for a zero-amount (card check) order.
 */
function readAmount(text: string | undefined, available: number): number | OperationResult {
  if (text === undefined || text.trim() === '') return available;
  const amount = parseAmount(text, 'RON');
  if (amount === undefined) return refuse(48, 'the amount must be a decimal number such as 12.50');
  if (amount === 0 && available > 0) return refuse(32, 'the amount must be greater than zero');
  return amount;
}

type Trx = Transaction<EmuTables>;

async function lockOrder(trx: Trx, purchase: number): Promise<Order | undefined> {
  const row = await trx.selectFrom('emu_netopia_v1_orders').selectAll().where('purchase', '=', purchase).forUpdate().executeTakeFirst();
  return row && toOrder(row);
}

async function update(trx: Trx, purchase: number, changes: Partial<Pick<Order, 'status' | 'captured_ron' | 'credited_ron'>>): Promise<Order> {
  const row = await trx
    .updateTable('emu_netopia_v1_orders')
    .set({ ...changes, updated_at: new Date() })
    .where('purchase', '=', purchase)
    .returningAll()
    .executeTakeFirstOrThrow();
  return toOrder(row);
}

async function capture(trx: Trx, order: Order, amountText: string | undefined, leaseMs: number): Promise<OperationResult> {
  if (order.status !== 'preauthorized') return refuse(52);
  const amount = readAmount(amountText, order.amount_ron);
  if (typeof amount !== 'number') return amount;
  if (amount > order.amount_ron) return refuse(55);
  const updated = await update(trx, order.purchase, { status: 'confirmed', captured_ron: amount });
  return { ok: true, deliveryId: await queueIpn(trx, order.purchase, newMobilpay(updated, 'confirmed', amount, 0), leaseMs) };
}

async function cancel(trx: Trx, order: Order, leaseMs: number): Promise<OperationResult> {
  if (order.status !== 'preauthorized') return refuse(51);
  const updated = await update(trx, order.purchase, { status: 'canceled' });
  return { ok: true, deliveryId: await queueIpn(trx, order.purchase, newMobilpay(updated, 'canceled', order.amount_ron, 0), leaseMs) };
}

async function credit(trx: Trx, order: Order, amountText: string | undefined, leaseMs: number): Promise<OperationResult> {
  if (order.status !== 'confirmed' && order.status !== 'credited') return refuse(53);
  const available = order.captured_ron - order.credited_ron;
  const amount = readAmount(amountText, available);
  if (typeof amount !== 'number') return amount;
  if (amount > available || (amount === 0 && order.status === 'credited')) return refuse(54);
  const credited = order.credited_ron + amount;
  const updated = await update(trx, order.purchase, { credited_ron: credited, status: credited === order.captured_ron ? 'credited' : 'confirmed' });
  return { ok: true, deliveryId: await queueIpn(trx, order.purchase, newMobilpay(updated, 'credit', credited, 0), leaseMs) };
}

async function resend(trx: Trx, order: Order, leaseMs: number): Promise<OperationResult> {
  const last = await trx
    .selectFrom('emu_netopia_v1_ipn_deliveries')
    .select('mobilpay')
    .where('purchase', '=', order.purchase)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (!last) return refuse(48, 'no IPN has been sent for this order yet');
  const mobilpay: V1Mobilpay = { ...last.mobilpay, crc: newCrc(), timestamp: formatTimestamp(new Date()) };
  return { ok: true, deliveryId: await queueIpn(trx, order.purchase, mobilpay, leaseMs) };
}

/** Runs one operation under the order's row lock; undefined when there is no such order. */
export async function runOperation(
  db: EmuDb,
  purchase: number,
  operation: Operation,
  amountText: string | undefined,
  leaseMs: number,
): Promise<OperationResult | undefined> {
  return db.transaction().execute(async (trx) => {
    const order = await lockOrder(trx, purchase);
    if (!order) return undefined;
    switch (operation) {
      case 'capture':
        return capture(trx, order, amountText, leaseMs);
      case 'cancel':
        return cancel(trx, order, leaseMs);
      case 'credit':
        return credit(trx, order, amountText, leaseMs);
      case 'resend':
        return resend(trx, order, leaseMs);
    }
  });
}
