import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CURRENCY_EXPONENTS, parseDecimalString, toDecimalString } from '../../../../core/money.js';
import { ATTEMPT_STATUSES, PAYMENT_STATUSES } from '../../../../core/transitions.js';
import { html, Html } from '../../../../html/template.js';
import type { HubContext } from '../../../../services/context.js';
import { NotFoundError } from '../../../../services/context.js';
import { listMerchants, getMerchant } from '../../../../services/merchants.js';
import { paymentConnectionChoices, paymentTimeline, searchPayments, type PaymentSearch } from '../../../../services/payments.js';
import { paymentRefunds, refundOptions } from '../../../../services/payment-actions.js';
import type { Payment } from '../../../../store/schema.js';
import type { Language } from '../../i18n.js';
import { page } from '../../layout.js';
import { defineSection } from '../../registry.js';
import { strings } from './strings.js';
import { actionStrings } from './action-strings.js';
import { actionRoutes, actionsPanel, redeliverForm } from './actions.js';
import { fingerprintTag, LIVE_SCRIPT_PATH, liveRoutes } from './live.js';
import { money, one, scopeOf, selected, timeTag, when } from '../../kit.js';

/**
 * Payments: the list with filters (status, connection, dates, amount in a currency, one search box for order id,
 * payer e-mail or processor reference), cursor pagination and CSV export, and each payment's timeline that updates
 * itself while open (live.ts), with its actions (actions.ts: refund and cancel, each reviewed on a confirmation
 * page, and redeliver). A merchant's
 * users see their merchant's payments only (another's answers 404 like one that does not exist); the operator
 * sees every merchant's.
 */

type T = ReturnType<typeof strings.in>;
type Query = Record<string, string | string[] | undefined>;

const EXPORT_MAX_ROWS = 10_000;
const PAGE_SIZE = 25;

/** Not a payment's status: a payment (pending) whose attempt's outcome is unknown, as the overview counts them. */
const UNKNOWN_OUTCOME = 'unknown';

interface Filters {
  /** The operator's choice of one merchant ('' for every merchant, and always '' for a merchant's user). */
  merchant: string;
  status: string;
  connection: string;
  from: string;
  to: string;
  q: string;
  currency: string;
  min: string;
  max: string;
}

/** The currencies the amount filter offers: the usual ones first, then every other the hub knows. */
const USUAL_CURRENCIES = ['RON', 'EUR', 'USD', 'GBP', 'HUF', 'BGN', 'PLN', 'CZK', 'CHF'];
const CURRENCIES = [
  ...USUAL_CURRENCIES,
  ...Object.keys(CURRENCY_EXPONENTS)
    .filter((c) => !USUAL_CURRENCIES.includes(c))
    .sort(),
];

