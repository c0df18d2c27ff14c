import { createHash, randomInt } from 'node:crypto';
import { newMobilpay, queueIpn } from './ipn.js';
import { PAYABLE_STATUSES, toOrder, type Order } from './orders.js';
import type { EmuDb } from './schema.js';

export type CardResult = { approved: true } | { approved: false; code: number };

/**
 * NETOPIA's id of a payment instrument is stable for one card, so the emulator derives it from the PAN
 * (never stored) and a merchant can recognise a returning card as it would in production.
 */
export function paymentInstrumentId(pan: string): string {
  return String((createHash('sha256').update(`emu-netopia-instrument:${pan}`).digest().readUInt32BE(0) % 90_000_000) + 10_000_000);
}

/**
 * Records the issuer's answer for an order still waiting for a card and queues the IPN that reports it, in
 * one transaction. An approval is `paid` for a preauthorising (manual capture) account and `confirmed`
 * otherwise; a decline is `paid` with the error code. Undefined when the order was no longer payable
 * (a double submit): nothing changes and nothing is sent.
 */
export async function settleCard(
  db: EmuDb,
  purchase: number,
  card: { panMasked: string; instrumentId: string },
  result: CardResult,
  leaseMs: number,
): Promise<{ order: Order; deliveryId: number } | undefined> {
  return db.transaction().execute(async (trx) => {
    const current = await trx
      .selectFrom('emu_netopia_v1_orders')
      .select(['capture', 'amount_ron'])
      .where('purchase', '=', purchase)
      .where('status', 'in', PAYABLE_STATUSES)
      .forUpdate()
      .executeTakeFirst();
    if (!current) return undefined;
    const manual = current.capture === 'manual';
    const row = await trx
      .updateTable('emu_netopia_v1_orders')
      .set({
        status: !result.approved ? 'declined' : manual ? 'preauthorized' : 'confirmed',
        error_code: result.approved ? 0 : result.code,
        pan_masked: card.panMasked,
        rrn: String(randomInt(100_000_000_000, 1_000_000_000_000)),
        payment_instrument_id: card.instrumentId,
        captured_ron: result.approved && !manual ? Number(current.amount_ron) : 0,
        updated_at: new Date(),
      })
      .where('purchase', '=', purchase)
      .returningAll()
      .executeTakeFirstOrThrow();
    const order = toOrder(row);
    const action = result.approved && !manual ? 'confirmed' : 'paid';
    const mobilpay = newMobilpay(order, action, order.amount_ron, result.approved ? 0 : result.code);
    return { order, deliveryId: await queueIpn(trx, order.purchase, mobilpay, leaseMs) };
  });
}
