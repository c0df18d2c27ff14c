import { randomBytes } from 'node:crypto';
import { sql, type Transaction } from 'kysely';
import { maskPan } from '../netopia-v1/card-outcomes.js';
import { messageFor } from './errors.js';
import { randomToken, toOrder, type Order } from './orders.js';
import type { EmuV2Db, EmuV2Tables, OrderMode, PaymentStatus } from './schema.js';
import { ipnBody } from './views.js';

/**
 * The state changes of an order, each in one transaction with the IPN that reports it (queued, born leased
 * so the caller's own first attempt goes first; if that caller dies the worker sends it when the lease ends).
 */

type Trx = Transaction<EmuV2Tables>;

/** What the emulator keeps of a card: never the PAN or CVV. */
export interface CardFacts {
  panMasked: string;
  bin: string;
  expMonth: number;
  expYear: number;
}

export function cardFacts(card: { pan: string; expMonth: number; expYear: number }): CardFacts {
  return { panMasked: maskPan(card.pan), bin: card.pan.slice(0, 6), expMonth: card.expMonth, expYear: card.expYear };
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Like the sandbox's "24od": four letters and digits. */
function authCode(): string {
  return [...randomBytes(4)].map((b) => ALNUM[b % ALNUM.length]).join('');
}

export async function queueIpn(trx: Trx, order: Order, leaseMs: number): Promise<number> {
  const row = await trx
    .insertInto('emu_netopia_v2_ipn_deliveries')
    .values({
      ntp_id: order.ntp_id,
      payment_status: order.status,
      code: order.error_code,
      body: ipnBody(order),
      status: 'pending',
      next_attempt_at: sql<Date>`now() + ${leaseMs} * interval '1 millisecond'`,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(row.id);
}

async function lock(trx: Trx, ntpId: number, from: readonly PaymentStatus[]): Promise<Order | undefined> {
  const row = await trx
    .selectFrom('emu_netopia_v2_orders')
    .selectAll()
    .where('ntp_id', '=', ntpId)
    .where('status', 'in', [...from])
    .forUpdate()
    .executeTakeFirst();
  return row && toOrder(row);
}

export type Settlement = { approved: true } | { approved: false; code: string };

/**
 * Records the issuer's answer for an order in one of `from` and queues its IPN: approved → status 3 "00" with
 * an authorisation code, RRN and a token; declined → status 12 with the code, which finishes the order.
 * Undefined when the order was no longer in `from` (a double submit): nothing changes, nothing is sent.
 */
export async function settleOrder(
  db: EmuV2Db,
  ntpId: number,
  from: readonly PaymentStatus[],
  card: CardFacts,
  result: Settlement,
  leaseMs: number,
): Promise<{ order: Order; deliveryId: number } | undefined> {
  return db.transaction().execute(async (trx) => {
    const current = await lock(trx, ntpId, from);
    if (!current) return undefined;
    const code = result.approved ? '00' : result.code;
    const row = await trx
      .updateTable('emu_netopia_v2_orders')
      .set({
        status: result.approved ? 3 : 12,
        error_code: code,
        error_message: messageFor(code),
        pan_masked: card.panMasked,
        bin: card.bin,
        exp_month: card.expMonth,
        exp_year: card.expYear,
        auth_code: result.approved ? authCode() : null,
        rrn: result.approved ? randomBytes(9).toString('base64url') : null,
        // 66 random bytes: 88 base64 characters, the length of the sandbox's tokens.
        token: result.approved ? randomBytes(66).toString('base64') : null,
        paid_minor: result.approved ? Number(current.amount_minor) : 0,
        pa_req: null,
        authentication_token: null,
        pa_res_ok: null,
        pa_res_fail: null,
        updated_at: new Date(),
      })
      .where('ntp_id', '=', ntpId)
      .returningAll()
      .executeTakeFirstOrThrow();
    const order = toOrder(row);
    return { order, deliveryId: await queueIpn(trx, order, leaseMs) };
  });
}

/**
 * Parks a new order at the 3-D Secure step (status 15, "100"), with fresh paReq, authenticationToken and the
 * two paRes answers the sandbox ACS can give. No IPN: NETOPIA sends none at this step. Undefined when the
 * order was no longer new.
 */
export async function beginThreeDs(db: EmuV2Db, ntpId: number, card: CardFacts, mode: OrderMode): Promise<Order | undefined> {
  const row = await db
    .updateTable('emu_netopia_v2_orders')
    .set({
      // Who drives the authentication: the hosted page, or the merchant through customerAction and verify-auth.
      mode,
      status: 15,
      error_code: '100',
      error_message: messageFor('100'),
      pan_masked: card.panMasked,
      bin: card.bin,
      exp_month: card.expMonth,
      exp_year: card.expYear,
      pa_req: randomToken(48),
      authentication_token: randomToken(96),
      pa_res_ok: randomToken(48),
      pa_res_fail: randomToken(48),
      updated_at: new Date(),
    })
    .where('ntp_id', '=', ntpId)
    .where('status', '=', 1)
    .returningAll()
    .executeTakeFirst();
  return row && toOrder(row);
}

export type CreditResult = { ok: true; order: Order; deliveryId: number } | { ok: false; code: '53' | '54'; order: Order };

/**
 * `/operation/credit`: a full or partial refund of a paid order, repeatable until nothing is left. The order
 * becomes status 8 and its IPN reports the cumulative credited amount (see views.ts). Refused with 53 for an
 * order that was never paid and 54 for more than is left. Undefined when there is no such order.
 */
export async function creditOrder(db: EmuV2Db, signature: string, ntpId: number, amountMinor: number, leaseMs: number): Promise<CreditResult | undefined> {
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .selectFrom('emu_netopia_v2_orders')
      .selectAll()
      .where('ntp_id', '=', ntpId)
      .where('signature', '=', signature)
      .forUpdate()
      .executeTakeFirst();
    if (!row) return undefined;
    const current = toOrder(row);
    if (current.status !== 3 && current.status !== 8) return { ok: false, code: '53', order: current };
    if (amountMinor > current.paid_minor - current.credited_minor) return { ok: false, code: '54', order: current };
    const updated = await trx
      .updateTable('emu_netopia_v2_orders')
      .set({ status: 8, credited_minor: current.credited_minor + amountMinor, error_code: '00', error_message: messageFor('00'), updated_at: new Date() })
      .where('ntp_id', '=', ntpId)
      .returningAll()
      .executeTakeFirstOrThrow();
    const order = toOrder(updated);
    return { ok: true, order, deliveryId: await queueIpn(trx, order, leaseMs) };
  });
}
