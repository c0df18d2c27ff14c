import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { findAccount } from './accounts.js';
import { bankById } from './banks.js';
import type { VoltEmulatorContext } from './context.js';
import { bankPage, checkoutPage, messagePage, pageLanguage } from './pages.js';
import { fill } from '../../src/html/language.js';
import { VOLT_TEXT } from './page-text.js';
import { broadStatus, findPayment, OPEN_STATUSES, transition, type PaymentRow } from './payments.js';
import type { PaymentStatus } from './schema.js';
import { sendHtml } from '../shared/page-layout.js';

/**
 * The hosted checkout at `checkoutUrl` (`/checkout/{id}?auth=…`): the payer chooses a bank, is taken to that
 * bank's page (`/bank/{id}`) and authorises, refuses, cancels or walks away. Each outcome is notified to the
 * merchant (first attempt before the payer leaves), then the browser goes to the merchant's success,
 * failure or cancel URL with Volt's `volt` parameter (base64 JSON of id, uniqueReference and status).
 */

type Params = { Params: { id: string }; Querystring: { auth?: string } };
type Form = Record<string, string | undefined>;

const DECISIONS: Readonly<Record<string, PaymentStatus>> = {
  authorise: 'COMPLETED',
  refuse: 'REFUSED_BY_BANK',
  cancel: 'CANCELLED_BY_USER',
  abandon: 'ABANDONED_BY_USER',
};

function formOf(body: unknown): Form {
  return typeof body === 'object' && body !== null ? (body as Form) : {};
}

