import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseDecimalString, toDecimalString } from '../../../../core/money.js';
import { PAYMENT_STATUSES } from '../../../../core/transitions.js';
import { ValidationError } from '../../../../core/validation.js';
import { html, Html } from '../../../../html/template.js';
import { ConflictError, NotFoundError, UnprocessableError, type HubContext } from '../../../../services/context.js';
import {
  cancelable,
  cancelMerchantPayment,
  paymentRefunds,
  redeliverPaymentDelivery,
  refundOptions,
  refundPayment,
  type RefundOptions,
} from '../../../../services/payment-actions.js';
import type { Payment } from '../../../../store/schema.js';
import { common } from '../../i18n.js';
import { messagePage, page } from '../../layout.js';
import { actionStrings } from './action-strings.js';
import { strings } from './strings.js';
import { mayChange, scopeOf } from '../../kit.js';

/**
 * The payment page's actions, for a merchant's admins and the operator (a viewer sees none, and its POST is
 * refused): a refund (full or partial) reviewed on a confirmation page that shows the exact amount and currency
 * before anything is sent, made through the refund endpoint's own use case with an idempotency key; a cancel while
 * the payment waits for its payer, reviewed the same way (which payment, its amount) before the POST that cancels; a redelivery of one of its webhook deliveries. Every refusal is a message in
 * the user's language.
 *
 * The refund's idempotency key is the payment, the amount and how many refunds the payment had when the
 * confirmation was shown: a confirmation submitted twice, or the same refund confirmed in two tabs, refunds once;
 * once that refund exists (succeeded or failed), a new confirmation of the same amount is a new refund.
 */

type A = ReturnType<typeof actionStrings.in>;

const paymentStatus = (request: FastifyRequest, status: string) =>
  (PAYMENT_STATUSES as readonly string[]).includes(status)
    ? strings.in(request.console!.language)(`status_${status as (typeof PAYMENT_STATUSES)[number]}`)
    : status;

function refuseViewer(request: FastifyRequest, reply: FastifyReply) {
  const t = common.in(request.console!.language);
  return messagePage(request, reply, 403, t('forbidden_title'), t('forbidden_text'));
}

const validId = (id: string) => {
  if (!/^[A-Za-z0-9_]{1,64}$/.test(id)) throw new NotFoundError('no such payment');
  return id;
};

const back = (id: string) => `/console/payments/${id}`;

/** A refusal in the user's language, with the way back to the payment. */
function refusal(request: FastifyRequest, reply: FastifyReply, status: number, paymentId: string, text: string) {
  const a = actionStrings.in(request.console!.language);
  return page(request, reply, {
    title: a('action_failed_title'),
    section: 'payments',
    status,
    body: html`<h1>${a('action_failed_title')}</h1><div class="alert" role="alert">${text}</div><p><a href="${back(paymentId)}">${a('back_to_payment')}</a></p>`,
  });
}

/** Why a refund of this amount (minor units; undefined: the text could not be read) cannot be made, or null. */
function refundProblemText(a: A, request: FastifyRequest, options: RefundOptions, amount: number | undefined): { status: number; text: string } | null {
  const { payment, remaining } = options;
  const currency = payment.currency;
  if (options.mode === 'none') return { status: 422, text: a('refund_not_supported', { provider: options.provider }) };
  if (!options.refundableNow) return { status: 422, text: a('refund_not_now', { status: paymentStatus(request, payment.status) }) };
  if (amount === undefined) return { status: 400, text: a('refund_amount_invalid', { example: toDecimalString(Math.min(remaining, 4990), currency) }) };
  if (amount <= 0) return { status: 400, text: a('refund_amount_zero') };
  if (amount > remaining) return { status: 422, text: a('refund_amount_too_high', { remaining: toDecimalString(remaining, currency), currency }) };
  if (options.mode === 'full' && (payment.amount_refunded > 0 || amount !== payment.amount_captured))
    return { status: 422, text: a('refund_full_only', { remaining: toDecimalString(remaining, currency), currency }) };
  return null;
}

function readAmount(text: unknown, currency: string): number | undefined {
  if (typeof text !== 'string' || text.length > 40) return undefined;
  try {
    return parseDecimalString(text.replace(/\s/g, '').replace(',', '.'), currency);
  } catch {
    return undefined;
  }
}

