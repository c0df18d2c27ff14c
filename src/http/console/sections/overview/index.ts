import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { toDecimalString } from '../../../../core/money.js';
import { html, Html } from '../../../../html/template.js';
import type { HubContext } from '../../../../services/context.js';
import { listMerchants } from '../../../../services/merchants.js';
import {
  DEFAULT_OVERVIEW_PERIOD,
  isOverviewPeriod,
  OVERVIEW_PERIODS,
  paymentsOverview,
  type Overview,
  type OverviewPeriod,
} from '../../../../services/overview.js';
import { page } from '../../layout.js';
import { assetPath, defineSection, type ConsoleAsset } from '../../registry.js';
import { strings } from './strings.js';
import { money, one, selected } from '../../kit.js';

/**
 * The overview, the console's first page: for the payments created in the last 7, 30 or 90 days (UTC days) of the
 * user's merchant, or of every merchant or one of them for the operator: payments and paid volume by day, each
 * connection's success rate, the most frequent decline reasons, and the payments waiting (pending, or with an
 * attempt whose outcome is unknown) with links to the payment list showing them. The charts are drawn by Chart.js
 * (served by the hub, no CDN) from the data tables they stand beside, which are what a browser without script, or
 * a screen reader, gets.
 */

type T = ReturnType<typeof strings.in>;
type Query = Record<string, string | string[] | undefined>;

