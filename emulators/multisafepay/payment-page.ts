import type { FastifyInstance, FastifyReply } from 'fastify';
import { sql } from 'kysely';
import { findAccount } from './accounts.js';
import { issuerAnswer, THREE_DS_FAILED, validateCardForm, type CardInput, type IssuerAnswer } from './cards.js';
import type { EmulatorContext } from './context.js';
import { messagePage, sendHtml } from './html.js';
import { payerOrderReference, type OrderRow } from './order-view.js';
import { changeOrder, findBySession, isPayable, MAX_TRIES, PAYABLE_STATUSES } from './orders.js';
import { offeredBrands, pageLanguage, paymentPage, threeDsPage, type PaymentPageInput } from './pages.js';
import { chooseLanguage, fill } from '../../src/html/language.js';
import { MSP_LANGUAGES, MSP_TEXT } from './page-text.js';

/**
 * The hosted payment page of an order (`/connect/<session_id>/`, as testpayv2.multisafepay.com's), the 3-D
 * Secure step, the customer's Cancel and the tester's "Let the link expire". Each payment try is a new
 * transaction of the same order (a link takes up to 20). The full PAN and the CVV are used for the issuer's
 * answer and dropped; the brand, the last four digits and the expiry are kept, as MultiSafepay reports them.
 *
 * The first notification of a result is sent before the browser leaves (so the merchant usually knows
 * before the customer is back); the worker retries it if the merchant did not say OK.
 */

type Params = { Params: { session: string } };
type Form = Record<string, string | undefined>;

const PAID = ['completed', 'uncleared', 'refunded', 'partial_refunded', 'shipped'];

function formOf(body: unknown): Form {
  return typeof body === 'object' && body !== null ? (body as Form) : {};
}

/** The merchant's page with `transactionid=<order_id>` appended, as MultiSafepay redirects. */
export function withTransactionId(url: string, orderId: string): string {
  const hashAt = url.indexOf('#');
  const base = hashAt === -1 ? url : url.slice(0, hashAt);
  const fragment = hashAt === -1 ? '' : url.slice(hashAt);
  const separator = !base.includes('?') ? '?' : base.endsWith('?') || base.endsWith('&') ? '' : '&';
  return `${base}${separator}transactionid=${encodeURIComponent(orderId)}${fragment}`;
}

function cardFields(card: CardInput) {
  return { payment_type: card.brand, last4: card.pan.slice(-4), card_expiry_date: card.expiry, account_holder_name: card.holder };
}

/** The order's columns after the issuer's answer. */
function answered(answer: IssuerAnswer, reviewDelayMs: number): Record<string, unknown> {
  switch (answer.kind) {
    case 'completed':
      return { status: 'completed', financial_status: 'completed', completed_at: new Date(), reason: 'SUCCESS', reason_code: null, response_code: '00' };
    case 'declined':
      return {
        status: 'declined',
        financial_status: 'declined',
        reason: answer.reason,
        reason_code: answer.reasonCode || null,
        response_code: answer.responseCode,
      };
    case 'uncleared':
      return {
        status: 'uncleared',
        financial_status: 'uncleared',
        reason: 'Pending manual review',
        reason_code: null,
        response_code: '00',
        resolve_at: new Date(Date.now() + reviewDelayMs),
        resolve_to: answer.then,
      };
  }
}

/** A new try is a new transaction: the first one keeps the order's initial PSP id. */
function newTry(row: OrderRow): Record<string, unknown> {
  return { tries: row.tries + 1, ...(row.tries > 0 ? { transaction_id: sql`nextval('emu_multisafepay_transaction_seq')` } : {}) };
}

