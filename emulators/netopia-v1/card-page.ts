import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { findAccount } from './accounts.js';
import { cardOutcome, maskPan, THREE_DS_FAILED_CODE, validateCardForm } from './card-outcomes.js';
import type { EmulatorContext } from './context.js';
import { findOrderByParam, isPayable, payerOrderReference, returnUrlFor, startThreeDs, type Order } from './orders.js';
import { continueUrl, hasPayerPageToken, payerPageUrl } from './payment-endpoint.js';
import { cardPage, orderErrorPage, threeDsPage, type CardPageInput } from './payment-pages.js';
import { paymentInstrumentId, settleCard, type CardResult } from './payments.js';
import { problemPage, sendHtml } from './replies.js';

/**
 * The hosted card page (`/card/:purchase`) and the 3-D Secure step (`/3ds/:purchase`). The full PAN and the
 * CVV are used for the issuer decision and dropped; only the masked PAN is stored. Each is reached only with
 * the order's link token (`?t=`, see `payerPageToken`); without it an order is not found.
 *
 * "Cancel payment" is the customer abandoning the page: NETOPIA cancels only preauthorised orders, so
 * nothing is sent and the order stays open (the merchant may send the customer back); the customer just
 * returns to the merchant's return URL.
 */

type Params = { Params: { purchase: string }; Querystring: { t?: string } };
type Form = Record<string, string | undefined>;

function formOf(body: unknown): Form {
  return typeof body === 'object' && body !== null ? (body as Form) : {};
}

export function registerCardPage(app: FastifyInstance, ctx: EmulatorContext): void {
  const notFound = (reply: FastifyReply) => problemPage(reply, { title: 'Not found', detail: 'there is no such payment' }, 404);
  const finished = (reply: FastifyReply, order: Order) =>
    sendHtml(reply, 400, orderErrorPage(order.lang, 'duplicateTitle', 'processed', { order: payerOrderReference(order) }, returnUrlFor(order)));
  /** The order of a payer page, when the request carries the order's link token. */
  const payerOrder = async (request: FastifyRequest<Params>): Promise<Order | undefined> => {
    const order = await findOrderByParam(ctx.db, request.params.purchase);
    return order && hasPayerPageToken(ctx, String(order.purchase), request.query?.t) ? order : undefined;
  };
  const merchantName = async (order: Order) => (await findAccount(ctx.db, order.signature))?.name ?? order.signature;

  /** Sends the result to the merchant, then the customer back (NETOPIA's first IPN is synchronous). */
  const settle = async (reply: FastifyReply, order: Order, card: { panMasked: string; instrumentId: string }, result: CardResult) => {
    const settled = await settleCard(ctx.db, order.purchase, card, result, ctx.sender.leaseMs);
    if (!settled) return finished(reply, order);
    await ctx.sender.deliverNow(settled.deliveryId);
    return reply.redirect(returnUrlFor(settled.order), 303);
  };

  const renderCard = async (reply: FastifyReply, order: Order, status: number, extra: Pick<CardPageInput, 'errors' | 'values'> = {}) =>
    sendHtml(
      reply,
      status,
      cardPage({
        order,
        merchant: await merchantName(order),
        formAction: payerPageUrl(ctx, order, 'card'),
        cancelAction: payerPageUrl(ctx, order, 'card/cancel'),
        ...extra,
      }),
    );

  app.get<Params>('/card/:purchase', async (request, reply) => {
    const order = await payerOrder(request);
    if (!order) return notFound(reply);
    if (!isPayable(order)) return finished(reply, order);
    if (order.status === 'three_ds') return reply.redirect(continueUrl(ctx, order), 303);
    return renderCard(reply, order, 200);
  });

  app.post<Params>('/card/:purchase', async (request, reply) => {
    const order = await payerOrder(request);
    if (!order) return notFound(reply);
    if (!isPayable(order)) return finished(reply, order);
    if (order.status === 'three_ds') return reply.redirect(continueUrl(ctx, order), 303);
    const form = formOf(request.body);
    const checked = validateCardForm(form, new Date());
    if (!checked.ok) {
      return renderCard(reply, order, 400, { errors: checked.errors, values: { card_number: form.card_number, expiry: form.expiry } });
    }
    const card = { panMasked: maskPan(checked.card.pan), instrumentId: paymentInstrumentId(checked.card.pan) };
    const outcome = cardOutcome(checked.card.pan, checked.card.cvv);
    if (outcome.kind === 'three_ds') {
      if (!(await startThreeDs(ctx.db, order.purchase, card))) return finished(reply, order);
      return reply.redirect(payerPageUrl(ctx, order, '3ds'), 303);
    }
    return settle(reply, order, card, outcome.kind === 'approved' ? { approved: true } : { approved: false, code: outcome.code });
  });

  app.post<Params>('/card/:purchase/cancel', async (request, reply) => {
    const order = await payerOrder(request);
    if (!order) return notFound(reply);
    if (!isPayable(order)) return finished(reply, order);
    return reply.redirect(returnUrlFor(order), 303);
  });

  app.get<Params>('/3ds/:purchase', async (request, reply) => {
    const order = await payerOrder(request);
    if (!order) return notFound(reply);
    if (!isPayable(order)) return finished(reply, order);
    if (order.status !== 'three_ds') return reply.redirect(continueUrl(ctx, order), 303);
    return sendHtml(reply, 200, threeDsPage({ order, merchant: await merchantName(order), formAction: payerPageUrl(ctx, order, '3ds') }));
  });

  app.post<Params>('/3ds/:purchase', async (request, reply) => {
    const order = await payerOrder(request);
    if (!order) return notFound(reply);
    if (!isPayable(order)) return finished(reply, order);
    if (order.status !== 'three_ds') return reply.redirect(continueUrl(ctx, order), 303);
    const result = formOf(request.body).result;
    if (result !== 'authorize' && result !== 'fail') {
      return sendHtml(reply, 400, orderErrorPage(order.lang, 'invalidTitle', 'chooseOutcome', {}, `${ctx.baseUrl}/3ds/${order.purchase}`));
    }
    // startThreeDs stored both; a three_ds order always has them.
    const card = { panMasked: order.pan_masked ?? '', instrumentId: order.payment_instrument_id ?? '' };
    return settle(reply, order, card, result === 'authorize' ? { approved: true } : { approved: false, code: THREE_DS_FAILED_CODE });
  });
}
