import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { EVENT_TYPES } from '../../../../core/transitions.js';
import { isHttpUrl, ValidationError } from '../../../../core/validation.js';
import { html, Html } from '../../../../html/template.js';
import { printableExcerpt } from '../../../../security/outbound.js';
import { ConflictError, NotFoundError, type HubContext } from '../../../../services/context.js';
import { listMerchants } from '../../../../services/merchants.js';
import {
  createWebhookEndpoint,
  deliveryLog,
  deliveryWithAttempts,
  getWebhookEndpoint,
  listWebhookEndpoints,
  redeliver,
  rotateWebhookSecret,
  updateWebhookEndpoint,
  WEBHOOK_ANSWER_EXCERPT_CHARS,
  type DeliveryLogRow,
} from '../../../../services/webhooks.js';
import type { WebhookEndpoint } from '../../../../store/schema.js';
import { common } from '../../i18n.js';
import { messagePage, page } from '../../layout.js';
import { defineSection } from '../../registry.js';
import { strings } from './strings.js';
import { createFlash, type Flash } from '../../flash.js';
import { formOf, mayChange, merchantFields, merchantInScope, merchantLink, one, requireMerchant, seeOther, timeTag, when } from '../../kit.js';

/**
 * Webhooks: a merchant's endpoints (create with the signing secret shown once, rotate the secret, disable and
 * enable), the delivery log of each endpoint and of all of them (cursor pages), each delivery with its attempts
 * (HTTP status, duration, time, the answer's excerpt), and redeliver. Everything goes through services/webhooks.ts,
 * the same functions as the API (so a merchant's URL passes the same outbound guard). Admins and the operator
 * change; viewers read. The operator picks the merchant (`?merchant=`, a hidden field in forms); a merchant's user
 * is held to its own merchant: another's endpoint or delivery answers 404, as one that does not exist.
 */

type T = ReturnType<typeof strings.in>;
type Query = Record<string, string | string[] | undefined>;

const PAGE_SIZE = 25;
const ENDPOINT_ID = /^we_[0-9a-z]{26}$/;
const DELIVERY_ID = /^whd_[0-9a-z]{26}$/;
const DELIVERY_STATUSES = ['pending', 'succeeded', 'failed', 'canceled'] as const;

const endpointStatus = (t: T, s: string) => (s === 'active' || s === 'disabled' ? t(`endpoint_status_${s}`) : s);
const deliveryStatus = (t: T, s: string) =>
  (DELIVERY_STATUSES as readonly string[]).includes(s) ? t(`delivery_status_${s as (typeof DELIVERY_STATUSES)[number]}`) : s;
const eventsText = (t: T, events: string[]) => (events.includes('*') ? t('all_events') : events.join(', '));

/** A path of this section, with the operator's merchant in its query. */
const link = (request: FastifyRequest, merchantId: string, path: string, extra: Record<string, string> = {}) =>
  merchantLink(request, merchantId, `/console/webhooks${path}`, extra);

/** The operator's line saying whose webhooks these are, with a way back to the choice. */
function merchantLine(request: FastifyRequest, t: T, merchant: { id: string; name: string }): Html | string {
  if (request.console!.session!.role !== 'operator') return '';
  return html`<p class="muted">${t('merchant_shown', { name: merchant.name, id: merchant.id })} · <a href="/console/webhooks">${t('change_merchant')}</a></p>`;
}

const notice = (text: string | undefined) => (text ? html`<div class="ok" role="status">${text}</div>` : '');
const alert = (text: string | undefined) => (text ? html`<div class="alert" role="alert">${text}</div>` : '');

function forbidden(request: FastifyRequest, reply: FastifyReply) {
  const c = common.in(request.console!.language);
  return messagePage(request, reply, 403, c('forbidden_title'), c('forbidden_text'));
}

/** The operator's choice of merchant. */
async function merchantPicker(ctx: HubContext, request: FastifyRequest, reply: FastifyReply) {
  const t = strings.in(request.console!.language);
  const merchants = await listMerchants(ctx);
  const body = merchants.length
    ? html`<form class="filters" method="get" action="/console/webhooks"><div><label for="w-merchant">${t('merchant')}</label><select id="w-merchant" name="merchant">${merchants.map(
        (m) => html`<option value="${m.id}">${m.name} (${m.id})</option>`,
      )}</select></div><div><button type="submit">${t('show')}</button></div></form>`
    : html`<p role="status">${t('no_merchants')}</p>`;
  return page(request, reply, { title: t('title'), section: 'webhooks', body: html`<h1>${t('title')}</h1><p>${t('pick_merchant')}</p>${body}` });
}

