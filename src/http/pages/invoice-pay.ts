import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { toDecimalString } from '../../core/money.js';
import { formatQuantity } from '../../core/invoice-totals.js';
import { ConflictError, NotFoundError, type HubContext } from '../../services/context.js';
import { amountDue, invoicePayView, InvoiceNotPayable, startInvoicePayment, type InvoicePayView } from '../../services/invoices/index.js';
import { paymentPageUrl } from '../../services/hub-urls.js';
import { ValidationError } from '../../core/validation.js';
import { html, Html } from '../../html/template.js';
import { sendPayerPage } from './payer-page.js';
import { chooseLanguage, fill } from '../../html/language.js';
import { INVOICE_PAGE_LANGUAGES, INVOICE_PAGE_TEXT, type InvoicePageLanguage } from './invoice-text.js';

/**
 * An invoice's hosted pay page (`/i/{pay_token}`), the buyer's view of one document: seller, buyer, lines, totals,
 * the amount due and one button per processor it can be paid on. Pressing one POSTs here, which starts the payment
 * (through the ledger, the attempt recorded first) and sends the browser to the hub's payment page, which hands it
 * to the processor. No script at all, so the policy allows none.
 */

const STYLE = `body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f5f7f6;color:#17212b;line-height:1.5}
main{max-width:46rem;margin:2rem auto;background:#fff;padding:1.5rem 1.75rem;border-radius:8px;box-shadow:0 1px 4px rgba(0,0,0,.12)}
h1{font-size:1.3rem;margin-top:0}h2{font-size:1rem;margin:0 0 .25rem}.parties{display:flex;gap:2rem;flex-wrap:wrap;margin:1rem 0}
.parties section{flex:1 1 14rem}table{border-collapse:collapse;width:100%;margin:1rem 0}th,td{padding:.35rem .5rem;border-bottom:1px solid #dde3e0;text-align:left}
td.n,th.n{text-align:right}.amount{font-size:1.5rem;font-weight:700;margin:.25rem 0 1rem}.muted{color:#5b6672;font-size:.9rem}
button{font:inherit;padding:.6rem 1.2rem;border-radius:6px;border:0;background:#135e4b;color:#fff;cursor:pointer;margin:0 .5rem .5rem 0}
.alert{background:#fdecea;border-left:4px solid #b3261e;padding:.6rem .8rem;margin:1rem 0}.ok{background:#e6f4ea;border-left:4px solid #1e7b34;padding:.6rem .8rem;margin:1rem 0}`;

type Words = (typeof INVOICE_PAGE_TEXT)[InvoicePageLanguage];

function page(reply: FastifyReply, lang: InvoicePageLanguage, title: string, body: Html, options: { status?: number; refreshSeconds?: number } = {}) {
  // Its only form posts to the hub, which then sends the buyer to the payment page.
  return sendPayerPage(reply, {
    lang,
    title,
    body,
    style: STYLE,
    scriptSrc: "'none'",
    formAction: "'self'",
    refreshSeconds: options.refreshSeconds,
    status: options.status,
  });
}

const money = (minor: number, currency: string) => `${toDecimalString(minor, currency)} ${currency}`;
const text = (v: unknown) => (typeof v === 'string' ? v : '');

function party(t: Words, heading: string, p: Record<string, unknown> | null): Html {
  if (!p) return html``;
  const code = text(p.fiscal_code);
  const place = [text(p.address), text(p.city), text(p.county)].filter(Boolean).join(', ');
  return html`<section><h2>${heading}</h2><div>${text(p.name)}</div>${code ? html`<div class="muted">${t.fiscalCode}: ${code}</div>` : ''}${place ? html`<div class="muted">${place}</div>` : ''}</section>`;
}

function documentBody(t: Words, v: InvoicePayView): Html {
  const inv = v.invoice;
  const c = inv.currency;
  const rate = (r: string) => (r === 'exempt' ? t.exempt : `${r}%`);
  const lines = v.lines.map(
    (l) =>
      html`<tr><td>${l.description}</td><td class="n">${formatQuantity(l.quantity_thousandths)} ${l.unit}</td><td class="n">${money(l.unit_price, c)}</td><td class="n">${rate(l.vat_rate)}</td><td class="n">${money(l.net, c)}</td></tr>`,
  );
  const vat = (inv.vat_breakdown as unknown as { rate: string | number; tax_amount: number }[]).map(
    (x) => html`<tr><th scope="row" colspan="4">${fill(t.vat, { rate: rate(String(x.rate)) })}</th><td class="n">${money(x.tax_amount, c)}</td></tr>`,
  );
  const title = fill(inv.kind === 'proforma' ? t.proforma : t.invoice, { number: inv.full_number ?? '' });
  return html`<h1>${title}</h1>
<p class="muted">${fill(t.issued, { date: inv.issue_date ?? '' })}${inv.due_date ? html` · ${fill(t.due, { date: inv.due_date })}` : ''}</p>
<div class="parties">${party(t, t.seller, inv.seller as Record<string, unknown> | null)}${party(t, t.buyer, inv.buyer as Record<string, unknown>)}</div>
<table><caption class="muted">${t.lines}</caption><thead><tr><th scope="col">${t.description}</th><th scope="col" class="n">${t.quantity}</th><th scope="col" class="n">${t.unitPrice}</th><th scope="col" class="n">${t.vatRate}</th><th scope="col" class="n">${t.lineNet}</th></tr></thead>
<tbody>${lines}</tbody><tfoot><tr><th scope="row" colspan="4">${t.net}</th><td class="n">${money(inv.net, c)}</td></tr>${vat}<tr><th scope="row" colspan="4">${t.total}</th><td class="n">${money(inv.total, c)}</td></tr>${inv.amount_paid !== 0 ? html`<tr><th scope="row" colspan="4">${t.paid}</th><td class="n">${money(inv.amount_paid, c)}</td></tr>` : ''}</tfoot></table>
<p>${t.amountDue}</p><p class="amount">${money(amountDue(inv), c)}</p>`;
}

