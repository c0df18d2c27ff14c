import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { toDecimalString } from '../../../../core/money.js';
import { PAYMENT_STATUSES } from '../../../../core/transitions.js';
import { html, Html } from '../../../../html/template.js';
import type { HubContext } from '../../../../services/context.js';
import { NotFoundError } from '../../../../services/context.js';
import { paymentConnectionChoices, paymentTimeline, searchPayments, type PaymentSearch } from '../../../../services/payments.js';
import type { Payment } from '../../../../store/schema.js';
import { page } from '../../layout.js';
import { defineSection } from '../../registry.js';
import { strings } from './strings.js';

/**
 * Payments (read-only for now): the list with filters (status, connection, dates, one search box for order id,
 * payer e-mail or processor reference), cursor pagination and CSV export, and each payment's timeline. A merchant's
 * users see their merchant's payments only (another's answers 404 like one that does not exist); the operator
 * sees every merchant's.
 */

type T = ReturnType<typeof strings.in>;
type Query = Record<string, string | string[] | undefined>;

const EXPORT_MAX_ROWS = 10_000;
const PAGE_SIZE = 25;

/** The merchant whose payments the user may see; null: all (the operator). */
function scopeOf(request: FastifyRequest): string | null {
  const session = request.console!.session!;
  return session.role === 'operator' ? null : session.merchantId;
}

/** Not a payment's status: a payment (pending) whose attempt's outcome is unknown, as the overview counts them. */
const UNKNOWN_OUTCOME = 'unknown';

const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v)?.trim() ?? '';

interface Filters {
  status: string;
  connection: string;
  from: string;
  to: string;
  q: string;
}

/** The filters as written in the query, the search they make, and what in them is not valid. */
function readFilters(query: Query, t: T): { values: Filters; search: PaymentSearch; errors: string[]; after: string } {
  const values: Filters = {
    status: one(query.status),
    connection: one(query.connection),
    from: one(query.from),
    to: one(query.to),
    q: one(query.q).slice(0, 200),
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
  if (after) {
    if (/^pay_[0-9a-z]{26}$/.test(after)) search.startingAfter = after;
    else errors.push(t('bad_filter', { what: t('bad_cursor') }));
  }
  return { values, search, errors, after };
}

const filterQuery = (f: Filters, extra: Record<string, string> = {}) => {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...f, ...extra })) if (v) params.set(k, v);
  const text = params.toString();
  return text ? `?${text}` : '';
};

export const when = (d: Date | string | null) => (d ? `${new Date(d).toISOString().slice(0, 19).replace('T', ' ')} UTC` : '');
const money = (amount: number, currency: string) => `${toDecimalString(amount, currency)} ${currency}`;
const statusLabel = (t: T, status: string) =>
  (PAYMENT_STATUSES as readonly string[]).includes(status) ? t(`status_${status as (typeof PAYMENT_STATUSES)[number]}`) : status;
const payerEmail = (p: Payment) => (typeof p.billing?.email === 'string' ? p.billing.email : '');
const selected = (yes: boolean) => (yes ? new Html(' selected') : '');

/** What the list's htmx requests replace: the results only (the page itself works without script). */
const HX_RESULTS = new Html('hx-target="#results" hx-select="#results" hx-swap="outerHTML" hx-push-url="true"');

