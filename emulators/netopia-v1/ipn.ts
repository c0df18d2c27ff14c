import { randomBytes } from 'node:crypto';
import { sql, type Selectable, type Transaction } from 'kysely';
import { V1_ERROR_CODES } from '../../src/connectors/netopia-v1/errors.js';
import type { V1Action, V1Mobilpay } from '../../src/connectors/netopia-v1/ipn-xml.js';
import { formatTimestamp, parseOrderXml } from '../../src/connectors/netopia-v1/order-xml.js';
import { ronText } from './amounts.js';
import type { Order } from './orders.js';
import type { EmuDb, EmuTables } from './schema.js';

/** A fresh crc: NETOPIA's is an opaque 32-hex-digit id (the PHP library makes one with md5(rand().time())). */
export function newCrc(): string {
  return randomBytes(16).toString('hex');
}

/**
 * The `<mobilpay>` element for one action on `order`. Amounts are in RON (see amounts.ts); `processedRon`
 * is what the action applied to — for a declined payment the attempted amount, as in NETOPIA's own
 * declined IPNs, and for `credit` the cumulative credited total (see operations.ts).
 */
export function newMobilpay(order: Order, action: V1Action, processedRon: number, errorCode: number): V1Mobilpay {
  const billing = parseOrderXml(order.request_xml).invoice.billing;
  return {
    timestamp: formatTimestamp(new Date()),
    crc: newCrc(),
    action,
    ...(billing ? { customer: billing } : {}),
    purchase: String(order.purchase),
    original_amount: ronText(order.amount_ron),
    processed_amount: ronText(processedRon),
    current_payment_count: '1',
    ...(order.pan_masked ? { pan_masked: order.pan_masked } : {}),
    ...(order.rrn ? { rrn: order.rrn } : {}),
    ...(order.payment_instrument_id ? { payment_instrument_id: order.payment_instrument_id } : {}),
    installments: '0',
    error: { code: errorCode, message: V1_ERROR_CODES[errorCode] ?? V1_ERROR_CODES[99]! },
  };
}

/**
 * Queues an IPN in the same transaction as the state change it reports. The delivery is born leased for
 * `leaseMs` so that the worker leaves it to the caller's synchronous first attempt; if that caller dies,
 * the lease runs out and the worker sends it.
 */
export async function queueIpn(trx: Transaction<EmuTables>, purchase: number, mobilpay: V1Mobilpay, leaseMs: number): Promise<number> {
  const row = await trx
    .insertInto('emu_netopia_v1_ipn_deliveries')
    .values({
      purchase,
      action: mobilpay.action,
      error_code: mobilpay.error.code,
      crc: mobilpay.crc,
      mobilpay: JSON.stringify(mobilpay),
      status: 'pending',
      next_attempt_at: sql<Date>`now() + ${leaseMs} * interval '1 millisecond'`,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(row.id);
}

export type Delivery = Selectable<EmuTables['emu_netopia_v1_ipn_deliveries']>;
export type Attempt = Selectable<EmuTables['emu_netopia_v1_ipn_attempts']>;

/** Every IPN of an order, oldest first, each with its attempt log. */
export async function listDeliveries(db: EmuDb, purchase: number): Promise<Array<Delivery & { log: Attempt[] }>> {
  const deliveries = await db.selectFrom('emu_netopia_v1_ipn_deliveries').selectAll().where('purchase', '=', purchase).orderBy('id').execute();
  if (deliveries.length === 0) return [];
  const attempts = await db
    .selectFrom('emu_netopia_v1_ipn_attempts')
    .selectAll()
    .where(
      'delivery_id',
      'in',
      deliveries.map((d) => Number(d.id)),
    )
    .orderBy('delivery_id')
    .orderBy('attempt')
    .execute();
  return deliveries.map((d) => ({ ...d, log: attempts.filter((a) => Number(a.delivery_id) === Number(d.id)) }));
}