interface CreateForm {
  url: string;
  all: boolean;
  events: string[];
  alert?: string;
  /** The alert is about the URL (marked invalid, described by the alert). */
  badUrl?: boolean;
}

function createForm(request: FastifyRequest, t: T, merchantId: string, values: CreateForm): Html {
  const checked = (yes: boolean) => (yes ? new Html(' checked') : '');
  return html`<h2 id="add">${t('add_endpoint')}</h2><p class="muted">${t('add_endpoint_help')}</p>${values.alert ? html`<div id="w-form-error" class="alert" role="alert">${values.alert}</div>` : ''}
<form method="post" action="/console/webhooks/endpoints" hx-post="/console/webhooks/endpoints" hx-target="main" hx-select="main" hx-swap="outerHTML">${merchantFields(request, merchantId)}
<label for="w-url">${t('url')}</label><input id="w-url" name="url" type="url" inputmode="url" size="60" maxlength="2048" required value="${values.url}" aria-describedby="${values.badUrl ? 'w-form-error w-url-help' : 'w-url-help'}"${values.badUrl ? new Html(' aria-invalid="true"') : ''}>
<p id="w-url-help" class="muted">${t('url_help')}</p>
<fieldset class="events"><legend>${t('events_legend')}</legend><p class="muted">${t('events_help')}</p>
<label class="check"><input type="checkbox" name="all_events" value="1"${checked(values.all)}> ${t('all_events')}</label>
${EVENT_TYPES.map((e) => html`<label class="check"><input type="checkbox" name="${`event:${e}`}" value="1"${checked(values.events.includes(e))}> <code>${e}</code></label>`)}</fieldset>
<p><button type="submit">${t('create')}</button></p></form>`;
}

async function listPage(ctx: HubContext, request: FastifyRequest, reply: FastifyReply, form?: CreateForm, status = 200) {
  const t = strings.in(request.console!.language);
  const merchant = await merchantInScope(ctx, request);
  if (!merchant) return merchantPicker(ctx, request, reply);
  const endpoints = (await listWebhookEndpoints(ctx, merchant.id)).filter((e) => e.payment_id === null);
  const done = one((request.query as Query).done);
  const rows = endpoints.map(
    (e) =>
      html`<tr><td><a href="${link(request, merchant.id, `/endpoints/${e.id}`)}">${e.url}</a></td><td>${eventsText(t, e.events)}</td><td class="status">${endpointStatus(t, e.status)}</td><td>${timeTag(e.created_at)}</td></tr>`,
  );
  const table = endpoints.length
    ? html`<table><caption class="muted">${t('endpoints_caption')}</caption><thead><tr><th scope="col">${t('url')}</th><th scope="col">${t('events')}</th><th scope="col">${t('status')}</th><th scope="col">${t('created')}</th></tr></thead><tbody>${rows}</tbody></table>`
    : html`<p role="status">${t('no_endpoints')}</p>`;
  const change = mayChange(request)
    ? createForm(request, t, merchant.id, form ?? { url: '', all: true, events: [] })
    : html`<p class="muted">${t('view_only')}</p>`;
  return page(request, reply, {
    title: t('title'),
    section: 'webhooks',
    status,
    body: html`<h1>${t('title')}</h1>${merchantLine(request, t, merchant)}${notice(done === 'disabled' ? t('done_disabled') : undefined)}
<h2>${t('endpoints')}</h2>${table}<p><a href="${link(request, merchant.id, '/deliveries')}">${t('log_all')}</a></p>${change}`,
  });
}

/** A form's answer status: 4xx without script; 200 for htmx, which swaps only 2xx answers in (the alert must show). */
const formErrorStatus = (request: FastifyRequest, status: number) => (request.headers['hx-request'] === 'true' ? 200 : status);

