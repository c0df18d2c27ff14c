import type { FastifyInstance } from 'fastify';
import { toDecimalString } from '../../src/core/money.js';
import { attemptLogEntry } from '../shared/delivery-tables.js';
import type { EmulatorV2Context } from './context.js';
import { authenticate } from './accounts.js';
import { sendApiError } from './errors.js';
import { readNtpId, toOrder } from './orders.js';

/** An IPN body as the log shows it: the card token (and the binding that repeats it) left out. */
export function withoutCardToken(body: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return body;
  }
  const payment = (parsed as { payment?: Record<string, unknown> } | null)?.payment;
  if (typeof payment !== 'object' || payment === null) return body;
  if ('token' in payment) payment.token = '(hidden)';
  const binding = payment.binding as Record<string, unknown> | undefined;
  if (typeof binding === 'object' && binding !== null && 'token' in binding) binding.token = '(hidden)';
  return JSON.stringify(parsed);
}

/**
 * `GET /orders/:ntpID`: the sandbox admin's view of one transaction — its state and its IPN delivery log
 * (every attempt: HTTP status, the merchant's reply, the verdict, the next retry). NETOPIA shows this as the
 * "merchant communication log"; the emulator gives it as JSON for testers and scripts. Like the rest of the
 * API it takes the account's API key (`Authorization: <key>`) and shows that account's orders only. Secrets
 * (the page token, 3-D Secure answers, the card token, also inside the logged IPN bodies) are left out.
 */
export function registerDeliveryLog(app: FastifyInstance, ctx: EmulatorV2Context): void {
  app.get<{ Params: { ntpId: string } }>('/orders/:ntpId', async (request, reply) => {
    const account = await authenticate(ctx, request, reply);
    if (!account) return reply;
    const ntpId = readNtpId(request.params.ntpId);
    const row =
      ntpId === undefined
        ? undefined
        : await ctx.db
            .selectFrom('emu_netopia_v2_orders')
            .selectAll()
            .where('ntp_id', '=', ntpId)
            .where('signature', '=', account.signature)
            .executeTakeFirst();
    if (!row) return sendApiError(reply, 404, '48', { message: 'Order not found' });
    const order = toOrder(row);
    const deliveries = await ctx.db.selectFrom('emu_netopia_v2_ipn_deliveries').selectAll().where('ntp_id', '=', order.ntp_id).orderBy('id').execute();
    const ids = deliveries.map((d) => Number(d.id));
    const attempts =
      ids.length === 0
        ? []
        : await ctx.db
            .selectFrom('emu_netopia_v2_ipn_attempts')
            .selectAll()
            .where('delivery_id', 'in', ids)
            .orderBy('delivery_id')
            .orderBy('attempt')
            .execute();
    return {
      order: {
        ntpID: String(order.ntp_id),
        posSignature: order.signature,
        orderID: order.order_id,
        mode: order.mode,
        status: order.status,
        code: order.error_code,
        message: order.error_message,
        currency: order.currency,
        amount: toDecimalString(order.amount_minor, order.currency),
        paid: toDecimalString(order.paid_minor, order.currency),
        credited: toDecimalString(order.credited_minor, order.currency),
        panMasked: order.pan_masked,
        notifyUrl: order.notify_url,
        redirectUrl: order.redirect_url,
        created_at: order.created_at,
        updated_at: order.updated_at,
      },
      deliveries: deliveries.map((d) => ({
        id: String(d.id),
        payment_status: Number(d.payment_status),
        code: d.code,
        body: withoutCardToken(d.body),
        status: d.status,
        attempts: Number(d.attempts),
        next_attempt_at: d.status === 'pending' ? d.next_attempt_at : null,
        log: attempts.filter((a) => Number(a.delivery_id) === Number(d.id)).map(attemptLogEntry),
      })),
    };
  });
}