/** The actions panel of a payment's page (nothing for a viewer). */
export function actionsPanel(
  request: FastifyRequest,
  payment: Payment,
  options: Pick<RefundOptions, 'mode' | 'remaining' | 'refundableNow' | 'provider'>,
): Html {
  if (!mayChange(request)) return html``;
  const a = actionStrings.in(request.console!.language);
  const currency = payment.currency;
  const parts: Html[] = [];
  if (options.refundableNow) {
    parts.push(
      html`<section aria-labelledby="refund-h"><h3 id="refund-h">${a('refund_title')}</h3>${
        options.mode === 'none'
          ? html`<p>${a('refund_not_supported', { provider: options.provider })}</p>`
          : html`<form method="get" action="${`/console/payments/${payment.id}/refund`}" class="action-form">
<label for="refund-amount">${a('refund_amount', { currency })}</label><input id="refund-amount" name="amount" inputmode="decimal" autocomplete="off" size="12" required value="${toDecimalString(options.remaining, currency)}" aria-describedby="refund-hint">
<p id="refund-hint" class="muted">${a('refund_amount_hint', { remaining: toDecimalString(options.remaining, currency), currency })}</p>
<p><button type="submit">${a('refund_review')}</button></p></form>`
      }</section>`,
    );
  }
  if (cancelable(payment)) {
    parts.push(html`<section aria-labelledby="cancel-h"><h3 id="cancel-h">${a('cancel_title')}</h3><p class="muted">${a('cancel_text')}</p>
<form method="get" action="${`/console/payments/${payment.id}/cancel`}"><button type="submit" class="danger">${a('cancel_button')}</button></form></section>`);
  }
  if (parts.length === 0) return html``;
  return html`<h2>${a('actions')}</h2><div class="actions">${parts}</div>`;
}

/** A delivery's redeliver button (nothing for a viewer). */
export function redeliverForm(request: FastifyRequest, paymentId: string, delivery: { id: string; url: string }): Html {
  if (!mayChange(request)) return html``;
  const a = actionStrings.in(request.console!.language);
  return html`<form method="post" action="${`/console/payments/${paymentId}/deliveries/${delivery.id}/redeliver`}" class="inline"><input type="hidden" name="_csrf" value="${request.console!.session!.csrfToken}"><button type="submit" class="small" aria-label="${a('redeliver_label', { url: delivery.url })}">${a('redeliver_button')}</button></form>`;
}

