import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { authenticate, type Account } from './accounts.js';
import { amountProblemMessage, minorFromJson } from './amounts.js';
import { THREE_DS_FAILED_CODE } from './card-outcomes.js';
import { authorizeUrlOf, paymentUrlOf, type EmulatorV2Context } from './context.js';
import { invalid, required, sendApiError, sendValidationError, type FieldError } from './errors.js';
import { findOrder, findOrderByOrderId, readNtpId, type Order } from './orders.js';
import { creditOrder, settleOrder } from './payments.js';
import { readJsonBody } from './request-body.js';
import { isObject } from './start-request.js';
import { customerAction, paymentView } from './views.js';

/**
 * The API calls on an existing order (protocols/netopia.md §2.3): `/payment/card/verify-auth` (finish 3-D
 * Secure for a merchant that collected the card), `/operation/status` and `/operation/credit`. Each is
 * authenticated with the API key and sees only the orders of that key's point of sale. An order that does
 * not exist is HTTP 404 with code 48; a refused operation is HTTP 400 with its code and the order's state.
 */

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

export function registerOperationRoutes(app: FastifyInstance, ctx: EmulatorV2Context): void {
  const view = (order: Order) => paymentView(order, paymentUrlOf(ctx, order));
  /** Every operation starts alike: the API key checked, then the body read as a JSON object (or `{}`). */
  const operationCall = async (request: FastifyRequest, reply: FastifyReply): Promise<{ account: Account; input: Record<string, unknown> } | undefined> => {
    const account = await authenticate(ctx, request, reply);
    if (!account) return undefined;
    const body = readJsonBody(request);
    if (!body.ok) return void sendValidationError(reply, body.errors);
    return { account, input: isObject(body.value) ? body.value : {} };
  };
  const noSuchOrder = (reply: FastifyReply, field = 'ntpID') =>
    sendApiError(reply, 404, '48', { message: 'Order not found', details: [invalid(field, `there is no order with this ${field} for this point of sale`)] });

  app.post('/payment/card/verify-auth', async (request, reply) => {
    const call = await operationCall(request, reply);
    if (!call) return reply;
    const { account, input } = call;
    const errors: FieldError[] = [];
    const ntpId = readNtpId(input.ntpID);
    if (ntpId === undefined) errors.push(input.ntpID === undefined ? required('ntpID') : invalid('ntpID', 'ntpID must be the ntpID the start answer gave'));
    if (typeof input.authenticationToken !== 'string' || input.authenticationToken === '') errors.push(required('authenticationToken'));
    const paRes = isObject(input.formData) ? input.formData.paRes : undefined;
    if (typeof paRes !== 'string' || paRes === '') errors.push(required('formData.paRes'));
    if (errors.length > 0) return sendValidationError(reply, errors);
    const order = await findOrder(ctx.db, account.signature, ntpId!);
    if (!order) return noSuchOrder(reply);
    // Finished already (e.g. a retried verify-auth): "Order closed" with the order's state, as in NETOPIA's sample.
    if (order.status !== 15 || order.mode !== 'direct' || !order.authentication_token || !order.pa_res_ok || !order.pa_res_fail) {
      return sendApiError(reply, 400, '56', { payment: view(order) });
    }
    if (!sameSecret(input.authenticationToken as string, order.authentication_token)) {
      return sendValidationError(reply, [invalid('authenticationToken', 'authenticationToken is not the one issued for this ntpID')]);
    }
    const authorized = sameSecret(paRes as string, order.pa_res_ok);
    if (!authorized && !sameSecret(paRes as string, order.pa_res_fail)) {
      return sendValidationError(reply, [invalid('formData.paRes', 'formData.paRes is not an answer of the authentication page for this payment')]);
    }
    const card = { panMasked: order.pan_masked!, bin: order.bin!, expMonth: order.exp_month!, expYear: order.exp_year! };
    const settled = await settleOrder(
      ctx.db,
      order.ntp_id,
      [15],
      card,
      authorized ? { approved: true } : { approved: false, code: THREE_DS_FAILED_CODE },
      ctx.sender.leaseMs,
    );
    if (!settled) {
      const now = await findOrder(ctx.db, account.signature, order.ntp_id);
      return sendApiError(reply, 400, '56', { payment: view(now ?? order) });
    }
    ctx.sender.deliverSoon(settled.deliveryId);
    return { error: { code: settled.order.error_code, message: settled.order.error_message }, payment: view(settled.order) };
  });

  app.post('/operation/status', async (request, reply) => {
    const call = await operationCall(request, reply);
    if (!call) return reply;
    const { account, input } = call;
    const errors: FieldError[] = [];
    if (typeof input.posID !== 'string' || input.posID === '') errors.push(required('posID'));
    else if (input.posID !== account.signature) errors.push(invalid('posID', 'posID is not a point of sale of this API key'));
    const ntpGiven = input.ntpID !== undefined && input.ntpID !== null && input.ntpID !== '';
    const orderGiven = typeof input.orderID === 'string' && input.orderID !== '';
    const ntpId = ntpGiven ? readNtpId(input.ntpID) : undefined;
    if (ntpGiven && ntpId === undefined) errors.push(invalid('ntpID', 'ntpID must be digits'));
    if (!ntpGiven && !orderGiven) errors.push(required('ntpID', 'ntpID or orderID is required'));
    if (errors.length > 0) return sendValidationError(reply, errors);
    const order =
      ntpId !== undefined ? await findOrder(ctx.db, account.signature, ntpId) : await findOrderByOrderId(ctx.db, account.signature, input.orderID as string);
    if (!order) return noSuchOrder(reply, ntpGiven ? 'ntpID' : 'orderID');
    if (orderGiven && order.order_id !== input.orderID) return noSuchOrder(reply, 'orderID');
    return {
      customerAction: customerAction(order, authorizeUrlOf(ctx)),
      error: { code: order.error_code, message: order.error_message },
      order: {
        orderID: order.order_id,
        ntpID: String(order.ntp_id),
        posSignature: order.signature,
        description: order.description,
        amount: view(order).amount,
        currency: order.currency,
        data: order.order_data,
      },
      payment: view(order),
    };
  });

  app.post('/operation/credit', async (request, reply) => {
    const call = await operationCall(request, reply);
    if (!call) return reply;
    const { account, input } = call;
    const ntpId = readNtpId(input.ntpID);
    if (ntpId === undefined) {
      return sendValidationError(reply, [input.ntpID === undefined ? required('ntpID') : invalid('ntpID', 'ntpID must be digits')]);
    }
    const order = await findOrder(ctx.db, account.signature, ntpId);
    if (!order) return noSuchOrder(reply);
    if (input.amount === undefined || input.amount === null) return sendValidationError(reply, [required('amount')]);
    const amount = minorFromJson(input.amount, order.currency);
    if (typeof amount !== 'number') return sendValidationError(reply, [invalid('amount', amountProblemMessage(amount, 'amount', order.currency))]);
    const result = await creditOrder(ctx.db, account.signature, ntpId, amount, ctx.sender.leaseMs);
    if (!result) return noSuchOrder(reply);
    if (!result.ok) return sendApiError(reply, 400, result.code, { payment: view(result.order) });
    ctx.sender.deliverSoon(result.deliveryId);
    return { error: { code: '00', message: 'Approved' }, payment: view(result.order) };
  });
}
