import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sql } from 'kysely';
import { findAccount } from './accounts.js';
import { apiError, apiSuccess, type EmulatorContext } from './context.js';
import { readCreateOrder } from './order-input.js';
import { orderView, type OrderRow } from './order-view.js';
import { changeOrder, findOrder, insertOrder, PAYABLE_STATUSES, queueNotification } from './orders.js';

/**
 * MultiSafepay's JSON API under `/v1/json` (https://testapi.multisafepay.com/v1/json/): create an order, get
 * it, refund it, cancel it. The website API key comes as the `api_key` header or query parameter (the spec's
 * ApiKeyHeader and ApiKeyQuery); a wrong one gets error 1032, "Invalid API key", with HTTP 401.
 */

type OrderParams = { Params: { order_id: string } };

const REFUNDABLE = ['completed', 'partial_refunded', 'shipped'];

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function apiKeyOf(request: FastifyRequest): string | undefined {
  const header = request.headers.api_key;
  if (typeof header === 'string' && header !== '') return header.trim();
  const query = request.query as Record<string, unknown> | undefined;
  return typeof query?.api_key === 'string' ? query.api_key.trim() : undefined;
}

export function registerApiRoutes(app: FastifyInstance, ctx: EmulatorContext): void {
  const authenticate = async (request: FastifyRequest, reply: FastifyReply): Promise<string | undefined> => {
    const key = apiKeyOf(request);
    const account = key ? await findAccount(ctx.db, key) : undefined;
    if (!account) {
      apiError(reply, 401, 1032, 'Invalid API key');
      return undefined;
    }
    return account.api_key;
  };
  const orderOf = async (apiKey: string, request: FastifyRequest<OrderParams>, reply: FastifyReply): Promise<OrderRow | undefined> => {
    const order = await findOrder(ctx.db, apiKey, request.params.order_id);
    if (!order) apiError(reply, 404, 1006, 'Invalid transaction ID');
    return order;
  };

  app.post('/v1/json/orders', async (request, reply) => {
    const apiKey = await authenticate(request, reply);
    if (!apiKey) return reply;
    const input = readCreateOrder(request.body, apiKey, new Date());
    if ('code' in input) return apiError(reply, 400, input.code, input.info);
    const order = await insertOrder(ctx.db, input.order);
    if (!order) return apiError(reply, 400, 1006, 'Invalid transaction ID');
    const locale = typeof order.customer.locale === 'string' ? order.customer.locale : 'en_US';
    return apiSuccess(reply, {
      order_id: order.order_id,
      payment_url: `${ctx.baseUrl}/connect/${order.session_id}/?lang=${locale}`,
      session_id: order.session_id,
    });
  });

  app.get<OrderParams>('/v1/json/orders/:order_id', async (request, reply) => {
    const apiKey = await authenticate(request, reply);
    if (!apiKey) return reply;
    const order = await orderOf(apiKey, request, reply);
    return order ? apiSuccess(reply, orderView(order)) : reply;
  });

  // "Cancel order": status `cancelled` ends an unpaid order (and its link) as void/cancelled.
  app.patch<OrderParams>('/v1/json/orders/:order_id', async (request, reply) => {
    const apiKey = await authenticate(request, reply);
    if (!apiKey) return reply;
    const order = await orderOf(apiKey, request, reply);
    if (!order) return reply;
    const body = isRecord(request.body) ? request.body : {};
    if (body.status !== 'cancelled') return apiError(reply, 400, 1016, 'Missing data: this emulator updates an order only with status "cancelled"');
    const changed = await changeOrder(
      ctx.db,
      Number(order.id),
      PAYABLE_STATUSES,
      () => ({ status: 'void', financial_status: 'cancelled', pending_card: null }),
      {},
    );
    if (!changed) return apiError(reply, 400, 1000, `The order cannot be cancelled: its status is ${order.status}`);
    ctx.notifier.kick();
    return apiSuccess(reply, {});
  });

  app.post<OrderParams>('/v1/json/orders/:order_id/refunds', async (request, reply) => {
    const apiKey = await authenticate(request, reply);
    if (!apiKey) return reply;
    const order = await orderOf(apiKey, request, reply);
    if (!order) return reply;
    const body = isRecord(request.body) ? request.body : undefined;
    if (!body) return apiError(reply, 400, 1016, 'Missing data: the body must be a JSON object');
    if (body.currency !== order.currency) return apiError(reply, 400, 1002, 'Invalid currency: a refund is made in the currency of the order');
    const amount = body.amount ?? 0;
    if (typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount < 0) return apiError(reply, 400, 1001, 'Invalid amount');
    const description = typeof body.description === 'string' ? body.description.slice(0, 200) : '';
    const refundOrderId = body.refund_order_id ?? null;
    if (refundOrderId !== null && (typeof refundOrderId !== 'string' || refundOrderId === '' || refundOrderId.length > 50))
      return apiError(reply, 400, 1006, 'Invalid transaction ID: refund_order_id');
    if (refundOrderId !== null && (await findOrder(ctx.db, apiKey, refundOrderId)))
      return apiError(reply, 400, 1006, 'Invalid transaction ID: refund_order_id is already in use');
    const result = await ctx.db.transaction().execute(async (trx): Promise<{ error: string } | { transactionId: number; refundId: number }> => {
      const current = await trx.selectFrom('emu_multisafepay_orders').selectAll().where('id', '=', order.id).forUpdate().executeTakeFirstOrThrow();
      const total = Number(current.amount);
      const before = Number(current.amount_refunded);
      // "A full refund will be processed if the amount parameter is omitted, left empty, or set to 0."
      const refund = amount === 0 ? total - before : amount;
      if (!REFUNDABLE.includes(current.status) || refund <= 0) return { error: `Cannot refund transaction: the order is ${current.status}` };
      if (before + refund > total) return { error: 'Cannot refund transaction: the refunds would exceed the order amount' };
      const taken =
        refundOrderId === null
          ? undefined
          : await trx
              .selectFrom('emu_multisafepay_refunds')
              .select('id')
              .where('api_key', '=', apiKey)
              .where('refund_order_id', '=', refundOrderId)
              .executeTakeFirst();
      if (taken) return { error: 'duplicate' };
      const { rows } = await sql<{ id: string }>`SELECT nextval('emu_multisafepay_transaction_seq') AS id`.execute(trx);
      const transactionId = Number(rows[0]!.id);
      const inserted = await trx
        .insertInto('emu_multisafepay_refunds')
        .values({
          order_pk: Number(current.id),
          api_key: apiKey,
          refund_order_id: refundOrderId,
          transaction_id: transactionId,
          amount: refund,
          currency: current.currency,
          description,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      const refunded = before + refund;
      const row = await trx
        .updateTable('emu_multisafepay_orders')
        .set({ amount_refunded: refunded, status: refunded === total ? 'refunded' : 'partial_refunded', modified_at: new Date() })
        .where('id', '=', current.id)
        .returningAll()
        .executeTakeFirstOrThrow();
      await queueNotification(trx, row, undefined);
      return { transactionId, refundId: Number(inserted.id) };
    });
    if ('error' in result) {
      return result.error === 'duplicate'
        ? apiError(reply, 400, 1006, 'Invalid transaction ID: refund_order_id is already in use')
        : apiError(reply, 400, 1034, result.error);
    }
    ctx.notifier.kick();
    return apiSuccess(reply, { transaction_id: result.transactionId, refund_id: result.refundId });
  });
}