async function create(ctx: HubContext, flash: Flash<ShownSecret>, request: FastifyRequest, reply: FastifyReply) {
  if (!mayChange(request)) return forbidden(request, reply);
  const t = strings.in(request.console!.language);
  const merchant = await requireMerchant(ctx, request);
  const form = formOf(request);
  const values: CreateForm = {
    url: one(form.url).slice(0, 2048),
    all: form.all_events === '1',
    events: EVENT_TYPES.filter((e) => form[`event:${e}`] === '1'),
  };
  const refuse = (text: string, status: number, badUrl = false) =>
    listPage(ctx, request, reply, { ...values, alert: text, badUrl }, formErrorStatus(request, status));
  if (!isHttpUrl(values.url)) return refuse(t('url_invalid'), 400, true);
  if (!values.all && values.events.length === 0) return refuse(t('events_invalid'), 400);
  let created: { endpoint: WebhookEndpoint; secret: string };
  try {
    created = await createWebhookEndpoint(ctx, merchant.id, { url: values.url, events: values.all ? ['*'] : values.events });
  } catch (e) {
    // The service's own checks: the outbound guard (an internal address), the cap on active endpoints.
    if (e instanceof ValidationError && e.errors.some((x) => x.field === 'url')) return refuse(t('url_refused'), 400, true);
    if (e instanceof ConflictError) return refuse(t('too_many'), 409);
    throw e;
  }
  return showOnce(flash, request, reply, merchant.id, created.endpoint.id, created.secret, null);
}

/** A secret made by a form, held for the one page that shows it (see flash.ts). */
interface ShownSecret {
  merchantId: string;
  endpointId: string;
  secret: string;
  /** Until when the previous secret stays valid (a rotation), as ISO text. */
  previousUntil: string | null;
}

/**
 * The answer to the form that made a secret: 303 to the endpoint's page naming the secret held for it, which that
 * page shows once. A reload of that page shows the endpoint (and says the secret is not shown again); the POST is
 * never repeated, so no second endpoint or rotation is made.
 */
function showOnce(
  flash: Flash<ShownSecret>,
  request: FastifyRequest,
  reply: FastifyReply,
  merchantId: string,
  endpointId: string,
  secret: string,
  previousUntil: Date | null,
) {
  const id = flash.put(request, { merchantId, endpointId, secret, previousUntil: previousUntil ? previousUntil.toISOString() : null });
  return seeOther(request, reply, link(request, merchantId, `/endpoints/${endpointId}`, { shown: id }));
}

/** The one page that shows a secret, never stored in the clear nor shown again. */
function secretPage(request: FastifyRequest, reply: FastifyReply, merchantId: string, endpoint: WebhookEndpoint, secret: string, previousUntil: Date | null) {
  const t = strings.in(request.console!.language);
  const endpointHref = link(request, merchantId, `/endpoints/${endpoint.id}`);
  const title = previousUntil ? t('rotated_title') : t('created_title');
  return page(request, reply, {
    title,
    section: 'webhooks',
    body: html`<h1>${title}</h1><div class="ok" role="status">${previousUntil ? t('rotated_text', { url: endpoint.url }) : t('created_text', { url: endpoint.url })}</div>
<label for="w-secret">${t('secret_label')}</label><input id="w-secret" class="secret" type="text" readonly value="${secret}" autocomplete="off" spellcheck="false" aria-describedby="w-secret-once">
<p id="w-secret-once" class="alert"><strong>${t('secret_once')}</strong></p>${previousUntil ? html`<p>${t('secret_overlap', { time: when(previousUntil) })}</p>` : ''}
<p><a class="button" href="${endpointHref}">${t('continue')}</a></p>`,
  });
}

function logTable(request: FastifyRequest, t: T, merchantId: string, rows: DeliveryLogRow[], withEndpoint: boolean): Html {
  if (!rows.length) return html`<p role="status">${t('no_deliveries')}</p>`;
  const lastAnswer = (d: DeliveryLogRow) => (d.last_status_code !== null ? `HTTP ${d.last_status_code}` : (d.last_error ?? '—'));
  return html`<table class="log"><caption class="muted">${t('log_caption', { count: rows.length })}</caption><thead><tr><th scope="col">${t('created')}</th><th scope="col">${t('event')}</th><th scope="col">${t('payment')}</th>${
    withEndpoint ? html`<th scope="col">${t('endpoint')}</th>` : ''
  }<th scope="col">${t('status')}</th><th scope="col" class="num">${t('attempts')}</th><th scope="col">${t('last_answer')}</th><th scope="col">${t('next_attempt')}</th><th scope="col"><span class="visually-hidden">${t('details')}</span></th></tr></thead><tbody>${rows.map(
    (d) =>
      html`<tr><td>${timeTag(d.created_at)}</td><td><code>${d.event_type}</code></td><td>${
        d.payment_id ? html`<a href="${`/console/payments/${d.payment_id}`}">${d.order_id ?? d.payment_id}</a>` : '—'
      }</td>${withEndpoint ? html`<td class="url">${d.endpoint_url}</td>` : ''}<td class="status">${deliveryStatus(t, d.status)}</td><td class="num">${d.attempts}</td><td>${lastAnswer(d)}</td><td>${
        d.status === 'pending' ? timeTag(d.next_attempt_at) : '—'
      }</td><td><a href="${link(request, merchantId, `/deliveries/${d.id}`)}">${t('details')}<span class="visually-hidden"> (${d.event_type})</span></a></td></tr>`,
  )}</tbody></table>`;
}

