import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { toDecimalString } from '../../src/core/money.js';
import { attemptLogEntry } from '../shared/delivery-tables.js';
import { ronText } from './amounts.js';
import { flashMessage, orderListPage, orderPage } from './back-office-pages.js';
import type { EmulatorContext } from './context.js';
import { listDeliveries } from './ipn.js';
import { OPERATIONS, runOperation, type Operation } from './operations.js';
import { findAccountOrder, listOrders, type Order } from './orders.js';
import { problemPage, sendHtml, wantsJson } from './replies.js';

/**
 * The tester's stand-in for NETOPIA's admin console. Browsers log in with the account's back-office login
 * (signature and password), get HTML and post forms carrying the session's CSRF token (redirected back to the
 * order with a flash message); clients sending `Accept: application/json` with `Authorization: Basic
 * <signature:password>` get JSON, which is what tests and scripts use. Each sees its own account's orders only.
 */

const LIST_LIMIT = 200;

function orderJson(o: Order) {
  return {
    purchase: String(o.purchase),
    signature: o.signature,
    order_id: o.order_id,
    status: o.status,
    capture: o.capture,
    currency: o.currency,
    amount: toDecimalString(o.amount_minor, o.currency),
    amount_ron: ronText(o.amount_ron),
    captured_ron: ronText(o.captured_ron),
    credited_ron: ronText(o.credited_ron),
    error_code: o.error_code,
    pan_masked: o.pan_masked,
    ipn_cipher: o.ipn_cipher,
    lang: o.lang,
    confirm_url: o.confirm_url,
    return_url: o.return_url,
    created_at: o.created_at,
    updated_at: o.updated_at,
  };
}

type Params = { Params: { purchase: string } };

export function registerBackOffice(app: FastifyInstance, ctx: EmulatorContext): void {
  const orderUrl = (purchase: number) => `${ctx.baseUrl}/orders/${purchase}`;
  const notFound = (request: FastifyRequest, reply: FastifyReply) =>
    wantsJson(request)
      ? reply.code(404).send({ ok: false, error: { code: 48, message: 'there is no such order' } })
      : problemPage(reply, { title: 'Not found', detail: 'there is no such order' }, 404);

  // Every page and operation acts for the logged-in account only: another account's order is "no such order".
  app.get<{ Querystring: Record<string, string | undefined> }>('/orders', async (request, reply) => {
    const session = await ctx.backOffice.require(request, reply);
    if (!session) return reply;
    const orders = await listOrders(ctx.db, session.login, LIST_LIMIT);
    if (wantsJson(request)) return { orders: orders.map(orderJson) };
    return sendHtml(
      reply,
      200,
      orderListPage({
        orders,
        orderUrl: (o) => orderUrl(o.purchase),
        actionUrl: (o, operation) => `${orderUrl(o.purchase)}/${operation}`,
        csrfInput: ctx.backOffice.csrfInput(session),
        flash: flashMessage(request.query ?? {}),
        logout: ctx.backOffice.logoutForm(session),
      }),
    );
  });

  app.get<Params & { Querystring: Record<string, string | undefined> }>('/orders/:purchase', async (request, reply) => {
    const session = await ctx.backOffice.require(request, reply);
    if (!session) return reply;
    const order = await findAccountOrder(ctx.db, session.login, request.params.purchase);
    if (!order) return notFound(request, reply);
    const deliveries = await listDeliveries(ctx.db, order.purchase);
    if (wantsJson(request)) {
      return {
        order: orderJson(order),
        deliveries: deliveries.map((d) => ({
          id: String(d.id),
          action: d.action,
          error_code: d.error_code,
          crc: d.crc,
          status: d.status,
          attempts: d.attempts,
          next_attempt_at: d.status === 'pending' ? d.next_attempt_at : null,
          mobilpay: d.mobilpay,
          log: d.log.map(attemptLogEntry),
        })),
      };
    }
    return sendHtml(
      reply,
      200,
      orderPage({
        order,
        deliveries,
        actionUrl: (operation) => `${orderUrl(order.purchase)}/${operation}`,
        listUrl: `${ctx.baseUrl}/orders`,
        flash: flashMessage(request.query),
        csrfInput: ctx.backOffice.csrfInput(session),
        logout: ctx.backOffice.logoutForm(session),
      }),
    );
  });

  app.post<{ Params: { purchase: string; operation: string } }>('/orders/:purchase/:operation', async (request, reply) => {
    const session = await ctx.backOffice.require(request, reply);
    if (!session) return reply;
    const operation = request.params.operation as Operation;
    if (!OPERATIONS.includes(operation)) return notFound(request, reply);
    const order = await findAccountOrder(ctx.db, session.login, request.params.purchase);
    if (!order) return notFound(request, reply);
    const body = typeof request.body === 'object' && request.body !== null ? (request.body as Record<string, unknown>) : {};
    const amount = typeof body.amount === 'string' ? body.amount : typeof body.amount === 'number' ? String(body.amount) : undefined;
    const result = await runOperation(ctx.db, order.purchase, operation, amount, ctx.sender.leaseMs);
    if (!result) return notFound(request, reply);
    // A form posted from the orders list goes back to the list, its message naming the order; others to the order.
    const back = body.from === 'list' ? `${ctx.baseUrl}/orders?order=${order.purchase}&` : `${orderUrl(order.purchase)}?`;
    if (!result.ok) {
      if (wantsJson(request))
        return reply.code(result.code === 48 || result.code === 32 ? 400 : 409).send({ ok: false, error: { code: result.code, message: result.message } });
      return reply.redirect(`${back}refused=${result.code}`, 303);
    }
    const ipn = await ctx.sender.deliverNow(result.deliveryId);
    if (wantsJson(request)) return { ok: true, delivery_id: String(result.deliveryId), ipn: ipn ?? null };
    return reply.redirect(`${back}done=${operation}${ipn ? `&ipn=${ipn}` : ''}`, 303);
  });
}
