import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { toDecimalString } from '../../core/money.js';
import { blocksNewAttempt, effectiveStatus, type AttemptStatus, type PaymentStatus } from '../../core/transitions.js';
import { NotFoundError, type HubContext } from '../../services/context.js';
import { findPayment, lastAttemptOf, openPaymentPage } from '../../services/payments.js';
import type { PaymentProblem } from '../../services/payment-requirements.js';
import { completeAuthentication } from '../../services/attempt-start.js';
import { endpointKind, loadPaymentConnection } from '../../services/connections.js';
import type { Redirect } from '../../connectors/types.js';
import { isStorableText } from '../../core/storable-text.js';
import { isHttpUrl } from '../../core/validation.js';
import type { Payment, PaymentAttempt } from '../../store/schema.js';
import { html, Html } from '../../html/template.js';
import { sendPayerPage } from './payer-page.js';
import { chooseLanguage, fill } from '../../html/language.js';
import { PAY_LANGUAGES, PAY_TEXT, type PayLanguage, type PayWordKey } from './pay-text.js';

const STYLE = `body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f5f7f6;color:#17212b;line-height:1.5}
main{max-width:30rem;margin:3rem auto;background:#fff;padding:1.5rem 1.75rem;border-radius:8px;box-shadow:0 1px 4px rgba(0,0,0,.12)}
h1{font-size:1.3rem;margin-top:0}.amount{font-size:1.6rem;font-weight:700;margin:.25rem 0 1rem}.muted{color:#5b6672;font-size:.9rem}
.button,button{display:inline-block;font:inherit;padding:.6rem 1.2rem;border-radius:6px;border:0;background:#135e4b;color:#fff;text-decoration:none;cursor:pointer}
.alert{background:#fdecea;border-left:4px solid #b3261e;padding:.6rem .8rem;margin:1rem 0}.ok{background:#e6f4ea;border-left:4px solid #1e7b34;padding:.6rem .8rem;margin:1rem 0}`;

type Words = (typeof PAY_TEXT)[PayLanguage];

/** The page's language: the payment's own (`metadata.language`, e.g. a payment step's), else the browser's, else English. */
function languageFor(payment: Payment | undefined, acceptLanguage: unknown): PayLanguage {
  return chooseLanguage(PAY_LANGUAGES, [payment?.metadata.language], acceptLanguage);
}

function page(reply: FastifyReply, lang: PayLanguage, title: string, body: Html, options: { nonce?: string; refreshSeconds?: number; status?: number } = {}) {
  // The hand-off page's form posts to the processor, wherever it is.
  const scriptSrc = options.nonce ? `'nonce-${options.nonce}'` : "'none'";
  return sendPayerPage(reply, {
    lang,
    title,
    body,
    style: STYLE,
    scriptSrc,
    formAction: 'http: https:',
    refreshSeconds: options.refreshSeconds,
    status: options.status,
  });
}

const amountOf = (p: Payment) => `${toDecimalString(p.amount, p.currency)} ${p.currency}`;

const statusText = (t: Words, status: PaymentStatus) => t[`status_${status}` as PayWordKey];

const WENT_THROUGH = ['paid', 'authorized', 'processing'];

/**
 * Where the customer goes back to the merchant, with `payment_id` and `status` added: its return URL, or, when the
 * payment did not go through and the merchant gave one, its page for abandoned payments (an OnPay link's
 * `canceledUrl`). Null when the merchant gave neither (or no http(s) one).
 */
function merchantUrl(payment: Payment, status: string): string | null {
  // Only http(s) addresses become links, whatever a stored row holds (a `javascript:` one is passed over).
  const canceled = isHttpUrl(payment.metadata.canceled_url) && !WENT_THROUGH.includes(status) ? payment.metadata.canceled_url : null;
  const target = canceled ?? (isHttpUrl(payment.return_url) ? payment.return_url : null);
  if (!target) return null;
  const url = new URL(target);
  url.searchParams.set('payment_id', payment.id);
  url.searchParams.set('status', status);
  return url.toString();
}

