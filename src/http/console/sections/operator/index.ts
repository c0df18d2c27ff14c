import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { html, Html } from '../../../../html/template.js';
import type { HubContext } from '../../../../services/context.js';
import { hubHealth } from '../../../../services/health.js';
import { createMerchant } from '../../../../services/merchants.js';
import { merchantSummaries, onpayPartners } from '../../../../services/operator.js';
import { createOnpayPartner } from '../../../../services/onpay/partners.js';
import { page } from '../../layout.js';
import { defineSection } from '../../registry.js';
import { strings } from './strings.js';
import { createFlash } from '../../flash.js';
import { csrfField, formOf, seeOther, when } from '../../kit.js';

/**
 * The operator's pages (the operator only: a merchant's admin or viewer is refused, and the navigation does not
 * show it): the hub's health (how late this process's janitors and the webhook delivery loop are, due and failed
 * deliveries, the inbox's backlog, notifications refused in the last hour by reason, the database, the version),
 * the merchants (with what each has; creating one shows its API key once) and the OnPay partners (registering one
 * shows its API key and activation key once, on the page the form's 303 leads to: a reload makes nothing again).
 * Everything through the same services as the operator's API.
 */

type T = ReturnType<typeof strings.in>;

/** A duration as people read it: 850 ms, 12.4 s, 3 min 5 s, 2 h 10 min, 3 d 4 h. */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const whole = Math.floor(s);
  if (whole < 3600) return `${Math.floor(whole / 60)} min ${whole % 60} s`;
  if (whole < 86_400) return `${Math.floor(whole / 3600)} h ${Math.floor((whole % 3600) / 60)} min`;
  return `${Math.floor(whole / 86_400)} d ${Math.floor((whole % 86_400) / 3600)} h`;
}

