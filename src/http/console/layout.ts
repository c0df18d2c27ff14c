import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { html, Html } from '../../html/template.js';
import { common } from './i18n.js';
import './context.js';

/**
 * The console's pages: one layout (skip link, navigation of the sections the user's role may see, who is logged in,
 * logout), served with the pay pages' strict policy: no inline script at all (script and style only from the hub),
 * no framing, nosniff, never cached. Script (htmx) only enhances: every page works without it.
 */

export const CONSOLE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

export const CONSOLE_CSS = `:root{--fg:#17212b;--muted:#4d5864;--line:#d5dbe0;--accent:#135e4b;--bg:#f5f7f6;--bad:#a1221b;--good:#1e6b31}
*{box-sizing:border-box}body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:var(--bg);color:var(--fg);line-height:1.5}
a{color:var(--accent)}a:focus,button:focus,input:focus,select:focus,summary:focus{outline:3px solid #f0b400;outline-offset:2px}
.skip{position:absolute;left:-999px;top:0;background:#fff;padding:.5rem}.skip:focus{left:.5rem}
header{background:#0f3b30;color:#fff;padding:.5rem 1rem;display:flex;flex-wrap:wrap;gap:1rem;align-items:center;justify-content:space-between}
header a{color:#fff}header .brand{font-weight:700;color:#fff;text-decoration:none}
header nav ul{list-style:none;margin:0;padding:0;display:flex;gap:1rem}header nav a[aria-current="page"]{text-decoration:underline;font-weight:700}
header .who{display:flex;gap:.75rem;align-items:center;flex-wrap:wrap;font-size:.9rem}header form{margin:0;display:inline-flex;gap:.25rem;align-items:center}
header label.lang{color:#fff;font-weight:400;margin:0}
header button,header select{font:inherit;font-size:.85rem;padding:.2rem .5rem}
main{max-width:72rem;margin:1.5rem auto;background:#fff;padding:1.25rem 1.5rem;border-radius:8px;box-shadow:0 1px 4px rgba(0,0,0,.12)}
main.narrow{max-width:28rem}h1{font-size:1.4rem;margin-top:0}h2{font-size:1.1rem}
label{display:block;font-weight:600;margin:.5rem 0 .2rem}input,select{font:inherit;padding:.4rem .5rem;border:1px solid #7a858f;border-radius:4px;max-width:100%}
.button,button{display:inline-block;font:inherit;padding:.45rem 1rem;border-radius:6px;border:0;background:var(--accent);color:#fff;text-decoration:none;cursor:pointer}
.filters{display:flex;flex-wrap:wrap;gap:.75rem;align-items:flex-end;margin-bottom:1rem}.filters div{display:flex;flex-direction:column}
table{border-collapse:collapse;width:100%;font-size:.92rem}th,td{text-align:left;padding:.4rem .5rem;border-bottom:1px solid var(--line);vertical-align:top}
th{background:#eef2f0}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.alert{background:#fdecea;border-left:4px solid var(--bad);padding:.6rem .8rem;margin:1rem 0}.ok{background:#e6f4ea;border-left:4px solid var(--good);padding:.6rem .8rem;margin:1rem 0}
.muted{color:var(--muted)}.status{font-weight:600}.pager{display:flex;gap:1rem;margin-top:1rem}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}dl.facts dt{font-weight:600}dl.facts dd{margin:0}
ol.timeline{list-style:none;padding:0;border-left:3px solid var(--line);margin-left:.5rem}ol.timeline>li{margin:0 0 1rem 0;padding-left:1rem;position:relative}
ol.timeline>li h3{font-size:1rem;margin:.1rem 0}ol.timeline time{color:var(--muted);font-size:.9rem}
pre{background:#f2f4f5;padding:.5rem;overflow:auto;max-height:20rem;font-size:.85rem;white-space:pre-wrap;word-break:break-all}
.htmx-request{opacity:.6}
figure.chart{margin:1rem 0 1.5rem}figure.chart figcaption{font-weight:600;margin-bottom:.5rem}.chart-box{position:relative;height:16rem;margin-bottom:.5rem}
figure.chart details summary{cursor:pointer;color:var(--accent)}figure.chart details table{margin-top:.5rem}
ul.tiles{list-style:none;padding:0;margin:0;display:flex;flex-wrap:wrap;gap:1rem}ul.tiles li{flex:1 1 16rem;border:1px solid var(--line);border-radius:8px;padding:.75rem 1rem}
ul.tiles .big{font-size:2rem;font-weight:700;margin-right:.25rem}ul.tiles p{margin:.25rem 0 .5rem;font-size:.9rem}
.visually-hidden{position:absolute;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;clip:rect(0,0,0,0);white-space:nowrap;border:0}
fieldset.events{border:1px solid var(--line);border-radius:6px;margin:.75rem 0;padding:.5rem 1rem}fieldset.events legend{font-weight:600;padding:0 .25rem}
label.check{font-weight:400;display:flex;gap:.4rem;align-items:center;margin:.2rem 0}
input.secret{width:100%;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.95rem;background:#f2f4f5}
.actions{display:flex;flex-wrap:wrap;gap:.75rem}.actions form{margin:0}button.danger{background:var(--bad)}
table.log td{white-space:nowrap}table.log td.url,td.url,span.url{white-space:normal;word-break:break-all}code.answer{white-space:pre-wrap;word-break:break-all}
form.inline{display:inline-flex;gap:.25rem;align-items:center;margin:0 .25rem .25rem 0}
.secret label{margin-top:.25rem}.secret input{width:100%;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.9rem}.filters .muted{font-size:.85rem;max-width:24rem}
.actions:has(>section){gap:1rem 2rem;margin-bottom:1rem}.actions>section{flex:1 1 18rem;border:1px solid var(--line);border-radius:6px;padding:.25rem 1rem .75rem}.actions>section h3{font-size:1rem;margin:.5rem 0}
button.small{font-size:.8rem;padding:.15rem .6rem;margin-left:.5rem}
.confirm-amount{font-size:1.6rem;margin:.5rem 0}.buttons{display:flex;gap:1rem;align-items:center;flex-wrap:wrap}ol.timeline>li.refund h3{color:var(--accent)}
.connection-form fieldset{border:1px solid var(--line);border-radius:6px;margin:1rem 0;padding:.5rem 1rem 1rem}.connection-form legend{font-weight:700;padding:0 .3rem}
.connection-form .field{margin-bottom:.6rem}.connection-form input[type=text],.connection-form input[type=password],.connection-form textarea{width:36rem}
textarea{font:inherit;font-family:ui-monospace,monospace;font-size:.85rem;padding:.4rem .5rem;border:1px solid #7a858f;border-radius:4px;max-width:100%}textarea:focus{outline:3px solid #f0b400;outline-offset:2px}
.hint{margin:.2rem 0;font-size:.88rem}.field-error{color:var(--bad);font-weight:600;margin:.2rem 0}.invalid input,.invalid textarea,.invalid select{border:2px solid var(--bad)}
.verdict p{margin:.2rem 0}code{font-size:.88rem;word-break:break-all}
nav.subnav ul{list-style:none;margin:0 0 1rem;padding:0;display:flex;flex-wrap:wrap;gap:1rem;border-bottom:1px solid var(--line)}nav.subnav a{display:inline-block;padding:.3rem 0}nav.subnav a[aria-current="page"]{font-weight:700;border-bottom:3px solid var(--accent)}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(20rem,1fr));gap:1rem}.cards section{border:1px solid var(--line);border-radius:6px;padding:.5rem 1rem}.cards h2{margin:.3rem 0 .5rem}.cards dl.facts{grid-template-columns:minmax(0,3fr) minmax(0,2fr)}
input.secret{width:100%;font-family:ui-monospace,SFMono-Regular,Menlo,monospace;background:#fff}`;