function backLink(t: Words, payment: Payment, status: string): Html | '' {
  const url = merchantUrl(payment, status);
  return url ? html`<p><a class="button" href="${url}">${t.backToShop}</a></p>` : '';
}

/** Sends the browser to the processor: a plain redirect, or a form that submits itself. */
function handOff(reply: FastifyReply, lang: PayLanguage, p: Payment, redirect: Redirect) {
  const t = PAY_TEXT[lang];
  if (redirect.method === 'GET') return reply.redirect(redirect.url, 303);
  const nonce = randomBytes(16).toString('base64');
  const fields = Object.entries(redirect.fields).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`);
  return page(
    reply,
    lang,
    t.redirectingTitle,
    html`<h1>${p.description}</h1><p class="amount">${amountOf(p)}</p>
<form id="handoff" method="post" action="${redirect.url}">${fields}<p class="muted">${t.redirecting}</p><button type="submit">${t.continue}</button></form>
<script nonce="${nonce}">document.getElementById('handoff').submit();</script>`,
    { nonce },
  );
}

const PAYER_FIELDS = ['first_name', 'last_name', 'email', 'phone', 'address', 'city', 'county', 'zip_code', 'country'] as const;

/** Why the processor could never open a payment, for the payer. */
function unpayableReason(t: Words, problem: PaymentProblem, p: Payment, provider: string): string {
  const limit = (minor: number) => `${toDecimalString(minor, p.currency)} ${p.currency}`;
  switch (problem.kind) {
    case 'missing': {
      const [party, name] = problem.field.split('.') as [string, string];
      const field = (PAYER_FIELDS as readonly string[]).includes(name) ? t[`field_${name}` as PayWordKey] : name;
      const partyText = party === 'shipping' ? t.party_shipping : t.party_billing;
      return fill(t.missingField, { provider, field, party: partyText });
    }
    case 'amount_too_large':
      return fill(t.amountTooLarge, { provider, limit: limit(problem.max) });
    case 'currency_not_accepted':
      return fill(t.currencyNotAccepted, { provider, currency: p.currency });
    case 'amount_too_small':
      return fill(t.amountTooSmall, { provider, limit: limit(problem.min) });
    case 'flow_not_supported':
      return fill(t.flowNotSupported, { provider });
  }
}

/**
 * An attempt's failure reason as the payer may read it: the processor's own words only when the connection talks
 * to the processor's hosts (or the hub's emulator); from an endpoint the operator allowed (an internal relay, a
 * test double), a fixed line (the merchant still reads the full reason in the API).
 */
async function reasonForPayer(ctx: HubContext, t: Words, payment: Payment, attempt: PaymentAttempt): Promise<string> {
  if (!attempt.error_message) return t.noReason;
  const loaded = await loadPaymentConnection(ctx, payment.id).catch(() => null);
  const kind = loaded ? endpointKind(ctx, loaded.connector, loaded.config.endpoint) : null;
  return kind === 'processor' || kind === 'emulator' ? attempt.error_message : t.processorRefused;
}

function declined(attempt: PaymentAttempt | undefined): boolean {
  return attempt?.status === 'failed' || attempt?.status === 'canceled';
}

/** The processor may have taken the payment (its answer was lost): the hub is asking it, and no new try is offered. */
function beingChecked(attempt: PaymentAttempt | undefined): boolean {
  return attempt !== undefined && blocksNewAttempt(attempt.status as AttemptStatus);
}

/**
 * What the payer sees while an attempt's outcome is unknown: plain words, no "pay again" button (a second
 * payment could charge twice), and the page looks again by itself.
 */
function checkingPage(reply: FastifyReply, lang: PayLanguage, p: Payment) {
  const t = PAY_TEXT[lang];
  return page(reply, lang, t.checkingTitle, html`<h1>${p.description}</h1><p class="amount">${amountOf(p)}</p><p role="status">${t.checking}</p>`, {
    refreshSeconds: 5,
  });
}

/** The customer-facing pages: the hand-off to the processor, and the landing page the processor returns to. */
export async function payPages(app: FastifyInstance, opts: { ctx: HubContext }) {
  const { ctx } = opts;
  const notFound = (request: FastifyRequest, reply: FastifyReply) => {
    const lang = languageFor(undefined, request.headers['accept-language']);
    const t = PAY_TEXT[lang];
    return page(reply, lang, t.notFoundTitle, html`<h1>${t.notFoundTitle}</h1><p>${t.notFound}</p>`, { status: 404 });
  };

  // Anything that is not shaped like a payment id is not one of ours (and a NUL byte cannot even be looked up).
  const plausibleId = (id: string) => /^[A-Za-z0-9_]{1,64}$/.test(id);

  app.get<{ Params: { id: string } }>('/pay/:id', { schema: { hide: true } }, async (request, reply) => {
    if (!plausibleId(request.params.id)) return notFound(request, reply);
    let view;
    try {
      view = await openPaymentPage(ctx, request.params.id);
    } catch (e) {
      if (e instanceof NotFoundError) return notFound(request, reply);
      throw e;
    }
    const p = view.payment;
    const lang = languageFor(p, request.headers['accept-language']);
    const t = PAY_TEXT[lang];
    const heading = html`<h1>${p.description}</h1><p class="amount">${amountOf(p)}</p>`;
    if (view.kind === 'status' && view.status === 'pending' && beingChecked(view.lastAttempt)) return checkingPage(reply, lang, p);
    if (view.kind === 'status' && view.status === 'pending' && declined(view.lastAttempt)) {
      // Settled at once by the processor (a refusal when opening the payment): say why and offer a new try.
      const reason = await reasonForPayer(ctx, t, p, view.lastAttempt!);
      return page(
        reply,
        lang,
        t.declinedTitle,
        html`${heading}<div class="alert" role="alert">${fill(t.startDeclined, { reason })}</div><p><a class="button" href="${`/pay/${p.id}`}">${t.tryAgain}</a></p>${backLink(t, p, view.status)}`,
      );
    }
    if (view.kind === 'status') {
      const text = view.status === 'pending' ? t.cannotStart : statusText(t, view.status);
      return page(reply, lang, t.paymentTitle, html`${heading}<p role="status">${text}</p>${backLink(t, p, view.status)}`);
    }
    if (view.kind === 'unpayable') {
      // Made before creation checked what the connector requires: no attempt can succeed, so none is made.
      request.log.warn({ payment: p.id, problems: view.problems.map((x) => x.field) }, 'the payment cannot be opened with its processor');
      const reasons = view.problems.map((x) => unpayableReason(t, x, p, view.provider)).join('; ');
      return page(
        reply,
        lang,
        t.unpayableTitle,
        html`${heading}<div class="alert" role="alert">${fill(t.unpayable, { reasons })}</div>${backLink(t, p, 'pending')}`,
      );
    }
    if (view.kind === 'unavailable') {
      request.log.warn({ payment: p.id, reason: view.message }, 'the processor could not open the payment');
      return page(
        reply,
        lang,
        t.unavailableTitle,
        html`${heading}<div class="alert" role="alert">${t.unavailable}</div><p><a class="button" href="${`/pay/${p.id}`}">${t.tryAgain}</a></p>`,
        { status: 503 },
      );
    }
    return handOff(reply, lang, p, view.redirect);
  });

  // Some processors bring the customer back with a POST (a bank's 3-D Secure result for NETOPIA v2).
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 64 * 1024 }, (_request, body, done) =>
    done(null, Object.fromEntries(new URLSearchParams(body as string))),
  );

  app.get<{ Params: { id: string }; Querystring: { canceled?: string } }>('/pay/:id/return', { schema: { hide: true } }, async (request, reply) =>
    showReturn(request, reply, request.params.id, request.query.canceled !== undefined),
  );

  app.post<{ Params: { id: string }; Querystring: { canceled?: string } }>('/pay/:id/return', { schema: { hide: true } }, async (request, reply) => {
    if (!plausibleId(request.params.id)) return notFound(request, reply);
    const form: Record<string, string> = {};
    const body = request.body !== null && typeof request.body === 'object' ? (request.body as Record<string, unknown>) : {};
    for (const [k, v] of Object.entries(body).slice(0, 50)) if (typeof v === 'string' && isStorableText(k) && isStorableText(v)) form[k] = v;
    const finished = Object.keys(form).length ? await completeAuthentication(ctx, request.params.id, form) : null;
    if (finished?.kind === 'redirect') {
      const payment = await findPayment(ctx, request.params.id);
      return handOff(reply, languageFor(payment, request.headers['accept-language']), payment, finished.redirect);
    }
    if (finished?.kind === 'unavailable') {
      request.log.warn({ payment: request.params.id, reason: finished.message }, 'the processor could not finish 3-D Secure');
      const payment = await findPayment(ctx, request.params.id).catch(() => undefined);
      const lang = languageFor(payment, request.headers['accept-language']);
      const t = PAY_TEXT[lang];
      return page(
        reply,
        lang,
        t.unavailableTitle,
        html`<h1>${t.paymentTitle}</h1><div class="alert" role="alert">${t.unavailable}</div><p><a class="button" href="${`/pay/${request.params.id}`}">${t.tryAgain}</a></p>`,
        { status: 503 },
      );
    }
    return showReturn(request, reply, request.params.id, request.query.canceled !== undefined);
  });

  async function showReturn(request: FastifyRequest, reply: FastifyReply, paymentId: string, canceledByCustomer: boolean) {
    if (!plausibleId(paymentId)) return notFound(request, reply);
    let payment: Payment;
    try {
      payment = await findPayment(ctx, paymentId);
    } catch (e) {
      if (e instanceof NotFoundError) return notFound(request, reply);
      throw e;
    }
    const lang = languageFor(payment, request.headers['accept-language']);
    const t = PAY_TEXT[lang];
    const heading = html`<h1>${payment.description}</h1><p class="amount">${amountOf(payment)}</p>`;
    const status = effectiveStatus(payment.status as PaymentStatus, payment.expires_at);
    const last = await lastAttemptOf(ctx, payment.id);
    if (status === 'pending' && canceledByCustomer && last?.status === 'created') {
      // The customer left the processor's page without paying (its cancel button); the link stays payable.
      return page(
        reply,
        lang,
        t.canceledTitle,
        html`${heading}<p role="status">${t.canceled}</p><p><a class="button" href="${`/pay/${payment.id}`}">${t.payNow}</a></p>${backLink(t, payment, 'canceled')}`,
      );
    }
    if (status === 'pending' && beingChecked(last)) return checkingPage(reply, lang, payment);
    if (status === 'pending' && declined(last)) {
      const reason = await reasonForPayer(ctx, t, payment, last!);
      return page(
        reply,
        lang,
        t.declinedTitle,
        html`${heading}<div class="alert" role="alert">${fill(t.declined, { reason })}</div><p><a class="button" href="${`/pay/${payment.id}`}">${t.tryAgain}</a></p>${backLink(t, payment, status)}`,
      );
    }
    if (status === 'pending') {
      // The processor sends its notification before returning the customer, but it may still be in flight.
      return page(reply, lang, t.confirmingTitle, html`${heading}<p role="status">${t.confirming}</p>`, { refreshSeconds: 2 });
    }
    const back = WENT_THROUGH.includes(status) ? merchantUrl(payment, status) : null;
    if (back) return reply.redirect(back, 303);
    const ok = status === 'paid' || status === 'authorized';
    return page(
      reply,
      lang,
      t.paymentTitle,
      html`${heading}<div class="${ok ? 'ok' : 'alert'}" role="status">${statusText(t, status)}</div>${backLink(t, payment, status)}`,
    );
  }
}