/** A size in bytes as people read it (powers of 1024). */
export function size(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

const SUBPAGES = [
  { key: 'health_nav', href: '/console/operator' },
  { key: 'merchants_nav', href: '/console/operator/merchants' },
  { key: 'onpay_nav', href: '/console/operator/onpay' },
] as const;

function subnav(t: T, current: string) {
  return html`<nav class="subnav" aria-label="${t('subnav')}"><ul>${SUBPAGES.map(
    (p) => html`<li><a href="${p.href}"${p.href === current ? new Html(' aria-current="page"') : ''}>${t(p.key)}</a></li>`,
  )}</ul></nav>`;
}

const fact = (label: string, value: Html | string | number, id?: string) => html`<dt>${label}</dt><dd${id ? new Html(` id="${id}"`) : ''}>${value}</dd>`;

async function healthPage(ctx: HubContext, request: FastifyRequest, reply: FastifyReply) {
  const t = strings.in(request.console!.language);
  const h = await hubHealth(ctx);
  const w = h.worker;
  const d = h.deliveries;
  const refused = h.refusedLastHour.length
    ? html`<table id="refused"><caption class="muted">${t('refused_caption')}</caption><thead><tr><th scope="col">${t('processor')}</th><th scope="col">${t('reason')}</th><th scope="col" class="num">${t('count')}</th><th scope="col">${t('last_at')}</th></tr></thead><tbody>${h.refusedLastHour.map(
        (r) => html`<tr><td>${r.provider}</td><td>${r.reason || t('no_reason')}</td><td class="num">${r.count}</td><td>${when(r.lastAt)}</td></tr>`,
      )}</tbody></table>`
    : html`<p id="refused">${t('refused_none')}</p>`;
  const db = h.database;
  const body = html`<div id="health" hx-get="/console/operator" hx-trigger="every 15s" hx-select="#health" hx-target="#health" hx-swap="outerHTML">
<p class="muted">${t('health_at', { time: when(h.at) })} <a href="/console/operator">${t('refresh')}</a></p>
<div class="cards">
<section aria-labelledby="h-worker"><h2 id="h-worker">${t('worker')}</h2><p>${w.running ? t('worker_running', { every: duration(w.pollMs), passes: w.passes }) : t('worker_not_running')}</p>
<dl class="facts">${w.running ? html`${fact(t('janitors_late'), duration(w.janitorsLateMs), 'janitors-late')}${fact(t('last_pass'), w.lastPassEndedAt && w.lastPassMs !== null ? t('last_pass_value', { ago: duration(Math.max(0, h.at.getTime() - new Date(w.lastPassEndedAt).getTime())), took: duration(w.lastPassMs) }) : t('never'))}` : ''}</dl></section>
<section aria-labelledby="h-deliveries"><h2 id="h-deliveries">${t('deliveries')}</h2><dl class="facts">${fact(t('due'), d.due, 'deliveries-due')}${fact(t('oldest_due'), duration(d.oldestDueMs), 'delivery-lag')}${fact(t('retrying'), d.retrying, 'deliveries-retrying')}${fact(t('failed'), t('failed_value', { all: d.failed, day: d.failedLastDay }), 'deliveries-failed')}</dl></section>
<section aria-labelledby="h-inbox"><h2 id="h-inbox">${t('inbox')}</h2><dl class="facts">${fact(t('inbox_waiting'), h.inbox.waiting, 'inbox-waiting')}${fact(t('inbox_oldest'), duration(h.inbox.oldestMs))}</dl></section>
<section aria-labelledby="h-database"><h2 id="h-database">${t('database')}</h2><dl class="facts">${fact(
    t('db_kind'),
    db.kind === 'pglite' ? t('db_pglite', { version: db.version, postgres: db.postgresVersion }) : t('db_postgresql', { version: db.version }),
    'database-kind',
  )}${db.sizeBytes !== null ? fact(t('db_size'), size(db.sizeBytes)) : ''}</dl></section>
<section aria-labelledby="h-hub"><h2 id="h-hub">${t('hub')}</h2><dl class="facts">${fact(t('hub_version'), h.process.version, 'hub-version')}${fact(t('uptime'), duration(h.process.uptimeS * 1000))}${fact(t('node'), h.process.node)}</dl></section>
</div>
<h2>${t('refused')}</h2>${refused}</div>`;
  return page(request, reply, {
    title: t('health_title'),
    section: 'operator',
    body: html`${subnav(t, '/console/operator')}<h1>${t('health_title')}</h1>${body}`,
  });
}

/** A name as the operator's API takes it (`CreateMerchantBody`: 1 to 200 characters). */
function nameFrom(request: FastifyRequest): string | undefined {
  const name = typeof formOf(request).name === 'string' ? formOf(request).name!.trim() : '';
  return name.length >= 1 && name.length <= 200 ? name : undefined;
}

/** A secret shown once: read-only, selectable, labelled. */
const secretField = (id: string, label: string, value: string) =>
  html`<label for="${id}">${label}</label><input id="${id}" class="secret" type="text" readonly value="${value}" autocomplete="off" spellcheck="false">`;

async function merchantsPage(
  ctx: HubContext,
  request: FastifyRequest,
  reply: FastifyReply,
  options: { status?: number; alert?: string; name?: string; created?: Html } = {},
) {
  const t = strings.in(request.console!.language);
  const merchants = await merchantSummaries(ctx);
  const table = merchants.length
    ? html`<table id="merchants"><caption class="muted">${t('merchants_caption', { count: merchants.length })}</caption><thead><tr><th scope="col">${t('name')}</th><th scope="col">${t('merchant_id')}</th><th scope="col" class="num">${t('live_keys')}</th><th scope="col" class="num">${t('payments')}</th><th scope="col" class="num">${t('connections')}</th><th scope="col" class="num">${t('users')}</th><th scope="col">${t('onpay_partner')}</th><th scope="col">${t('created')}</th></tr></thead><tbody>${merchants.map(
        (m) =>
          html`<tr><td>${m.name}</td><td><code>${m.id}</code></td><td class="num">${m.live_keys}</td><td class="num">${m.payments}</td><td class="num">${m.connections}</td><td class="num">${m.users}</td><td>${m.onpay_partner ? t('yes') : t('no')}</td><td>${when(m.created_at)}</td></tr>`,
      )}</tbody></table>`
    : html`<p>${t('merchants_none')}</p>`;
  return page(request, reply, {
    title: t('merchants_title'),
    section: 'operator',
    status: options.status,
    body: html`${subnav(t, '/console/operator/merchants')}<h1>${t('merchants_title')}</h1>${options.created ?? ''}
<form class="filters" method="post" action="/console/operator/merchants">${csrfField(request)}<div><label for="merchant-name">${t('merchant_name')}</label><input id="merchant-name" name="name" type="text" required maxlength="200" size="40" value="${options.name ?? ''}"${options.alert ? new Html(' aria-invalid="true" aria-describedby="name-error"') : ''}></div><div><button type="submit">${t('create_merchant')}</button></div></form>
${options.alert ? html`<div class="alert" role="alert" id="name-error">${options.alert}</div>` : ''}${table}`,
  });
}

async function partnersPage(
  ctx: HubContext,
  request: FastifyRequest,
  reply: FastifyReply,
  options: { status?: number; alert?: string; name?: string; created?: Html } = {},
) {
  const t = strings.in(request.console!.language);
  const partners = await onpayPartners(ctx);
  const table = partners.length
    ? html`<table id="partners"><caption class="muted">${t('onpay_caption', { count: partners.length })}</caption><thead><tr><th scope="col">${t('name')}</th><th scope="col">${t('merchant_id')}</th><th scope="col">${t('activation')}</th><th scope="col">${t('created')}</th></tr></thead><tbody>${partners.map(
        (p) =>
          html`<tr><td>${p.name}</td><td><code>${p.merchant_id}</code></td><td>${p.activated_at ? t('activated', { time: when(p.activated_at), prefix: `${p.key_prefix ?? ''}…` }) : t('not_activated')}</td><td>${when(p.created_at)}</td></tr>`,
      )}</tbody></table>`
    : html`<p>${t('onpay_none')}</p>`;
  return page(request, reply, {
    title: t('onpay_title'),
    section: 'operator',
    status: options.status,
    body: html`${subnav(t, '/console/operator/onpay')}<h1>${t('onpay_title')}</h1><p>${t('onpay_intro')}</p>${options.created ?? ''}
<form class="filters" method="post" action="/console/operator/onpay">${csrfField(request)}<div><label for="partner-name">${t('partner_name')}</label><input id="partner-name" name="name" type="text" required maxlength="200" size="40" value="${options.name ?? ''}"${options.alert ? new Html(' aria-invalid="true" aria-describedby="name-error"') : ''}></div><div><button type="submit">${t('create_partner')}</button></div></form>
${options.alert ? html`<div class="alert" role="alert" id="name-error">${options.alert}</div>` : ''}${table}`,
  });
}

export const operatorSection = defineSection({
  name: 'operator',
  roles: ['operator'],
  order: 90,
  navLabel: (language) => strings.in(language)('nav'),
  routes: async (app: FastifyInstance, { ctx }) => {
    app.get('/', { schema: { hide: true } }, (request, reply) => healthPage(ctx, request, reply));
    // What a form made is shown once, on the page its 303 leads to (flash.ts): a reload neither shows it nor makes another.
    const flash = createFlash<Html>();
    const shownOnce = (request: FastifyRequest): { created?: Html } => {
      const id = (request.query as Record<string, unknown>).shown;
      if (id === undefined) return {};
      return { created: flash.take(request, id) ?? html`<div class="ok" role="status">${strings.in(request.console!.language)('shown_gone')}</div>` };
    };
    app.get('/merchants', { schema: { hide: true } }, (request, reply) => merchantsPage(ctx, request, reply, shownOnce(request)));
    app.post('/merchants', { schema: { hide: true } }, async (request, reply) => {
      const t = strings.in(request.console!.language);
      const name = nameFrom(request);
      if (!name) return merchantsPage(ctx, request, reply, { status: 400, alert: t('name_invalid'), name: String(formOf(request).name ?? '').slice(0, 200) });
      const { merchant, apiKey } = await createMerchant(ctx, name);
      request.log.info({ merchant: merchant.id, console: 'merchant created' }, 'the operator created a merchant in the console');
      const created = html`<div class="ok" role="status"><p>${t('merchant_created', { name: merchant.name, id: merchant.id })}</p><p>${t('key_once')}</p>${secretField('new-api-key', t('api_key'), apiKey)}</div>`;
      return seeOther(request, reply, `/console/operator/merchants?shown=${flash.put(request, created)}`);
    });
    app.get('/onpay', { schema: { hide: true } }, (request, reply) => partnersPage(ctx, request, reply, shownOnce(request)));
    app.post('/onpay', { schema: { hide: true } }, async (request, reply) => {
      const t = strings.in(request.console!.language);
      const name = nameFrom(request);
      if (!name) return partnersPage(ctx, request, reply, { status: 400, alert: t('name_invalid'), name: String(formOf(request).name ?? '').slice(0, 200) });
      const partner = await createOnpayPartner(ctx, name);
      request.log.info({ merchant: partner.merchantId, console: 'onpay partner created' }, 'the operator registered an OnPay partner in the console');
      const created = html`<div class="ok" role="status"><p>${t('partner_created', { name, id: partner.merchantId })}</p><p>${t('partner_keys_once')}</p>${secretField('new-activation-key', t('activation_key'), partner.activationKey)}${secretField('new-api-key', t('api_key'), partner.apiKey)}</div>`;
      return seeOther(request, reply, `/console/operator/onpay?shown=${flash.put(request, created)}`);
    });
  },
});