function authorised(payment: PaymentRow | undefined, auth: string | undefined): payment is PaymentRow {
  if (!payment || typeof auth !== 'string') return false;
  const a = Buffer.from(payment.checkout_token);
  const b = Buffer.from(auth);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Where Volt sends the payer for a finished payment, with its `volt` parameter; undefined when nowhere. */
export function returnUrlFor(p: PaymentRow): string | undefined {
  const status = p.status;
  const target =
    status === 'COMPLETED'
      ? p.success_url
      : status === 'REFUSED_BY_BANK'
        ? p.failure_url
        : status === 'CANCELLED_BY_USER' || status === 'ABANDONED_BY_USER'
          ? (p.cancel_url ?? p.failure_url)
          : p.pending_url;
  if (!target) return undefined;
  const url = new URL(target);
  const volt = Buffer.from(JSON.stringify({ id: p.id, uniqueReference: p.unique_reference, status: broadStatus(status) }), 'utf8').toString('base64');
  url.searchParams.set('volt', volt);
  return url.toString();
}

export function registerCheckout(app: FastifyInstance, ctx: VoltEmulatorContext): void {
  /** The page's language (the browser's) and its words. */
  const wordsFor = (reply: FastifyReply) => {
    const lang = pageLanguage(reply.request.headers['accept-language']);
    return { lang, t: VOLT_TEXT[lang] };
  };
  const notFound = (reply: FastifyReply) => {
    const { lang, t } = wordsFor(reply);
    return sendHtml(reply, 404, messagePage({ lang, title: t.notFoundTitle, detail: t.notFound }));
  };
  const merchantName = async (p: PaymentRow) => (await findAccount(ctx.db, p.client_id))?.name ?? 'Merchant';
  const checkoutUrl = (p: PaymentRow) => `${ctx.baseUrl}/checkout/${p.id}?auth=${encodeURIComponent(p.checkout_token)}`;
  const bankUrl = (p: PaymentRow) => `${ctx.baseUrl}/bank/${p.id}?auth=${encodeURIComponent(p.checkout_token)}`;

  /** The end of the journey: the payer goes back to the merchant, or reads the result here. */
  const leave = (reply: FastifyReply, p: PaymentRow) => {
    const url = returnUrlFor(p);
    if (url) return reply.redirect(url, 303);
    const { lang, t } = wordsFor(reply);
    return sendHtml(reply, 200, messagePage({ lang, title: fill(t.finishedTitle, { status: p.status }), detail: t.closeWindow }));
  };
  const finished = (reply: FastifyReply, p: PaymentRow) => {
    const url = returnUrlFor(p);
    const { lang, t } = wordsFor(reply);
    return sendHtml(reply, 409, messagePage({ lang, title: t.processedTitle, detail: fill(t.processed, { status: p.status }), backUrl: url }));
  };

  /** Records the payer's decision, notifies the merchant, then sends the payer back. */
  const decide = async (reply: FastifyReply, p: PaymentRow, to: PaymentStatus) => {
    const done = await transition(ctx.db, p.id, to, ctx.notifier.leaseMs);
    if (!done) {
      const now = await findPayment(ctx.db, p.id);
      return finished(reply, now ?? p);
    }
    await ctx.notifier.deliverNow(done.notificationId);
    return leave(reply, done.payment);
  };

  app.get<Params>('/checkout/:id', async (request, reply) => {
    const payment = await findPayment(ctx.db, request.params.id);
    if (!authorised(payment, request.query.auth)) return notFound(reply);
    if (payment.status === 'BANK_REDIRECT') return reply.redirect(bankUrl(payment), 303);
    if (!OPEN_STATUSES.includes(payment.status)) return finished(reply, payment);
    return sendHtml(
      reply,
      200,
      checkoutPage({
        lang: wordsFor(reply).lang,
        payment,
        merchant: await merchantName(payment),
        action: `${ctx.baseUrl}/checkout/${payment.id}`,
        cancelAction: `${ctx.baseUrl}/checkout/${payment.id}/cancel`,
        auth: payment.checkout_token,
      }),
    );
  });

  app.post<Params>('/checkout/:id', async (request, reply) => {
    const form = formOf(request.body);
    const payment = await findPayment(ctx.db, request.params.id);
    if (!authorised(payment, form.auth)) return notFound(reply);
    if (payment.status === 'BANK_REDIRECT') return reply.redirect(bankUrl(payment), 303);
    if (payment.status !== 'NEW_PAYMENT') return finished(reply, payment);
    const bank = bankById(form.bank);
    if (!bank) {
      return sendHtml(
        reply,
        400,
        checkoutPage({
          lang: wordsFor(reply).lang,
          payment,
          merchant: await merchantName(payment),
          action: `${ctx.baseUrl}/checkout/${payment.id}`,
          cancelAction: `${ctx.baseUrl}/checkout/${payment.id}/cancel`,
          auth: payment.checkout_token,
          missingBank: true,
        }),
      );
    }
    const moved = await transition(ctx.db, payment.id, 'BANK_REDIRECT', ctx.notifier.leaseMs, bank.id);
    if (!moved) return reply.redirect(checkoutUrl(payment), 303);
    // Volt tells the merchant the payer went to the bank (PENDING / BANK_REDIRECT) without holding the payer.
    setImmediate(() => void ctx.notifier.deliverNow(moved.notificationId));
    return reply.redirect(bankUrl(moved.payment), 303);
  });

  app.post<Params>('/checkout/:id/cancel', async (request, reply) => {
    const payment = await findPayment(ctx.db, request.params.id);
    if (!authorised(payment, formOf(request.body).auth)) return notFound(reply);
    if (!OPEN_STATUSES.includes(payment.status)) return finished(reply, payment);
    return decide(reply, payment, 'CANCELLED_BY_USER');
  });

  app.get<Params>('/bank/:id', async (request, reply) => {
    const payment = await findPayment(ctx.db, request.params.id);
    if (!authorised(payment, request.query.auth)) return notFound(reply);
    if (payment.status === 'NEW_PAYMENT') return reply.redirect(checkoutUrl(payment), 303);
    if (payment.status !== 'BANK_REDIRECT') return finished(reply, payment);
    const bank = bankById(payment.bank_id)!;
    return sendHtml(
      reply,
      200,
      bankPage({
        lang: wordsFor(reply).lang,
        payment,
        merchant: await merchantName(payment),
        bank,
        action: `${ctx.baseUrl}/bank/${payment.id}`,
        auth: payment.checkout_token,
      }),
    );
  });

  app.post<Params>('/bank/:id', async (request, reply) => {
    const form = formOf(request.body);
    const payment = await findPayment(ctx.db, request.params.id);
    if (!authorised(payment, form.auth)) return notFound(reply);
    if (payment.status === 'NEW_PAYMENT') return reply.redirect(checkoutUrl(payment), 303);
    if (payment.status !== 'BANK_REDIRECT') return finished(reply, payment);
    const to = typeof form.decision === 'string' && Object.prototype.hasOwnProperty.call(DECISIONS, form.decision) ? DECISIONS[form.decision] : undefined;
    if (!to) {
      const { lang, t } = wordsFor(reply);
      return sendHtml(reply, 400, messagePage({ lang, title: t.chooseActionTitle, detail: t.chooseAction, backUrl: bankUrl(payment) }));
    }
    return decide(reply, payment, to);
  });
}