async function listPage(ctx: HubContext, request: FastifyRequest<{ Querystring: Query }>, reply: FastifyReply) {
  const t = strings.in(request.console!.language);
  const scope = scopeOf(request);
  const { values, search, errors } = readFilters(request.query, t);
  const [connections, result] = await Promise.all([
    paymentConnectionChoices(ctx, scope),
    errors.length ? Promise.resolve({ rows: [] as Payment[], hasMore: false, nextCursor: null }) : searchPayments(ctx, scope, { ...search, limit: PAGE_SIZE }),
  ]);
  const names = new Map(connections.map((c) => [c.id, scope === null ? `${c.code} (${c.merchant_id})` : c.code]));
  const operator = scope === null;
  const form = html`<form class="filters" method="get" action="/console/payments" role="search" aria-label="${t('filters')}" hx-get="/console/payments" ${HX_RESULTS}>
<div><label for="f-status">${t('status')}</label><select id="f-status" name="status"><option value="">${t('any_status')}</option>${PAYMENT_STATUSES.map(
    (s) => html`<option value="${s}"${selected(values.status === s)}>${statusLabel(t, s)}</option>`,
  )}<option value="${UNKNOWN_OUTCOME}"${selected(values.status === UNKNOWN_OUTCOME)}>${t('outcome_unknown')}</option></select></div>
<div><label for="f-connection">${t('connection')}</label><select id="f-connection" name="connection"><option value="">${t('any_connection')}</option>${connections.map(
    (c) => html`<option value="${c.id}"${selected(values.connection === c.id)}>${names.get(c.id)!} · ${c.provider}</option>`,
  )}</select></div>
<div><label for="f-from">${t('from')}</label><input id="f-from" name="from" type="date" value="${values.from}"></div>
<div><label for="f-to">${t('to')}</label><input id="f-to" name="to" type="date" value="${values.to}"></div>
<div><label for="f-q">${t('search')}</label><input id="f-q" name="q" type="search" size="30" value="${values.q}"></div>
<div><button type="submit">${t('apply')}</button></div><div><a href="/console/payments">${t('reset')}</a></div></form>`;
  const rows = result.rows.map(
    (p) =>
      html`<tr><td>${when(p.created_at)}</td><td><a href="${`/console/payments/${p.id}`}">${p.order_id}</a></td>${operator ? html`<td>${p.merchant_id}</td>` : ''}<td>${payerEmail(p)}</td><td class="num">${money(p.amount, p.currency)}</td><td class="status">${statusLabel(t, p.status)}</td><td>${names.get(p.connection_id) ?? p.connection_id}</td></tr>`,
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
    body: html`<h1>${t('title')}</h1>${form}<div id="results">${alerts}<p><a href="${`/console/payments/export.csv${filterQuery(values)}`}" download>${t('export_csv')}</a></p>${table}${pager}</div>`,
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
  const scope = scopeOf(request);
  const { search, errors } = readFilters(request.query, t);
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

async function detailPage(ctx: HubContext, request: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply) {
  const t = strings.in(request.console!.language);
  if (!/^[A-Za-z0-9_]{1,64}$/.test(request.params.id)) throw new NotFoundError('no such payment');
  const view = await paymentTimeline(ctx, scopeOf(request), request.params.id);
  const p = view.payment;
  const fact = (label: string, value: Html | string | number) => html`<dt>${label}</dt><dd>${value}</dd>`;
  const entries: Array<{ at: number; order: number; item: Html }> = [];
  for (const a of view.attempts) {
    entries.push({
      at: new Date(a.created_at).getTime(),
      order: 0,
      item: html`<li><h3>${t('attempt', { number: a.number, status: a.status })}</h3><time datetime="${new Date(a.created_at).toISOString()}">${when(a.created_at)}</time>
<dl class="facts">${fact(t('provider'), a.provider)}${fact(t('amount'), money(a.amount, a.currency))}${a.processor_reference ? fact(t('reference'), a.processor_reference) : ''}${a.pan_masked ? fact(t('card'), a.pan_masked) : ''}${a.error_code || a.error_message ? fact(t('reason'), [a.error_code, a.error_message].filter(Boolean).join(' — ')) : ''}${a.action ? fact(t('next_action'), a.action) : ''}</dl></li>`,
    });
  }
  for (const n of view.notifications) {
    const source = (SOURCES as readonly string[]).includes(n.source) ? t(`source_${n.source as (typeof SOURCES)[number]}`) : n.source;
    entries.push({
      at: new Date(n.received_at).getTime(),
      order: 1,
      item: html`<li><h3>${t('notification', { provider: n.provider, status: n.status })}</h3><time datetime="${new Date(n.received_at).toISOString()}">${when(n.received_at)}</time>
<dl class="facts">${fact(t('source'), source)}${n.outcome ? fact(t('verdict'), n.outcome) : ''}${n.error ? fact(t('error'), n.error) : ''}</dl>
<details><summary>${t('raw_body')}</summary>${n.body_excerpt ? html`<p class="muted">${t('excerpt', { bytes: n.body.length })}</p>` : ''}<pre tabindex="0">${n.body}</pre></details></li>`,
    });
  }
  for (const e of view.events) {
    const deliveries = e.deliveries.length
      ? html`<ul>${e.deliveries.map(
          (d) =>
            html`<li>${t('delivery', { url: d.url, status: d.status, attempts: d.attempts })}${
              d.attempt_log.length
                ? html`<ul>${d.attempt_log.map(
                    (a) =>
                      html`<li>${
                        a.status_code !== null
                          ? t('delivery_attempt', { time: when(a.attempted_at), code: a.status_code, ms: a.duration_ms })
                          : t('delivery_attempt_failed', { time: when(a.attempted_at), ms: a.duration_ms, error: a.error ?? '' })
                      }</li>`,
                  )}</ul>`
                : ''
            }</li>`,
        )}</ul>`
      : html`<p class="muted">${t('no_deliveries')}</p>`;
    entries.push({
      at: new Date(e.created_at).getTime(),
      order: 2,
      item: html`<li><h3>${t('event', { type: e.type })}</h3><time datetime="${new Date(e.created_at).toISOString()}">${when(e.created_at)}</time><h4 class="muted">${t('deliveries')}</h4>${deliveries}</li>`,
    });
  }
  entries.sort((a, b) => a.at - b.at || a.order - b.order);
  const operator = scopeOf(request) === null;
  return page(request, reply, {
    title: t('payment', { order: p.order_id }),
    section: 'payments',
    body: html`<p><a href="/console/payments">${t('back_to_list')}</a></p><h1>${t('payment', { order: p.order_id })}</h1>
<h2>${t('facts')}</h2><dl class="facts">${fact(t('payment_id'), p.id)}${fact(t('status'), html`<span class="status">${statusLabel(t, view.status)}</span>`)}${fact(t('amount'), money(p.amount, p.currency))}${fact(t('captured'), money(p.amount_captured, p.currency))}${fact(t('refunded'), money(p.amount_refunded, p.currency))}${operator ? fact(t('merchant'), p.merchant_id) : ''}${fact(t('description'), p.description)}${fact(t('payer_email'), payerEmail(p))}${fact(t('created'), when(p.created_at))}${p.expires_at ? fact(t('expires'), when(p.expires_at)) : ''}</dl>
<h2>${t('timeline')}</h2>${entries.length ? html`<ol class="timeline">${entries.map((e) => e.item)}</ol>` : html`<p>${t('timeline_empty')}</p>`}`,
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
    app.get<{ Params: { id: string } }>('/:id', { schema: { hide: true } }, (request, reply) => detailPage(ctx, request, reply));
  },
});