/** The filters as written in the query, the search they make, and what in them is not valid. */
function readFilters(query: Query, t: T, language: Language): { values: Filters; search: PaymentSearch; errors: string[]; after: string } {
  const values: Filters = {
    merchant: one(query.merchant).slice(0, 64),
    status: one(query.status),
    connection: one(query.connection),
    from: one(query.from),
    to: one(query.to),
    q: one(query.q).slice(0, 200),
    currency: one(query.currency).toUpperCase().slice(0, 3),
    min: one(query.min).slice(0, 40),
    max: one(query.max).slice(0, 40),
  };
  const after = one(query.after);
  const errors: string[] = [];
  const search: PaymentSearch = {};
  if (values.status) {
    if ((PAYMENT_STATUSES as readonly string[]).includes(values.status)) search.status = values.status;
    else if (values.status === UNKNOWN_OUTCOME) search.attemptUnknown = true;
    else errors.push(t('bad_filter', { what: t('bad_status') }));
  }
  if (values.connection) search.connectionId = values.connection.slice(0, 64);
  const day = (text: string, end: boolean): Date | undefined => {
    if (!text) return undefined;
    const d = /^\d{4}-\d{2}-\d{2}$/.test(text) ? new Date(`${text}T${end ? '23:59:59.999' : '00:00:00.000'}Z`) : new Date(Number.NaN);
    if (Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== text) {
      errors.push(t('bad_filter', { what: t('bad_date') }));
      return undefined;
    }
    return d;
  };
  search.createdGte = day(values.from, false);
  search.createdLte = day(values.to, true);
  if (values.q) search.search = values.q;
  const a = actionStrings.in(language);
  if (values.currency) {
    if (CURRENCIES.includes(values.currency)) search.currency = values.currency;
    else errors.push(t('bad_filter', { what: a('bad_amount_currency') }));
  }
  if (values.min || values.max) {
    if (!search.currency) {
      if (!values.currency) errors.push(t('bad_filter', { what: a('bad_amount_currency') }));
    } else {
      const amount = (text: string) => {
        if (!text) return undefined;
        try {
          return parseDecimalString(text.replace(/\s/g, '').replace(',', '.'), search.currency!);
        } catch {
          errors.push(t('bad_filter', { what: a('bad_amount') }));
          return undefined;
        }
      };
      search.amountGte = amount(values.min);
      search.amountLte = amount(values.max);
      if (search.amountGte !== undefined && search.amountLte !== undefined && search.amountGte > search.amountLte)
        errors.push(t('bad_filter', { what: a('bad_amount_order') }));
    }
  }
  if (after) {
    if (/^pay_[0-9a-z]{26}$/.test(after)) search.startingAfter = after;
    else errors.push(t('bad_filter', { what: t('bad_cursor') }));
  }
  return { values, search, errors, after };
}

/**
 * The merchants the list is about: a merchant user's own (whatever the query says); for the operator every merchant,
 * or the one chosen in the filters (one that does not exist is a refused filter, as a wrong status is).
 */
async function listScope(ctx: HubContext, request: FastifyRequest, t: T, values: Filters, errors: string[]): Promise<string | null> {
  const own = scopeOf(request);
  if (own !== null) {
    values.merchant = '';
    return own;
  }
  if (!values.merchant) return null;
  if (/^[A-Za-z0-9_]{1,64}$/.test(values.merchant) && (await getMerchant(ctx, values.merchant))) return values.merchant;
  errors.push(t('bad_filter', { what: t('bad_merchant') }));
  return null;
}

const filterQuery = (f: Filters, extra: Record<string, string> = {}) => {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...f, ...extra })) if (v) params.set(k, v);
  const text = params.toString();
  return text ? `?${text}` : '';
};

const statusLabel = (t: T, status: string) =>
  (PAYMENT_STATUSES as readonly string[]).includes(status) ? t(`status_${status as (typeof PAYMENT_STATUSES)[number]}`) : status;
const payerEmail = (p: Payment) => (typeof p.billing?.email === 'string' ? p.billing.email : '');

/** What the list's htmx requests replace: the results only (the page itself works without script). */
const HX_RESULTS = new Html('hx-target="#results" hx-select="#results" hx-swap="outerHTML" hx-push-url="true"');