/** One page of a delivery log (all endpoints, or one), with its pager; a cursor that is not a delivery id is refused. */
async function logSection(ctx: HubContext, request: FastifyRequest, t: T, merchantId: string, path: string, endpointId?: string) {
  const after = one((request.query as Query).after);
  if (after && !DELIVERY_ID.test(after)) return { ok: false, body: alert(t('bad_cursor')) };
  const { rows, nextCursor } = await deliveryLog(ctx, merchantId, { endpointId, startingAfter: after || undefined, limit: PAGE_SIZE });
  const pager = html`<nav class="pager" aria-label="${t('pages')}">${after ? html`<a href="${link(request, merchantId, path)}">${t('first_page')}</a>` : ''}${
    nextCursor ? html`<a href="${link(request, merchantId, path, { after: nextCursor })}">${t('next_page')}</a>` : ''
  }</nav>`;
  return { ok: true, body: html`${logTable(request, t, merchantId, rows, !endpointId)}${pager}` };
}

async function endpointPage(ctx: HubContext, flash: Flash<ShownSecret>, request: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply) {
  const t = strings.in(request.console!.language);
  if (!ENDPOINT_ID.test(request.params.id)) throw new NotFoundError('no such endpoint');
  const merchant = await requireMerchant(ctx, request);
  const e = await getWebhookEndpoint(ctx, merchant.id, request.params.id);
  const shownId = (request.query as Query).shown;
  if (shownId !== undefined) {
    const shown = flash.take(request, one(shownId));
    if (shown && shown.merchantId === merchant.id && shown.endpointId === e.id)
      return secretPage(request, reply, merchant.id, e, shown.secret, shown.previousUntil ? new Date(shown.previousUntil) : null);
  }
  const path = `/endpoints/${e.id}`;
  const log = await logSection(ctx, request, t, merchant.id, path, e.id);
  const done = one((request.query as Query).done);
  const fact = (label: string, value: Html | string) => html`<dt>${label}</dt><dd>${value}</dd>`;
  const overlap = e.previous_secret_expires_at && new Date(e.previous_secret_expires_at).getTime() > Date.now() ? e.previous_secret_expires_at : null;
  const actions = mayChange(request)
    ? html`<h2>${t('actions')}</h2><div class="actions">
<form method="post" action="${`/console/webhooks/endpoints/${e.id}/status`}">${merchantFields(request, merchant.id)}<input type="hidden" name="status" value="${e.status === 'active' ? 'disabled' : 'active'}"><button type="submit"${e.status === 'active' ? new Html(' class="danger" aria-describedby="w-disable-help"') : ''}>${e.status === 'active' ? t('disable') : t('enable')}</button></form>
<form method="post" action="${`/console/webhooks/endpoints/${e.id}/rotate`}" hx-post="${`/console/webhooks/endpoints/${e.id}/rotate`}" hx-target="main" hx-select="main" hx-swap="outerHTML">${merchantFields(request, merchant.id)}<button type="submit" aria-describedby="w-rotate-help">${t('rotate')}</button></form></div>
${e.status === 'active' ? html`<p id="w-disable-help" class="muted">${t('disable_help')}</p>` : ''}<p id="w-rotate-help" class="muted">${t('rotate_help')}</p>`
    : html`<p class="muted">${t('view_only')}</p>`;
  return page(request, reply, {
    title: t('endpoint_title'),
    section: 'webhooks',
    status: log.ok ? 200 : 400,
    body: html`<p><a href="${link(request, merchant.id, '/')}">${t('back')}</a></p><h1>${t('endpoint_title')}</h1>${merchantLine(request, t, merchant)}${notice(
      done === 'enabled' ? t('done_enabled') : done === 'disabled' ? t('done_disabled') : shownId !== undefined ? t('secret_gone') : undefined,
    )}
<dl class="facts">${fact(t('url'), html`<span class="url">${e.url}</span>`)}${fact(t('endpoint_id'), e.id)}${fact(t('events'), eventsText(t, e.events))}${fact(
      t('status'),
      html`<span class="status">${endpointStatus(t, e.status)}</span>`,
    )}${e.payment_id ? fact(t('for_payment'), html`<a href="${`/console/payments/${e.payment_id}`}">${e.payment_id}</a>`) : ''}${fact(t('created'), timeTag(e.created_at))}${fact(
      t('updated'),
      timeTag(e.updated_at),
    )}${overlap ? fact(t('previous_secret_until'), timeTag(overlap)) : ''}</dl>
${actions}<h2>${t('log_of_endpoint')}</h2>${log.body}`,
  });
}

