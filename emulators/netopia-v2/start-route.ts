import type { FastifyInstance, FastifyReply } from 'fastify';
import { authenticate } from './accounts.js';
import { decideCard } from './card-outcomes.js';
import { authorizeUrlOf, paymentUrlOf, type EmulatorV2Context } from './context.js';
import { invalid, messageFor, sendApiError, sendValidationError } from './errors.js';
import { findOrderByToken, insertOrGetOrder, type Order } from './orders.js';
import { beginThreeDs, cardFacts, settleOrder, type CardFacts, type Settlement } from './payments.js';
import { readJsonBody } from './request-body.js';
import { readStartRequest, type StartRequest } from './start-request.js';
import { customerAction, paymentView } from './views.js';

/**
 * `POST /payment/card/start` (protocols/netopia.md §2.4–2.5).
 *
 * - No card data: the order waits on the hosted page — `"101"`, status 1, `payment.paymentURL`.
 * - Card data: the sandbox issuer answers at once — `"00"`/status 3 with `payment.data` and a token, a 3-D
 *   Secure card `"100"`/status 15 with `customerAction`, a decline status 12 with its code. Outcomes are HTTP
 *   200: the request was fine, the card was not. The IPN goes out right after the answer.
 * - A token from an earlier approval pays like the card it stands for (merchant-initiated: no 3-D Secure).
 *
 * An orderID is unique per POS. Starting it again with another amount or currency is `"99"` ("another order
 * with a different price"). With the same amount, an order still waiting for its card answers again (the
 * same paymentURL, so a client retrying a timed-out start lands on the same order; card data is charged on
 * it), and a finished one is `"56"` "Order closed" with the order's state, as in NETOPIA's sample. Refusals
 * (bad fields, 99, 56) are HTTP 400 with NETOPIA's error body.
 */

export function registerStartRoute(app: FastifyInstance, ctx: EmulatorV2Context): void {
  const answer = (reply: FastifyReply, order: Order) =>
    reply.code(200).send({
      customerAction: customerAction(order, authorizeUrlOf(ctx)),
      error: { code: order.error_code, message: order.error_message },
      payment: paymentView(order, paymentUrlOf(ctx, order)),
    });
  const closed = (reply: FastifyReply, order: Order) => sendApiError(reply, 400, '56', { payment: paymentView(order, paymentUrlOf(ctx, order)) });

  /** Runs the card (or the token's card) on an order waiting for one. */
  const charge = async (reply: FastifyReply, order: Order, instrument: Exclude<StartRequest['instrument'], { kind: 'hosted' }>, tokenCard?: CardFacts) => {
    let facts: CardFacts;
    let settlement: Settlement;
    if (instrument.kind === 'card') {
      facts = cardFacts(instrument.card);
      const decision = decideCard(instrument.card, new Date());
      if (decision.kind === 'three_ds') {
        const parked = await beginThreeDs(ctx.db, order.ntp_id, facts, 'direct');
        return parked ? answer(reply, parked) : closed(reply, order);
      }
      settlement = decision.kind === 'approved' ? { approved: true } : { approved: false, code: decision.code };
    } else {
      facts = tokenCard!;
      settlement = { approved: true };
    }
    const settled = await settleOrder(ctx.db, order.ntp_id, [1], facts, settlement, ctx.sender.leaseMs);
    if (!settled) return closed(reply, order);
    ctx.sender.deliverSoon(settled.deliveryId);
    return answer(reply, settled.order);
  };

  app.post('/payment/card/start', async (request, reply) => {
    const account = await authenticate(ctx, request, reply);
    if (!account) return reply;
    const body = readJsonBody(request);
    if (!body.ok) return sendValidationError(reply, body.errors);
    const start = readStartRequest(body.value);
    if (Array.isArray(start)) return sendValidationError(reply, start);
    if (start.posSignature !== account.signature) {
      return sendValidationError(reply, [invalid('order.posSignature', 'order.posSignature is not a point of sale of this API key')]);
    }
    let tokenCard: CardFacts | undefined;
    if (start.instrument.kind === 'token') {
      const source = await findOrderByToken(ctx.db, account.signature, start.instrument.token);
      if (!source?.pan_masked || !source.bin || source.exp_month === null || source.exp_year === null) {
        return sendValidationError(reply, [invalid('payment.instrument.token', 'payment.instrument.token is not a token of this point of sale')]);
      }
      tokenCard = { panMasked: source.pan_masked, bin: source.bin, expMonth: source.exp_month, expYear: source.exp_year };
    }

    const { order, created } = await insertOrGetOrder(ctx.db, {
      signature: account.signature,
      order_id: start.orderId,
      mode: start.instrument.kind === 'hosted' ? 'hosted' : 'direct',
      description: start.description,
      currency: start.currency,
      amount_minor: start.amountMinor,
      order_data: start.data,
      billing: start.billing,
      notify_url: start.notifyUrl,
      redirect_url: start.redirectUrl,
      cancel_url: start.cancelUrl,
      language: start.language,
    });
    if (!created) {
      if (order.amount_minor !== start.amountMinor || order.currency !== start.currency) {
        return sendApiError(reply, 400, '99', { payment: paymentView(order, paymentUrlOf(ctx, order)) });
      }
      const waitsOnPage = order.status === 1 || (order.status === 15 && order.mode === 'hosted');
      if (start.instrument.kind === 'hosted' && waitsOnPage) {
        return reply.code(200).send({
          customerAction: {},
          error: { code: '101', message: messageFor('101') },
          payment: { ...paymentView(order, paymentUrlOf(ctx, order)), paymentURL: paymentUrlOf(ctx, order) },
        });
      }
      if (start.instrument.kind === 'hosted' || order.status !== 1) return closed(reply, order);
    }
    if (start.instrument.kind === 'hosted') return answer(reply, order);
    return charge(reply, order, start.instrument, tokenCard);
  });
}