/** The stylesheet's path carries its hash, so it may be cached for a year. */
export const CONSOLE_CSS_PATH = `/console/assets/console-${createHash('sha256').update(CONSOLE_CSS).digest('hex').slice(0, 12)}.css`;

/** htmx's settings: no inline styles of its own (the policy forbids them), no eval, no pages kept in the browser's storage. */
const HTMX_CONFIG = JSON.stringify({
  includeIndicatorStyles: false,
  allowEval: false,
  allowScriptTags: false,
  historyCacheSize: 0,
  refreshOnHistoryMiss: true,
  selfRequestsOnly: true,
});

const require = createRequire(import.meta.url);
/** htmx as installed (a dependency, served by the hub itself: no CDN, the hub runs offline). */
export const HTMX_FILE = require.resolve('htmx.org/dist/htmx.min.js');
/** Where the hub serves it: the version is in the path, so it may be cached for a year. */
export const HTMX_PATH = `/console/assets/htmx-${(require('htmx.org/package.json') as { version: string }).version}.min.js`;

/** The headers every console page carries. */
export function consoleHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', CONSOLE_CSP)
    .header('cache-control', 'no-store')
    .header('referrer-policy', 'same-origin')
    .header('x-frame-options', 'DENY')
    .header('x-content-type-options', 'nosniff')
    .type('text/html; charset=utf-8');
}