async function setStatus(ctx: HubContext, request: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply) {
  if (!ENDPOINT_ID.test(request.params.id)) throw new NotFoundError('no such endpoint');
  const merchant = await requireMerchant(ctx, request);
  await getWebhookEndpoint(ctx, merchant.id, request.params.id);
  if (!mayChange(request)) return forbidden(request, reply);
  const status = formOf(request).status === 'active' ? 'active' : 'disabled';
  try {
    await updateWebhookEndpoint(ctx, merchant.id, request.params.id, { status });
  } catch (e) {
    if (!(e instanceof ConflictError)) throw e;
    const t = strings.in(request.console!.language);
    return messagePage(request, reply, 409, t('endpoint_title'), t('too_many'));
  }
  return reply.redirect(link(request, merchant.id, `/endpoints/${request.params.id}`, { done: status === 'active' ? 'enabled' : 'disabled' }), 303);
}

async function rotate(ctx: HubContext, flash: Flash<ShownSecret>, request: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply) {
  if (!ENDPOINT_ID.test(request.params.id)) throw new NotFoundError('no such endpoint');
  const merchant = await requireMerchant(ctx, request);
  await getWebhookEndpoint(ctx, merchant.id, request.params.id);
  if (!mayChange(request)) return forbidden(request, reply);
  const { endpoint, secret, previousValidUntil } = await rotateWebhookSecret(ctx, merchant.id, request.params.id);
  return showOnce(flash, request, reply, merchant.id, endpoint.id, secret, previousValidUntil);
}

async function allDeliveriesPage(ctx: HubContext, request: FastifyRequest, reply: FastifyReply) {
  const t = strings.in(request.console!.language);
  const merchant = await merchantInScope(ctx, request);
  if (!merchant) return merchantPicker(ctx, request, reply);
  const log = await logSection(ctx, request, t, merchant.id, '/deliveries');
  return page(request, reply, {
    title: t('log_all'),
    section: 'webhooks',
    status: log.ok ? 200 : 400,
    body: html`<p><a href="${link(request, merchant.id, '/')}">${t('back')}</a></p><h1>${t('log_all')}</h1>${merchantLine(request, t, merchant)}${log.body}`,
  });
}