export function actionRoutes(app: FastifyInstance, ctx: HubContext) {
  /** The review: what would be refunded, in the payment's currency, before anything is sent. */
  app.get<{ Params: { id: string }; Querystring: { amount?: string } }>('/:id/refund', { schema: { hide: true } }, async (request, reply) => {
    const id = validId(request.params.id);
    if (!mayChange(request)) return refuseViewer(request, reply);
    const a = actionStrings.in(request.console!.language);
    const options = await refundOptions(ctx, scopeOf(request), id);
    const { payment } = options;
    const amount = readAmount(request.query.amount, payment.currency);
    const problem = refundProblemText(a, request, options, amount);
    if (problem) return refusal(request, reply, problem.status, id, problem.text);
    const shown = { amount: toDecimalString(amount!, payment.currency), currency: payment.currency };
    const seen = (await paymentRefunds(ctx, scopeOf(request), id)).length;
    return page(request, reply, {
      title: a('refund_confirm_title'),
      section: 'payments',
      body: html`<h1>${a('refund_confirm_title')}</h1>
<p class="confirm-amount"><strong>${shown.amount} ${shown.currency}</strong></p>
<p>${a('refund_confirm_text', { ...shown, order: payment.order_id })}</p>
<form method="post" action="${`/console/payments/${id}/refund`}"><input type="hidden" name="_csrf" value="${request.console!.session!.csrfToken}">
<input type="hidden" name="amount_minor" value="${amount!}"><input type="hidden" name="currency" value="${payment.currency}"><input type="hidden" name="seen" value="${seen}">
<p class="buttons"><button type="submit">${a('refund_confirm_button', shown)}</button> <a href="${back(id)}">${a('refund_back')}</a></p></form>`,
    });
  });

  app.post<{ Params: { id: string } }>('/:id/refund', { schema: { hide: true } }, async (request, reply) => {
    const id = validId(request.params.id);
    if (!mayChange(request)) return refuseViewer(request, reply);
    const a = actionStrings.in(request.console!.language);
    const form = (request.body ?? {}) as Record<string, string>;
    const scope = scopeOf(request);
    const options = await refundOptions(ctx, scope, id);
    const seen = typeof form.seen === 'string' && /^\d{1,6}$/.test(form.seen) ? Number(form.seen) : undefined;
    const amount = typeof form.amount_minor === 'string' && /^\d{1,16}$/.test(form.amount_minor) ? Number(form.amount_minor) : undefined;
    if (seen === undefined || amount === undefined || form.currency !== options.payment.currency)
      return refusal(request, reply, 400, id, a('refund_form_stale'));
    const key = `console-refund-${createHash('sha256').update(`${id}\u0000${amount}\u0000${seen}`).digest('base64url').slice(0, 32)}`;
    try {
      const made = await refundPayment(ctx, scope, id, amount, key);
      return reply.redirect(`${back(id)}?refund=${encodeURIComponent(made.refund.id)}`, 303);
    } catch (error) {
      // The service's own checks (it re-reads the payment under its lock): say what it found, in the user's language.
      if (error instanceof ConflictError) return refusal(request, reply, 409, id, a('refund_in_progress'));
      if (error instanceof ValidationError || error instanceof UnprocessableError) {
        const fresh = await refundOptions(ctx, scope, id);
        const problem = refundProblemText(a, request, fresh, amount);
        return refusal(request, reply, 422, id, problem?.text ?? a('refund_refused', { reason: error.message }));
      }
      throw error;
    }
  });

  /** The review of a cancel: which payment, of what amount, before anything changes (the POST below does it). */
  app.get<{ Params: { id: string } }>('/:id/cancel', { schema: { hide: true } }, async (request, reply) => {
    const id = validId(request.params.id);
    if (!mayChange(request)) return refuseViewer(request, reply);
    const a = actionStrings.in(request.console!.language);
    const { payment } = await refundOptions(ctx, scopeOf(request), id);
    if (!cancelable(payment))
      return refusal(
        request,
        reply,
        409,
        id,
        a('cancel_not_allowed', { status: paymentStatus(request, payment.status === 'pending' ? 'expired' : payment.status) }),
      );
    const shown = { amount: toDecimalString(payment.amount, payment.currency), currency: payment.currency };
    return page(request, reply, {
      title: a('cancel_confirm_title'),
      section: 'payments',
      body: html`<h1>${a('cancel_confirm_title')}</h1>
<p class="confirm-amount"><strong>${shown.amount} ${shown.currency}</strong></p>
<p>${a('cancel_confirm_text', { ...shown, order: payment.order_id })}</p>
<form method="post" action="${`/console/payments/${id}/cancel`}"><input type="hidden" name="_csrf" value="${request.console!.session!.csrfToken}">
<p class="buttons"><button type="submit" class="danger">${a('cancel_confirm_button', shown)}</button> <a href="${back(id)}">${a('cancel_back')}</a></p></form>`,
    });
  });

  app.post<{ Params: { id: string } }>('/:id/cancel', { schema: { hide: true } }, async (request, reply) => {
    const id = validId(request.params.id);
    if (!mayChange(request)) return refuseViewer(request, reply);
    const a = actionStrings.in(request.console!.language);
    try {
      await cancelMerchantPayment(ctx, scopeOf(request), id);
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      const { payment } = await refundOptions(ctx, scopeOf(request), id);
      return refusal(
        request,
        reply,
        409,
        id,
        a('cancel_not_allowed', { status: paymentStatus(request, payment.status === 'pending' ? 'expired' : payment.status) }),
      );
    }
    return reply.redirect(`${back(id)}?canceled=1`, 303);
  });

  app.post<{ Params: { id: string; delivery: string } }>('/:id/deliveries/:delivery/redeliver', { schema: { hide: true } }, async (request, reply) => {
    const id = validId(request.params.id);
    const delivery = validId(request.params.delivery);
    if (!mayChange(request)) return refuseViewer(request, reply);
    const a = actionStrings.in(request.console!.language);
    try {
      await redeliverPaymentDelivery(ctx, scopeOf(request), id, delivery);
    } catch (error) {
      if (error instanceof ConflictError) return refusal(request, reply, 409, id, a('redeliver_disabled'));
      throw error;
    }
    return reply.redirect(`${back(id)}?redelivered=${encodeURIComponent(delivery)}`, 303);
  });
}