async function listPage(ctx: HubContext, request: FastifyRequest<{ Querystring: Query }>, reply: FastifyReply) {
  const t = strings.in(request.console!.language);
  const a = actionStrings.in(request.console!.language);
  const { values, search, errors } = readFilters(request.query, t, request.console!.language);
  const operator = request.console!.session!.role === 'operator';
  const [scope, merchants] = await Promise.all([listScope(ctx, request, t, values, errors), operator ? listMerchants(ctx) : Promise.resolve([])]);
  const [connections, result] = await Promise.all([
    paymentConnectionChoices(ctx, scope),
    errors.length ? Promise.resolve({ rows: [] as Payment[], hasMore: false, nextCursor: null }) : searchPayments(ctx, scope, { ...search, limit: PAGE_SIZE }),
  ]);
  const names = new Map(connections.map((c) => [c.id, operator ? `${c.code} (${c.merchant_id})` : c.code]));
  const merchantChoice = operator
    ? html`<div><label for="f-merchant">${t('merchant')}</label><select id="f-merchant" name="merchant"><option value="">${t('any_merchant')}</option>${merchants.map(
        (m) => html`<option value="${m.id}"${selected(values.merchant === m.id)}>${m.name}</option>`,
      )}</select></div>`
    : '';
  const form = html`<form class="filters" method="get" action="/console/payments" role="search" aria-label="${t('filters')}" hx-get="/console/payments" ${HX_RESULTS}>
${merchantChoice}<div><label for="f-status">${t('status')}</label><select id="f-status" name="status"><option value="">${t('any_status')}</option>${PAYMENT_STATUSES.map(
    (s) => html`<option value="${s}"${selected(values.status === s)}>${statusLabel(t, s)}</option>`,
  )}<option value="${UNKNOWN_OUTCOME}"${selected(values.status === UNKNOWN_OUTCOME)}>${t('outcome_unknown')}</option></select></div>
<div><label for="f-connection">${t('connection')}</label><select id="f-connection" name="connection"><option value="">${t('any_connection')}</option>${connections.map(
    (c) => html`<option value="${c.id}"${selected(values.connection === c.id)}>${names.get(c.id)!} · ${c.provider}</option>`,
  )}</select></div>
<div><label for="f-from">${t('from')}</label><input id="f-from" name="from" type="date" value="${values.from}"></div>
<div><label for="f-to">${t('to')}</label><input id="f-to" name="to" type="date" value="${values.to}"></div>
<div><label for="f-currency">${a('amount_currency')}</label><select id="f-currency" name="currency"><option value="">${a('any_currency')}</option>${CURRENCIES.map(
    (c) => html`<option value="${c}"${selected(values.currency === c)}>${c}</option>`,
  )}</select></div>
<div><label for="f-min">${a('amount_min')}</label><input id="f-min" name="min" inputmode="decimal" size="8" value="${values.min}"></div>
<div><label for="f-max">${a('amount_max')}</label><input id="f-max" name="max" inputmode="decimal" size="8" value="${values.max}"></div>
<div><label for="f-q">${t('search')}</label><input id="f-q" name="q" type="search" size="30" value="${values.q}"></div>
<div><button type="submit">${t('apply')}</button></div><div><a href="/console/payments">${t('reset')}</a></div></form>`;
  const rows = result.rows.map(
    (p) =>
      html`<tr><td>${timeTag(p.created_at)}</td><td><a href="${`/console/payments/${p.id}`}">${p.order_id}</a></td>${operator ? html`<td>${p.merchant_id}</td>` : ''}<td>${payerEmail(p)}</td><td class="num">${money(p.amount, p.currency)}</td><td class="status">${statusLabel(t, p.status)}</td><td>${names.get(p.connection_id) ?? p.connection_id}</td></tr>`,
  );
  const table = result.rows.length
    ? html`<table><caption class="muted">${t('caption', { count: result.rows.length })}</caption><thead><tr><th scope="col">${t('created')}</th><th scope="col">${t('order')}</th>${operator ? html`<th scope="col">${t('merchant')}</th>` : ''}<th scope="col">${t('payer')}</th><th scope="col" class="num">${t('amount')}</th><th scope="col">${t('status')}</th><th scope="col">${t('connection')}</th></tr></thead><tbody>${rows}</tbody></table>`
    : html`<p role="status">${t('none')}</p>`;
  const nextHref = result.nextCursor ? `/console/payments${filterQuery(values, { after: result.nextCursor })}` : null;
  const firstHref = `/console/payments${filterQuery(values)}`;
  const pager = html`<nav class="pager" aria-label="${t('title')}">${search.startingAfter ? html`<a href="${firstHref}" hx-get="${firstHref}" ${HX_RESULTS}>${t('first_page')}</a>` : ''}${nextHref ? html`<a href="${nextHref}" hx-get="${nextHref}" ${HX_RESULTS}>${t('next_page')}</a>` : ''}</nav>`;
  const alerts = errors.map((e) => html`<div class="alert" role="alert">${e}</div>`);
  return page(request, reply, {
    title: t('title'),
    section: 'payments',
    status: errors.length ? 400 : 200,
    body: html`<h1>${t('title')}</h1>${form}<script src="${LIVE_SCRIPT_PATH}" defer></script><div id="results">${alerts}<p><a href="${`/console/payments/export.csv${filterQuery(values)}`}" download>${t('export_csv')}</a></p>${table}${pager}</div>`,
  });
}