export async function invoicePayPages(app: FastifyInstance, opts: { ctx: HubContext }) {
  const { ctx } = opts;
  // The pay buttons post a form (this plugin's own parser: plugins do not share theirs).
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 4 * 1024 }, (_request, body, done) =>
    done(null, Object.fromEntries(new URLSearchParams(body as string))),
  );
  const plausible = (token: string) => /^[A-Za-z0-9_-]{20,64}$/.test(token);
  const languageOf = (request: FastifyRequest, v?: InvoicePayView) =>
    chooseLanguage(INVOICE_PAGE_LANGUAGES, [v?.invoice.language], request.headers['accept-language']);
  const notFound = (request: FastifyRequest, reply: FastifyReply) => {
    const lang = languageOf(request);
    const t = INVOICE_PAGE_TEXT[lang];
    return page(reply, lang, t.notFoundTitle, html`<h1>${t.notFoundTitle}</h1><p>${t.notFound}</p>`, { status: 404 });
  };
  const load = async (token: string) => {
    try {
      return await invoicePayView(ctx, token);
    } catch (e) {
      if (e instanceof NotFoundError) return null;
      throw e;
    }
  };

  function show(request: FastifyRequest, reply: FastifyReply, token: string, v: InvoicePayView, refusal?: string) {
    const lang = languageOf(request, v);
    const t = INVOICE_PAGE_TEXT[lang];
    const body = documentBody(t, v);
    const title = fill(v.invoice.kind === 'proforma' ? t.proforma : t.invoice, { number: v.invoice.full_number ?? '' });
    const refused = refusal ? html`<div class="alert" role="alert">${fill(t.refused, { reason: refusal })}</div>` : '';
    if (v.state === 'paid') return page(reply, lang, t.paidTitle, html`${body}<div class="ok" role="status">${t.paidText}</div>`);
    if (v.state === 'in_progress') return page(reply, lang, title, html`${body}${refused}<p role="status">${t.inProgress}</p>`, { refreshSeconds: 5 });
    if (v.state === 'closed') return page(reply, lang, title, html`${body}${refused}<p role="status">${t.closed}</p>`);
    const declined = v.lastFailure !== null ? html`<div class="alert" role="alert">${fill(t.lastDeclined, { reason: v.lastFailure || t.noReason })}</div>` : '';
    const buttons = v.connections.map((c) => html`<button type="submit" name="connection" value="${c.id}">${fill(t.payWith, { processor: c.name })}</button>`);
    return page(reply, lang, title, html`${body}${refused}${declined}<form method="post" action="${`/i/${token}`}"><p>${t.choose}</p>${buttons}</form>`);
  }

  app.get<{ Params: { token: string } }>('/i/:token', { schema: { hide: true } }, async (request, reply) => {
    if (!plausible(request.params.token)) return notFound(request, reply);
    const v = await load(request.params.token);
    if (!v) return notFound(request, reply);
    return show(request, reply, request.params.token, v);
  });

  app.post<{ Params: { token: string } }>('/i/:token', { schema: { hide: true } }, async (request, reply) => {
    const token = request.params.token;
    if (!plausible(token)) return notFound(request, reply);
    const body = request.body !== null && typeof request.body === 'object' ? (request.body as Record<string, unknown>) : {};
    const connection = typeof body.connection === 'string' ? body.connection.slice(0, 100) : '';
    try {
      const started = await startInvoicePayment(ctx, token, connection);
      // The hub's payment page hands the browser to the processor (its form, or its hosted page).
      return reply.redirect(paymentPageUrl(ctx, started.paymentId), 303);
    } catch (e) {
      if (e instanceof NotFoundError) return notFound(request, reply);
      if (!(e instanceof InvoiceNotPayable) && !(e instanceof ConflictError) && !(e instanceof ValidationError)) throw e;
      const v = await load(token);
      if (!v) return notFound(request, reply);
      const reason = e instanceof ValidationError ? e.errors.map((x) => `${x.field} ${x.message}`).join('; ') : e.message;
      reply.code(409);
      return show(request, reply, token, v, reason);
    }
  });
}