const require = createRequire(import.meta.url);
const chartJsDir = dirname(require.resolve('chart.js'));
const chartJsVersion = (JSON.parse(readFileSync(join(chartJsDir, '..', 'package.json'), 'utf8')) as { version: string }).version;
/** Chart.js's UMD build as installed, at a path carrying its version (without its source-map comment: the map is not served). */
const CHART_JS: ConsoleAsset = {
  file: `chart-${chartJsVersion}.umd.min.js`,
  type: 'text/javascript; charset=utf-8',
  body: readFileSync(join(chartJsDir, 'chart.umd.min.js'), 'utf8').replace(/\n?\/\/# sourceMappingURL=\S+\s*$/, '\n'),
};
const chartsSource = readFileSync(new URL('./charts.browser.js', import.meta.url), 'utf8');
/** The overview's own script (draws the charts from the tables), at a path carrying its hash. */
const CHARTS: ConsoleAsset = {
  file: `overview-charts-${createHash('sha256').update(chartsSource).digest('hex').slice(0, 12)}.js`,
  type: 'text/javascript; charset=utf-8',
  body: chartsSource,
};

const percent = (rate: number) => `${(rate * 100).toFixed(1)}%`;

interface FigureOptions {
  id: string;
  kind: 'bar' | 'line';
  horizontal?: boolean;
  unit: 'count' | 'money' | 'percent';
  caption: string;
  /** The canvas's accessible name: what the chart shows, and that the table has the numbers. */
  chartLabel: string;
  /** The table's header row and body rows (header cells with data-series are the chart's series). */
  head: Html;
  rows: Html[];
}

/**
 * A chart and its table. Without script the table is open and no chart box takes room; the script draws the chart
 * in the box and folds the table into its <details>.
 */
function figure(t: T, o: FigureOptions): Html {
  return html`<figure class="chart" id="${o.id}" data-chart="${o.kind}" data-unit="${o.unit}"${o.horizontal ? new Html(' data-axis="y"') : ''} data-chart-label="${o.chartLabel}">
<figcaption id="${`${o.id}-caption`}">${o.caption}</figcaption><div class="chart-box" hidden></div>
<details open><summary>${t('show_table')}</summary><table aria-labelledby="${`${o.id}-caption`}"><thead>${o.head}</thead><tbody>${o.rows}</tbody></table></details></figure>`;
}

function byDayFigure(t: T, o: Overview): Html {
  return figure(t, {
    id: 'chart-by-day',
    kind: 'bar',
    unit: 'count',
    caption: t('by_day_caption'),
    chartLabel: t('by_day_chart'),
    head: html`<tr><th scope="col">${t('day')}</th><th scope="col" class="num" data-series="created">${t('created')}</th><th scope="col" class="num" data-series="paid">${t('paid')}</th></tr>`,
    rows: o.days.map(
      (d) =>
        html`<tr><th scope="row" data-label="${d.day.slice(5)}">${d.day}</th><td class="num" data-value="${d.created}">${d.created}</td><td class="num" data-value="${d.paid}">${d.paid}</td></tr>`,
    ),
  });
}

function volumeFigures(t: T, o: Overview): Html[] {
  return o.volume.map(
    (v) =>
      html`<p>${t('volume_summary', { total: money(v.total, v.currency), paid: v.paid })}</p>${figure(t, {
        id: `chart-volume-${v.currency.toLowerCase()}`,
        kind: 'bar',
        unit: 'money',
        caption: t('volume_currency', { currency: v.currency }),
        chartLabel: t('volume_chart', { currency: v.currency }),
        head: html`<tr><th scope="col">${t('day')}</th><th scope="col" class="num" data-series="amount">${t('amount', { currency: v.currency })}</th></tr>`,
        rows: v.days.map((d) => {
          const amount = toDecimalString(d.amount, v.currency);
          return html`<tr><th scope="row" data-label="${d.day.slice(5)}">${d.day}</th><td class="num" data-value="${amount}">${amount}</td></tr>`;
        }),
      })}`,
  );
}

function successFigure(t: T, o: Overview, merchantNames: Map<string, string> | null): Html {
  const name = (c: Overview['connections'][number]) => (merchantNames ? `${c.code} · ${merchantNames.get(c.merchantId) ?? c.merchantId}` : c.code);
  return figure(t, {
    id: 'chart-success',
    kind: 'bar',
    horizontal: true,
    unit: 'percent',
    caption: t('success_caption'),
    chartLabel: t('success_chart'),
    head: html`<tr><th scope="col">${t('connection')}</th><th scope="col">${t('provider')}</th><th scope="col" class="num">${t('created')}</th><th scope="col" class="num">${t('paid')}</th><th scope="col" class="num">${t('final')}</th><th scope="col" class="num" data-series="rate">${t('rate')}</th></tr>`,
    rows: o.connections.map(
      (c) =>
        html`<tr><th scope="row">${name(c)}</th><td>${c.provider}</td><td class="num">${c.created}</td><td class="num">${c.paid}</td><td class="num">${c.final}</td><td class="num" data-value="${c.rate === null ? '' : (c.rate * 100).toFixed(1)}">${c.rate === null ? t('no_rate') : percent(c.rate)}</td></tr>`,
    ),
  });
}

function declineFigure(t: T, o: Overview): Html {
  return figure(t, {
    id: 'chart-declines',
    kind: 'bar',
    horizontal: true,
    unit: 'count',
    caption: t('decline_caption'),
    chartLabel: t('decline_chart'),
    head: html`<tr><th scope="col">${t('code')}</th><th scope="col">${t('provider')}</th><th scope="col">${t('reason')}</th><th scope="col" class="num" data-series="attempts">${t('attempts')}</th></tr>`,
    rows: o.declines.map((d) => {
      const code = d.code ?? t('no_code');
      const label = d.message ? `${code} · ${d.message}` : code;
      return html`<tr><th scope="row" data-label="${label.length > 48 ? `${label.slice(0, 47)}…` : label}">${code}</th><td>${d.provider}</td><td>${d.message ?? ''}</td><td class="num" data-value="${d.attempts}">${d.attempts}</td></tr>`;
    }),
  });
}

async function overviewPage(ctx: HubContext, request: FastifyRequest<{ Querystring: Query }>, reply: FastifyReply) {
  const t = strings.in(request.console!.language);
  const session = request.console!.session!;
  const operator = session.role === 'operator';
  const merchants = operator ? await listMerchants(ctx) : [];
  const errors: string[] = [];
  const daysText = one(request.query.days);
  let period: OverviewPeriod = DEFAULT_OVERVIEW_PERIOD;
  if (daysText) {
    const days = /^\d{1,3}$/.test(daysText) ? Number(daysText) : Number.NaN;
    if (isOverviewPeriod(days)) period = days;
    else errors.push(t('bad_choice', { what: t('bad_period') }));
  }
  let merchantFilter = '';
  const wanted = operator ? one(request.query.merchant) : '';
  if (wanted) {
    if (merchants.some((m) => m.id === wanted)) merchantFilter = wanted;
    else errors.push(t('bad_choice', { what: t('bad_merchant') }));
  }
  if (errors.length) {
    period = DEFAULT_OVERVIEW_PERIOD;
    merchantFilter = '';
  }
  const scope = operator ? merchantFilter || null : session.merchantId;
  const o = await paymentsOverview(ctx, scope, period);
  const names = operator ? new Map(merchants.map((m) => [m.id, m.name])) : null;
  const from = o.days[0]!.day;
  const to = o.days[o.days.length - 1]!.day;
  const who = !operator ? t('scope_own') : merchantFilter ? t('scope_merchant', { merchant: names!.get(merchantFilter)! }) : t('scope_all');

  const form = html`<form class="filters" method="get" action="/console/overview" aria-label="${t('choose')}">
<div><label for="o-days">${t('period')}</label><select id="o-days" name="days">${OVERVIEW_PERIODS.map(
    (d) => html`<option value="${d}"${selected(d === period)}>${t('last_days', { days: d })}</option>`,
  )}</select></div>${
    operator
      ? html`<div><label for="o-merchant">${t('merchant')}</label><select id="o-merchant" name="merchant"><option value="">${t('all_merchants')}</option>${merchants.map(
          (m) => html`<option value="${m.id}"${selected(m.id === merchantFilter)}>${m.name}</option>`,
        )}</select></div>`
      : ''
  }<div><button type="submit">${t('show')}</button></div></form>`;

  // The payments behind a figure, of the same merchant when the operator looks at one.
  const listLink = (status: string) =>
    `/console/payments?${new URLSearchParams({ ...(merchantFilter ? { merchant: merchantFilter } : {}), status, from }).toString()}`;
  const waiting = html`<section aria-labelledby="waiting-heading"><h2 id="waiting-heading">${t('waiting')}</h2><ul class="tiles">
<li><span class="big" id="waiting-pending">${o.waiting.pending}</span> ${t('waiting_pending')}<p class="muted">${t('waiting_pending_hint')}</p><a href="${listLink('pending')}" aria-describedby="waiting-pending">${t('waiting_link')}: ${t('waiting_pending')}</a></li>
<li><span class="big" id="waiting-unknown">${o.waiting.unknown}</span> ${t('waiting_unknown')}<p class="muted">${t('waiting_unknown_hint')}</p><a href="${listLink('unknown')}" aria-describedby="waiting-unknown">${t('waiting_link')}: ${t('waiting_unknown')}</a></li>
</ul></section>`;

  const body =
    o.created === 0
      ? html`${waiting}<p role="status">${t('none')}</p>`
      : html`${waiting}
<section aria-labelledby="by-day-heading"><h2 id="by-day-heading">${t('by_day')}</h2><p>${t('by_day_summary', { created: o.created, paid: o.paid })}</p>${byDayFigure(t, o)}</section>
<section aria-labelledby="volume-heading"><h2 id="volume-heading">${t('volume')}</h2>${o.volume.length ? volumeFigures(t, o) : html`<p>${t('volume_none')}</p>`}</section>
<section aria-labelledby="success-heading"><h2 id="success-heading">${t('success')}</h2><p class="muted">${t('success_hint')}</p>${successFigure(t, o, names)}</section>
<section aria-labelledby="decline-heading"><h2 id="decline-heading">${t('decline')}</h2><p class="muted">${t('decline_hint')}</p>${o.declines.length ? declineFigure(t, o) : html`<p>${t('decline_none')}</p>`}</section>
<script src="${assetPath(CHART_JS)}" defer></script><script src="${assetPath(CHARTS)}" defer></script>`;

  return page(request, reply, {
    title: t('title'),
    section: 'overview',
    status: errors.length ? 400 : 200,
    body: html`<h1>${t('title')}</h1>${form}${errors.map((e) => html`<div class="alert" role="alert">${e}</div>`)}<p class="muted" id="overview-scope">${t('scope', { from, to, merchant: who })}</p>${body}`,
  });
}

export const overviewSection = defineSection({
  name: 'overview',
  roles: ['operator', 'admin', 'viewer'],
  order: 0,
  navLabel: (language) => strings.in(language)('nav'),
  assets: [CHART_JS, CHARTS],
  routes: async (app: FastifyInstance, { ctx }) => {
    app.get<{ Querystring: Query }>('/', { schema: { hide: true } }, (request, reply) => overviewPage(ctx, request, reply));
  },
});