export function registerPaymentPage(app: FastifyInstance, ctx: EmulatorContext): void {
  const pageUrl = (order: OrderRow, action = '') => `${ctx.baseUrl}/connect/${order.session_id}/${action}`;
  const merchantName = async (order: OrderRow) => (await findAccount(ctx.db, order.api_key))?.name ?? 'Test website';
  /** The page's language (the order's locale, else the browser's) and its words. */
  const wordsFor = (reply: FastifyReply, order?: OrderRow) => {
    const accept = reply.request.headers['accept-language'];
    const lang = order ? pageLanguage(order, accept) : chooseLanguage(MSP_LANGUAGES, [], accept);
    return { lang, t: MSP_TEXT[lang] };
  };
  const notFound = (reply: FastifyReply) => {
    const { lang, t } = wordsFor(reply);
    return messagePage(reply, 404, { title: t.notFoundTitle, detail: t.notFound, lang });
  };

  const renderForm = async (reply: FastifyReply, order: OrderRow, status: number, extra: Pick<PaymentPageInput, 'errors' | 'values' | 'declined'> = {}) =>
    sendHtml(
      reply,
      status,
      paymentPage({
        order,
        lang: wordsFor(reply, order).lang,
        merchant: await merchantName(order),
        brands: offeredBrands(order.gateway),
        actions: { pay: pageUrl(order, 'pay'), cancel: pageUrl(order, 'cancel'), expire: pageUrl(order, 'expire') },
        declined: order.status === 'declined' ? order.reason : null,
        ...extra,
      }),
    );

  /** Sends the first notification of a change, then the page for the new state. */
  const afterChange = async (reply: FastifyReply, changed: { row: OrderRow; notificationId?: number }) => {
    if (changed.notificationId !== undefined) await ctx.notifier.deliverNow(changed.notificationId);
    const row = changed.row;
    const { lang, t } = wordsFor(reply, row);
    if (row.status === 'declined') return renderForm(reply, row, 200);
    if (row.status === 'expired')
      return messagePage(reply, 200, {
        title: t.expiredTitle,
        detail: fill(t.noLongerPayable, { order: payerOrderReference(row) }),
        backUrl: row.cancel_url && withTransactionId(row.cancel_url, row.order_id),
        lang,
      });
    if (row.redirect_url) return reply.redirect(withTransactionId(row.redirect_url, row.order_id), 303);
    return messagePage(reply, 200, {
      title: t.thanksTitle,
      detail: fill(t.orderStatus, { order: payerOrderReference(row), status: row.status }),
      role: 'status',
      lang,
    });
  };

  /** The page for an order that no longer takes a payment (lazily expiring a link whose time ran out). */
  const closed = async (reply: FastifyReply, order: OrderRow): Promise<FastifyReply | undefined> => {
    if ((PAYABLE_STATUSES as readonly string[]).includes(order.status) && new Date(order.expires_at) <= new Date()) {
      const changed = await changeOrder(
        ctx.db,
        Number(order.id),
        PAYABLE_STATUSES,
        () => ({ status: 'expired', financial_status: 'expired', pending_card: null }),
        { leaseMs: ctx.notifier.leaseMs },
      );
      if (changed?.notificationId !== undefined) await ctx.notifier.deliverNow(changed.notificationId);
      order = changed?.row ?? order;
    }
    if (isPayable(order)) return undefined;
    const { lang, t } = wordsFor(reply, order);
    const back = order.cancel_url && withTransactionId(order.cancel_url, order.order_id);
    const gone = fill(t.noLongerPayable, { order: payerOrderReference(order) });
    const state = fill(t.orderStatus, { order: payerOrderReference(order), status: order.status });
    if (PAID.includes(order.status)) {
      return messagePage(reply, 200, {
        title: t.paidTitle,
        detail: state,
        backUrl: order.redirect_url && withTransactionId(order.redirect_url, order.order_id),
        role: 'status',
        lang,
      });
    }
    if (order.status === 'expired') return messagePage(reply, 410, { title: t.expiredTitle, detail: gone, backUrl: back, lang });
    if (order.status === 'void') return messagePage(reply, 410, { title: t.voidTitle, detail: gone, backUrl: back, lang });
    if (order.tries >= MAX_TRIES) return messagePage(reply, 410, { title: t.disabledTitle, detail: fill(t.disabled, { max: MAX_TRIES }), backUrl: back, lang });
    return messagePage(reply, 410, { title: t.closedTitle, detail: state, backUrl: back, lang });
  };

  const load = async (session: string, reply: FastifyReply): Promise<OrderRow | undefined> => {
    const order = await findBySession(ctx.db, session);
    if (!order) {
      notFound(reply);
      return undefined;
    }
    const page = await closed(reply, order);
    return page ? undefined : order;
  };

  const showPage = async (request: { params: { session: string } }, reply: FastifyReply) => {
    const order = await load(request.params.session, reply);
    if (!order) return reply;
    if (order.pending_card) return reply.redirect(pageUrl(order, '3ds'), 303);
    return renderForm(reply, order, 200);
  };
  app.get<Params>('/connect/:session', showPage);
  app.get<Params>('/connect/:session/', showPage);

  app.post<Params>('/connect/:session/pay', async (request, reply) => {
    const order = await load(request.params.session, reply);
    if (!order) return reply;
    if (order.pending_card) return reply.redirect(pageUrl(order, '3ds'), 303);
    const form = formOf(request.body);
    const checked = validateCardForm(form, offeredBrands(order.gateway), new Date());
    if (!checked.ok) {
      return renderForm(reply, order, 400, {
        errors: checked.errors,
        declined: null,
        values: { brand: form.brand, card_number: form.card_number, expiry: form.expiry, holder: form.holder },
      });
    }
    const { threeDs, answer } = issuerAnswer(checked.card.pan);
    if (threeDs) {
      const parked = await changeOrder(
        ctx.db,
        Number(order.id),
        PAYABLE_STATUSES,
        (row) => (row.pending_card ? undefined : { ...newTry(row), pending_card: JSON.stringify({ ...cardFields(checked.card), answer }) }),
        false,
      );
      return parked ? reply.redirect(pageUrl(order, '3ds'), 303) : showPage(request, reply);
    }
    const changed = await changeOrder(
      ctx.db,
      Number(order.id),
      PAYABLE_STATUSES,
      (row) => (row.pending_card ? undefined : { ...newTry(row), ...cardFields(checked.card), ...answered(answer, ctx.reviewDelayMs) }),
      { leaseMs: ctx.notifier.leaseMs },
    );
    return changed ? afterChange(reply, changed) : showPage(request, reply);
  });

  app.get<Params>('/connect/:session/3ds', async (request, reply) => {
    const order = await load(request.params.session, reply);
    if (!order) return reply;
    const card = order.pending_card;
    if (!card) return reply.redirect(pageUrl(order), 303);
    return sendHtml(
      reply,
      200,
      threeDsPage({
        order,
        lang: wordsFor(reply, order).lang,
        merchant: await merchantName(order),
        action: pageUrl(order, '3ds'),
        brand: String(card.payment_type),
        last4: String(card.last4),
      }),
    );
  });

  app.post<Params>('/connect/:session/3ds', async (request, reply) => {
    const order = await load(request.params.session, reply);
    if (!order) return reply;
    if (!order.pending_card) return reply.redirect(pageUrl(order), 303);
    const result = formOf(request.body).authentication;
    if (result !== 'Y' && result !== 'N') {
      const { lang, t } = wordsFor(reply, order);
      return messagePage(reply, 400, { title: t.invalidTitle, detail: t.chooseAuthentication, backUrl: pageUrl(order, '3ds'), lang });
    }
    const changed = await changeOrder(
      ctx.db,
      Number(order.id),
      PAYABLE_STATUSES,
      (row) => {
        const card = row.pending_card;
        if (!card) return undefined;
        const { answer, ...fields } = card as Record<string, unknown> & { answer: IssuerAnswer };
        return { ...fields, pending_card: null, ...answered(result === 'Y' ? answer : THREE_DS_FAILED, ctx.reviewDelayMs) };
      },
      { leaseMs: ctx.notifier.leaseMs },
    );
    return changed ? afterChange(reply, changed) : showPage(request, reply);
  });

  // The customer gives up this try: the link stays active (only the merchant cancels a link), the browser goes
  // to the cancel URL.
  app.post<Params>('/connect/:session/cancel', async (request, reply) => {
    const order = await load(request.params.session, reply);
    if (!order) return reply;
    if (order.pending_card) await changeOrder(ctx.db, Number(order.id), PAYABLE_STATUSES, () => ({ pending_card: null }), false);
    if (order.cancel_url) return reply.redirect(withTransactionId(order.cancel_url, order.order_id), 303);
    const { lang, t } = wordsFor(reply, order);
    return messagePage(reply, 200, { title: t.cancelledTitle, detail: fill(t.cancelled, { order: payerOrderReference(order) }), role: 'status', lang });
  });

  // Tester tool: the link's lifetime ends now, as it would when seconds_active/days_active pass.
  app.post<Params>('/connect/:session/expire', async (request, reply) => {
    const order = await load(request.params.session, reply);
    if (!order) return reply;
    const changed = await changeOrder(
      ctx.db,
      Number(order.id),
      PAYABLE_STATUSES,
      () => ({ status: 'expired', financial_status: 'expired', pending_card: null, expires_at: new Date() }),
      { leaseMs: ctx.notifier.leaseMs },
    );
    return changed ? afterChange(reply, changed) : showPage(request, reply);
  });
}