/** A CSV cell: quoted, and a leading = + - @ (a formula in a spreadsheet) neutralised with a quote mark. */
function csvCell(value: string | number | boolean | null | undefined): string {
  let text = value === null || value === undefined ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return `"${text.replace(/"/g, '""')}"`;
}

const CSV_COLUMNS = [
  'id',
  'created_at',
  'merchant_id',
  'order_id',
  'status',
  'amount',
  'amount_minor',
  'currency',
  'amount_captured_minor',
  'amount_refunded_minor',
  'connection',
  'payer_email',
  'description',
];

async function exportCsv(ctx: HubContext, request: FastifyRequest<{ Querystring: Query }>, reply: FastifyReply) {
  const t = strings.in(request.console!.language);
  const { values, search, errors } = readFilters(request.query, t, request.console!.language);
  const scope = await listScope(ctx, request, t, values, errors);
  if (errors.length)
    return reply
      .code(400)
      .type('text/plain; charset=utf-8')
      .header('cache-control', 'no-store')
      .send(`${errors.join('\n')}\n`);
  const connections = new Map((await paymentConnectionChoices(ctx, scope)).map((c) => [c.id, c.code]));
  const lines = [CSV_COLUMNS.join(',')];
  let cursor = search.startingAfter;
  let written = 0;
  for (;;) {
    const batch = await searchPayments(ctx, scope, { ...search, startingAfter: cursor, limit: 500 });
    for (const p of batch.rows) {
      if (written >= EXPORT_MAX_ROWS) break;
      lines.push(
        [
          p.id,
          new Date(p.created_at).toISOString(),
          p.merchant_id,
          p.order_id,
          p.status,
          toDecimalString(p.amount, p.currency),
          p.amount,
          p.currency,
          p.amount_captured,
          p.amount_refunded,
          connections.get(p.connection_id) ?? p.connection_id,
          payerEmail(p),
          p.description,
        ]
          .map(csvCell)
          .join(','),
      );
      written++;
    }
    if (!batch.nextCursor || written >= EXPORT_MAX_ROWS) break;
    cursor = batch.nextCursor;
  }
  const date = new Date().toISOString().slice(0, 10);
  return reply
    .header('cache-control', 'no-store')
    .header('content-disposition', `attachment; filename="payments-${date}.csv"`)
    .type('text/csv; charset=utf-8')
    .send(`${lines.join('\r\n')}\r\n`);
}

const SOURCES = ['notification', 'start', 'status_check', 'refund'] as const;
/** What became of a notification (or of an answer to the hub's own call) in the inbox. */
const NOTIFICATION_STATUSES = ['received', 'applied', 'duplicate', 'ignored', 'rejected'] as const;
const notificationStatus = (t: T, status: string) =>
  (NOTIFICATION_STATUSES as readonly string[]).includes(status) ? t(`notification_${status as (typeof NOTIFICATION_STATUSES)[number]}`) : status;

const attemptStatus = (a: ReturnType<typeof actionStrings.in>, status: string) =>
  (ATTEMPT_STATUSES as readonly string[]).includes(status) ? a(`attempt_${status as (typeof ATTEMPT_STATUSES)[number]}`) : status;
const REFUND_STATUSES = ['pending', 'processing', 'succeeded', 'failed'] as const;
const refundStatus = (a: ReturnType<typeof actionStrings.in>, status: string) =>
  (REFUND_STATUSES as readonly string[]).includes(status) ? a(`refund_${status as (typeof REFUND_STATUSES)[number]}`) : status;
