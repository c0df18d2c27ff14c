import type { FastifyInstance, FastifyReply } from 'fastify';
import { errorPage, orderErrorPage } from '../netopia-v1/payment-pages.js';
import { cardNumberOf, isCardNumber } from '../shared/card-form.js';
import { sendHtml } from '../shared/page-layout.js';
import { decideCard, THREE_DS_FAILED_CODE, type CardData } from './card-outcomes.js';
import type { EmulatorV2Context } from './context.js';
import { findOrderByPageToken, type Order } from './orders.js';
import { authenticationPage, cardPage, type CardField } from './pages.js';
import { beginThreeDs, cardFacts, settleOrder, type CardFacts, type Settlement } from './payments.js';

/**
 * The hosted card page behind `payment.paymentURL` (`/ui/card/:token`) and its 3-D Secure step
 * (`/ui/3ds/:token`). The customer types the card; the issuer's answer settles the order, the IPN goes to
 * the notify URL (first attempt before the customer moves on, as NETOPIA does), then the browser is sent to
 * the order's redirectUrl, unchanged. A declined order is finished: paying again needs a new orderID.
 * "Cancel" is a plain link to the merchant (cancelUrl, else redirectUrl): the order stays open and nothing is
 * sent. The PAN and CVV are used for the issuer's decision and dropped.
 */

type Params = { Params: { token: string } };
type Form = Record<string, string | undefined>;

function formOf(body: unknown): Form {
  return typeof body === 'object' && body !== null ? (body as Form) : {};
}

/** The card form as the page checks it before asking the issuer; a past expiry is the issuer's call (19). */
export function readCardForm(form: Form): { ok: true; card: CardData } | { ok: false; errors: CardField[] } {
  const errors: CardField[] = [];
  const pan = cardNumberOf(form.card_number);
  if (!isCardNumber(pan)) errors.push('card_number');
  const expiry = /^(\d{1,2})\s*\/\s*(\d{2}|\d{4})$/.exec((form.expiry ?? '').trim());
  const month = expiry ? Number(expiry[1]) : 0;
  if (!expiry || month < 1 || month > 12) errors.push('expiry');
  const cvv = (form.cvv ?? '').trim();
  if (!/^\d{3,4}$/.test(cvv)) errors.push('cvv');
  if (errors.length > 0) return { ok: false, errors };
  const year = Number(expiry![2]);
  return { ok: true, card: { pan, expMonth: month, expYear: year < 100 ? 2000 + year : year, cvv } };
}

export function registerHostedRoutes(app: FastifyInstance, ctx: EmulatorV2Context): void {
  const cardUrl = (order: Order) => `${ctx.baseUrl}/ui/card/${order.page_token}`;
  const threeDsUrl = (order: Order) => `${ctx.baseUrl}/ui/3ds/${order.page_token}`;
  const merchantName = async (order: Order) =>
    (await ctx.db.selectFrom('emu_netopia_v2_accounts').select('name').where('signature', '=', order.signature).executeTakeFirst())?.name ?? order.signature;
  const notFound = (reply: FastifyReply) => sendHtml(reply, 404, errorPage({ title: 'Not found', detail: 'there is no such payment' }));
  const closed = (reply: FastifyReply, order: Order) =>
    sendHtml(reply, 400, orderErrorPage(order.language, 'processedTitle', 'processed', { order: order.order_id }, order.redirect_url));
  const waitsForCard = (order: Order) => order.status === 1;
  const waitsFor3ds = (order: Order) => order.status === 15 && order.mode === 'hosted';

  const settle = async (reply: FastifyReply, order: Order, from: 1 | 15, card: CardFacts, result: Settlement) => {
    const settled = await settleOrder(ctx.db, order.ntp_id, [from], card, result, ctx.sender.leaseMs);
    if (!settled) return closed(reply, order);
    await ctx.sender.deliverNow(settled.deliveryId);
    return reply.redirect(settled.order.redirect_url, 303);
  };

  const renderCard = async (
    reply: FastifyReply,
    order: Order,
    status: number,
    extra: { errors?: CardField[]; values?: { card_number?: string; expiry?: string } } = {},
  ) =>
    sendHtml(
      reply,
      status,
      cardPage({ order, merchant: await merchantName(order), formAction: cardUrl(order), cancelHref: order.cancel_url ?? order.redirect_url, ...extra }),
    );

  app.get<Params>('/ui/card/:token', async (request, reply) => {
    const order = await findOrderByPageToken(ctx.db, request.params.token);
    if (!order) return notFound(reply);
    if (waitsFor3ds(order)) return reply.redirect(threeDsUrl(order), 303);
    if (!waitsForCard(order)) return closed(reply, order);
    return renderCard(reply, order, 200);
  });

  app.post<Params>('/ui/card/:token', async (request, reply) => {
    const order = await findOrderByPageToken(ctx.db, request.params.token);
    if (!order) return notFound(reply);
    if (waitsFor3ds(order)) return reply.redirect(threeDsUrl(order), 303);
    if (!waitsForCard(order)) return closed(reply, order);
    const form = formOf(request.body);
    const checked = readCardForm(form);
    if (!checked.ok) return renderCard(reply, order, 400, { errors: checked.errors, values: { card_number: form.card_number, expiry: form.expiry } });
    const facts = cardFacts(checked.card);
    const decision = decideCard(checked.card, new Date());
    if (decision.kind === 'three_ds') {
      if (!(await beginThreeDs(ctx.db, order.ntp_id, facts, 'hosted'))) return closed(reply, order);
      return reply.redirect(threeDsUrl(order), 303);
    }
    return settle(reply, order, 1, facts, decision.kind === 'approved' ? { approved: true } : { approved: false, code: decision.code });
  });

  app.get<Params>('/ui/3ds/:token', async (request, reply) => {
    const order = await findOrderByPageToken(ctx.db, request.params.token);
    if (!order) return notFound(reply);
    if (waitsForCard(order)) return reply.redirect(cardUrl(order), 303);
    if (!waitsFor3ds(order)) return closed(reply, order);
    const action = threeDsUrl(order);
    return sendHtml(
      reply,
      200,
      authenticationPage({
        order,
        merchant: await merchantName(order),
        forms: { authorize: { action, fields: { result: 'authorize' } }, fail: { action, fields: { result: 'fail' } } },
      }),
    );
  });

  app.post<Params>('/ui/3ds/:token', async (request, reply) => {
    const order = await findOrderByPageToken(ctx.db, request.params.token);
    if (!order) return notFound(reply);
    if (waitsForCard(order)) return reply.redirect(cardUrl(order), 303);
    if (!waitsFor3ds(order)) return closed(reply, order);
    const result = formOf(request.body).result;
    if (result !== 'authorize' && result !== 'fail') {
      return sendHtml(reply, 400, orderErrorPage(order.language, 'invalidTitle', 'chooseOutcome', {}, threeDsUrl(order)));
    }
    // beginThreeDs stored the card's facts; a status 15 order always has them.
    const card = { panMasked: order.pan_masked ?? '', bin: order.bin ?? '', expMonth: order.exp_month ?? 0, expYear: order.exp_year ?? 0 };
    return settle(reply, order, 15, card, result === 'authorize' ? { approved: true } : { approved: false, code: THREE_DS_FAILED_CODE });
  });
}