async function deliveryPage(
  ctx: HubContext,
  request: FastifyRequest<{ Params: { id: string } }>,
  reply: FastifyReply,
  options: { status?: number; alert?: string } = {},
) {
  const t = strings.in(request.console!.language);
  if (!DELIVERY_ID.test(request.params.id)) throw new NotFoundError('no such delivery');
  const merchant = await requireMerchant(ctx, request);
  const { delivery: d, attempts } = await deliveryWithAttempts(ctx, merchant.id, request.params.id);
  const endpoint = await getWebhookEndpoint(ctx, merchant.id, d.endpoint_id);
  const done = one((request.query as Query).done);
  const fact = (label: string, value: Html | string | number) => html`<dt>${label}</dt><dd>${value}</dd>`;
  const attemptRows = attempts.map(
    (a, i) =>
      html`<tr><td class="num">${i + 1}</td><td>${timeTag(a.attempted_at)}</td><td>${a.status_code ?? t('no_answer')}</td><td class="num">${t('ms', { ms: a.duration_ms })}</td><td>${a.error ?? ''}</td><td>${
        a.response_body ? html`<code class="answer">${printableExcerpt(a.response_body, WEBHOOK_ANSWER_EXCERPT_CHARS)}</code>` : ''
      }</td></tr>`,
  );
  const attemptsTable = attempts.length
    ? html`<table><caption class="muted">${t('attempts_caption')}</caption><thead><tr><th scope="col" class="num">${t('attempt')}</th><th scope="col">${t('time')}</th><th scope="col">${t('http_status')}</th><th scope="col" class="num">${t('duration')}</th><th scope="col">${t('error')}</th><th scope="col">${t('answer')}</th></tr></thead><tbody>${attemptRows}</tbody></table>`
    : html`<p role="status">${t('no_attempts')}</p>`;
  const action = !mayChange(request)
    ? html`<p class="muted">${t('view_only')}</p>`
    : endpoint.status === 'active'
      ? html`<form method="post" action="${`/console/webhooks/deliveries/${d.id}/redeliver`}">${merchantFields(request, merchant.id)}<button type="submit" aria-describedby="w-redeliver-help">${t('redeliver')}</button></form><p id="w-redeliver-help" class="muted">${t('redeliver_help')}</p>`
      : html`<p class="muted">${t('redeliver_disabled')}</p>`;
  const title = t('delivery_title', { type: d.event_type });
  return page(request, reply, {
    title,
    section: 'webhooks',
    status: options.status,
    body: html`<p><a href="${link(request, merchant.id, '/deliveries')}">${t('log_all')}</a></p><h1>${title}</h1>${merchantLine(request, t, merchant)}${alert(options.alert)}${notice(
      done === 'redelivered' ? t('done_redelivered') : undefined,
    )}
<dl class="facts">${fact(t('delivery_id'), d.id)}${fact(t('event_id'), d.event_id)}${fact(t('event'), html`<code>${d.event_type}</code>`)}${
      d.payment_id ? fact(t('payment'), html`<a href="${`/console/payments/${d.payment_id}`}">${d.order_id ?? d.payment_id}</a>`) : ''
    }${fact(t('endpoint'), html`<a href="${link(request, merchant.id, `/endpoints/${endpoint.id}`)}">${endpoint.url}</a>`)}${fact(
      t('status'),
      html`<span class="status">${deliveryStatus(t, d.status)}</span>`,
    )}${fact(t('attempts'), d.attempts)}${d.status === 'pending' ? fact(t('next_attempt'), timeTag(d.next_attempt_at)) : ''}${
      d.delivered_at ? fact(t('delivered_at'), timeTag(d.delivered_at)) : ''
    }${fact(t('created'), timeTag(d.created_at))}</dl>
${action}<h2>${t('attempt_log')}</h2>${attemptsTable}`,
  });
}

async function redeliverOne(ctx: HubContext, request: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply) {
  if (!DELIVERY_ID.test(request.params.id)) throw new NotFoundError('no such delivery');
  const merchant = await requireMerchant(ctx, request);
  await deliveryWithAttempts(ctx, merchant.id, request.params.id);
  if (!mayChange(request)) return forbidden(request, reply);
  try {
    await redeliver(ctx, merchant.id, request.params.id);
  } catch (e) {
    if (!(e instanceof ConflictError)) throw e;
    return deliveryPage(ctx, request, reply, { status: 409, alert: strings.in(request.console!.language)('redeliver_disabled') });
  }
  return reply.redirect(link(request, merchant.id, `/deliveries/${request.params.id}`, { done: 'redelivered' }), 303);
}

export const webhooksSection = defineSection({
  name: 'webhooks',
  roles: ['operator', 'admin', 'viewer'],
  order: 40,
  navLabel: (language) => strings.in(language)('nav'),
  routes: async (app: FastifyInstance, { ctx }) => {
    const hide = { schema: { hide: true } };
    app.get('/', hide, (request, reply) => listPage(ctx, request, reply));
    const flash = createFlash<ShownSecret>();
    app.post('/endpoints', hide, (request, reply) => create(ctx, flash, request, reply));
    app.get<{ Params: { id: string } }>('/endpoints/:id', hide, (request, reply) => endpointPage(ctx, flash, request, reply));
    app.post<{ Params: { id: string } }>('/endpoints/:id/status', hide, (request, reply) => setStatus(ctx, request, reply));
    app.post<{ Params: { id: string } }>('/endpoints/:id/rotate', hide, (request, reply) => rotate(ctx, flash, request, reply));
    app.get('/deliveries', hide, (request, reply) => allDeliveriesPage(ctx, request, reply));
    app.get<{ Params: { id: string } }>('/deliveries/:id', hide, (request, reply) => deliveryPage(ctx, request, reply));
    app.post<{ Params: { id: string } }>('/deliveries/:id/redeliver', hide, (request, reply) => redeliverOne(ctx, request, reply));
  },
});