const DELIVERY_STATUSES = ['pending', 'succeeded', 'failed', 'canceled'] as const;
const deliveryStatus = (a: ReturnType<typeof actionStrings.in>, status: string) =>
  (DELIVERY_STATUSES as readonly string[]).includes(status) ? a(`delivery_${status as (typeof DELIVERY_STATUSES)[number]}`) : status;

/** The regions of the payment page that its live updates replace. */
const LIVE_REGIONS = 'payment-facts payment-actions payment-timeline';

async function detailPage(ctx: HubContext, request: FastifyRequest<{ Params: { id: string }; Querystring: Query }>, reply: FastifyReply) {
  const t = strings.in(request.console!.language);
  const a = actionStrings.in(request.console!.language);
  if (!/^[A-Za-z0-9_]{1,64}$/.test(request.params.id)) throw new NotFoundError('no such payment');
  const scope = scopeOf(request);
  // Read before the timeline: a change while the page is made is announced by its stream (at worst, twice).
  const since = await fingerprintTag(ctx, scope, request.params.id);
  const view = await paymentTimeline(ctx, scope, request.params.id);
  const p = view.payment;
  const [refunds, refunding] = await Promise.all([paymentRefunds(ctx, scope, p.id), refundOptions(ctx, scope, p.id)]);
  const fact = (label: string, value: Html | string | number) => html`<dt>${label}</dt><dd>${value}</dd>`;
  const entries: Array<{ at: number; order: number; item: Html }> = [];
  for (const at of view.attempts) {
    entries.push({
      at: new Date(at.created_at).getTime(),
      order: 0,
      item: html`<li><h3>${t('attempt', { number: at.number, status: attemptStatus(a, at.status) })}</h3>${timeTag(at.created_at)}
<dl class="facts">${fact(t('provider'), at.provider)}${fact(t('amount'), money(at.amount, at.currency))}${at.processor_reference ? fact(t('reference'), at.processor_reference) : ''}${at.pan_masked ? fact(t('card'), at.pan_masked) : ''}${at.error_code || at.error_message ? fact(t('reason'), [at.error_code, at.error_message].filter(Boolean).join(' — ')) : ''}${at.action ? fact(t('next_action'), at.action) : ''}</dl></li>`,
    });
  }
  for (const n of view.notifications) {
    const source = (SOURCES as readonly string[]).includes(n.source) ? t(`source_${n.source as (typeof SOURCES)[number]}`) : n.source;
    entries.push({
      at: new Date(n.received_at).getTime(),
      order: 1,
      item: html`<li><h3>${t('notification', { provider: n.provider, status: notificationStatus(t, n.status) })}</h3>${timeTag(n.received_at)}
<dl class="facts">${fact(t('source'), source)}${n.outcome ? fact(t('verdict'), n.outcome) : ''}${n.error ? fact(t('error'), n.error) : ''}</dl>
<details><summary>${t('raw_body')}</summary>${n.body_excerpt ? html`<p class="muted">${t('excerpt', { bytes: n.body.length })}</p>` : ''}<pre tabindex="0">${n.body}</pre></details></li>`,
    });
  }
  for (const r of refunds) {
    entries.push({
      at: new Date(r.created_at).getTime(),
      order: 2,
      item: html`<li class="refund"><h3>${a('refund_of', { amount: toDecimalString(r.amount, r.currency), currency: r.currency, status: refundStatus(a, r.status) })}</h3>${timeTag(r.created_at)}
<dl class="facts">${fact(a('refund_id'), r.id)}${r.error_code || r.error_message ? fact(a('refund_error'), [r.error_code, r.error_message].filter(Boolean).join(' — ')) : ''}</dl></li>`,
    });
  }
  for (const e of view.events) {
    const deliveries = e.deliveries.length
      ? html`<ul>${e.deliveries.map(
          (d) =>
            html`<li>${t('delivery', { url: d.url, status: deliveryStatus(a, d.status), attempts: d.attempts })} ${redeliverForm(request, p.id, d)}${
              d.attempt_log.length
                ? html`<ul>${d.attempt_log.map(
                    (x) =>
                      html`<li>${timeTag(x.attempted_at)}: ${
                        x.status_code !== null
                          ? t('delivery_attempt', { code: x.status_code, ms: x.duration_ms })
                          : t('delivery_attempt_failed', { ms: x.duration_ms, error: x.error ?? '' })
                      }</li>`,
                  )}</ul>`
                : ''
            }</li>`,
        )}</ul>`
      : html`<p class="muted">${t('no_deliveries')}</p>`;
    entries.push({
      at: new Date(e.created_at).getTime(),
      order: 3,
      item: html`<li><h3>${t('event', { type: e.type })}</h3>${timeTag(e.created_at)}<h4 class="muted">${t('deliveries')}</h4>${deliveries}</li>`,
    });
  }
  entries.sort((x, y) => x.at - y.at || x.order - y.order);
  const operator = scope === null;
  const notices: Html[] = [];
  const refundShown = typeof request.query.refund === 'string' ? refunds.find((r) => r.id === request.query.refund) : undefined;
  if (refundShown)
    notices.push(
      html`<div class="${refundShown.status === 'failed' ? 'alert' : 'ok'}" role="status">${a('refund_done', { amount: toDecimalString(refundShown.amount, refundShown.currency), currency: refundShown.currency, status: refundStatus(a, refundShown.status) })}</div>`,
    );
  if (request.query.canceled === '1' && p.status === 'canceled') notices.push(html`<div class="ok" role="status">${a('cancel_done')}</div>`);
  if (typeof request.query.redelivered === 'string') notices.push(html`<div class="ok" role="status">${a('redeliver_done')}</div>`);
  return page(request, reply, {
    title: t('payment', { order: p.order_id }),
    section: 'payments',
    body: html`<p><a href="/console/payments">${t('back_to_list')}</a></p><h1>${t('payment', { order: p.order_id })}</h1>${notices}
<div data-live-stream="${`/console/payments/${p.id}/stream?since=${since}`}" data-live-regions="${LIVE_REGIONS}"><p id="live-status" class="muted" role="status" data-updated="${a('live_updated')}"></p>
<section id="payment-facts" aria-labelledby="facts-h"><h2 id="facts-h">${t('facts')}</h2><dl class="facts">${fact(t('payment_id'), p.id)}${fact(t('status'), html`<span class="status">${statusLabel(t, view.status)}</span>`)}${fact(t('amount'), money(p.amount, p.currency))}${fact(t('captured'), money(p.amount_captured, p.currency))}${fact(t('refunded'), money(p.amount_refunded, p.currency))}${operator ? fact(t('merchant'), p.merchant_id) : ''}${fact(t('description'), p.description)}${fact(t('payer_email'), payerEmail(p))}${fact(t('created'), timeTag(p.created_at))}${p.expires_at ? fact(t('expires'), timeTag(p.expires_at)) : ''}</dl></section>
<div id="payment-actions">${actionsPanel(request, p, refunding)}</div>
<section id="payment-timeline" aria-labelledby="timeline-h"><h2 id="timeline-h">${t('timeline')}</h2>${entries.length ? html`<ol class="timeline">${entries.map((e) => e.item)}</ol>` : html`<p>${t('timeline_empty')}</p>`}</section></div>
<script src="${LIVE_SCRIPT_PATH}" defer></script>`,
  });
}

export const paymentsSection = defineSection({
  name: 'payments',
  roles: ['operator', 'admin', 'viewer'],
  order: 10,
  navLabel: (language) => strings.in(language)('nav'),
  routes: async (app: FastifyInstance, { ctx }) => {
    app.get<{ Querystring: Query }>('/', { schema: { hide: true } }, (request, reply) => listPage(ctx, request, reply));
    app.get<{ Querystring: Query }>('/export.csv', { schema: { hide: true } }, (request, reply) => exportCsv(ctx, request, reply));
    app.get<{ Params: { id: string }; Querystring: Query }>('/:id', { schema: { hide: true } }, (request, reply) => detailPage(ctx, request, reply));
    actionRoutes(app, ctx);
    liveRoutes(app, ctx, scopeOf);
  },
});