export interface PageOptions {
  title: string;
  body: Html;
  status?: number;
  /** The section this page belongs to (marked in the navigation). */
  section?: string;
  /** A page without the navigation (login, set-password). */
  narrow?: boolean;
}

/** A whole console page in the request's language, with the navigation of the sections the user may see. */
export function page(request: FastifyRequest, reply: FastifyReply, options: PageOptions) {
  const c = request.console ?? { language: 'en' as const, nav: [] };
  const t = common.in(c.language);
  const session = c.session;
  const nav = session
    ? html`<nav aria-label="${t('sections')}"><ul>${c.nav.map(
        (n) => html`<li><a href="${n.href}"${options.section === n.name ? new Html(' aria-current="page"') : ''}>${n.label}</a></li>`,
      )}</ul></nav>
<div class="who"><span>${t('signed_in_as', { email: session.email, role: t(`role_${session.role}`) })}</span>
<form method="post" action="/console/language"><input type="hidden" name="_csrf" value="${session.csrfToken}"><label class="lang" for="language-choice">${t('language')}</label><select id="language-choice" name="language">${(
        ['ro', 'en', 'it'] as const
      ).map(
        (l) => html`<option value="${l}"${l === c.language ? new Html(' selected') : ''}>${{ ro: 'Română', en: 'English', it: 'Italiano' }[l]}</option>`,
      )}</select><button type="submit">${t('change_language')}</button></form>
<form method="post" action="/console/logout"><input type="hidden" name="_csrf" value="${session.csrfToken}"><button type="submit">${t('log_out')}</button></form></div>`
    : '';
  const document = html`<!doctype html><html lang="${c.language}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="htmx-config" content="${HTMX_CONFIG}"><title>${options.title} · incasso</title><link rel="stylesheet" href="${CONSOLE_CSS_PATH}"><script src="${HTMX_PATH}" defer></script></head>
<body><a class="skip" href="#main">${t('skip')}</a><header><a class="brand" href="/console/">${t('console')}</a>${nav}</header>
<main id="main"${options.narrow ? new Html(' class="narrow"') : ''}>${options.body}</main></body></html>`;
  return consoleHeaders(reply)
    .code(options.status ?? 200)
    .send(document.text);
}

/** A page that says one thing (an error, a refusal). */
export function messagePage(request: FastifyRequest, reply: FastifyReply, status: number, title: string, text: string) {
  const t = common.in(request.console?.language ?? 'en');
  const back = request.console?.session ? '' : html`<p><a href="/console/login">${t('go_to_login')}</a></p>`;
  return page(request, reply, { title, status, narrow: !request.console?.session, body: html`<h1>${title}</h1><p role="alert">${text}</p>${back}` });
}
