import type { FastifyReply } from 'fastify';
import { html } from '../../src/html/template.js';
import { pageLayout, sendHtml } from '../shared/page-layout.js';
import { MSP_TEXT, type MspLanguage } from './page-text.js';

export { html, Html } from '../../src/html/template.js';
export { sendHtml } from '../shared/page-layout.js';

const STYLE = `
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f2f5f7;color:#1c2530;line-height:1.45}
header{background:#003d5c;color:#fff;padding:.6rem 1rem}header strong{font-size:1.05rem}header span{opacity:.8;margin-left:.5rem;font-size:.85rem}
main{max-width:40rem;margin:1.5rem auto;background:#fff;padding:1.25rem 1.5rem;border-radius:6px;box-shadow:0 1px 3px rgba(0,0,0,.12)}
h1{font-size:1.35rem;margin-top:0}h2{font-size:1.05rem;margin-top:1.5rem}
label{display:block;font-weight:600;margin-top:.8rem}fieldset{border:1px solid #c5d0da;border-radius:4px;margin-top:.8rem}
fieldset label{display:inline-block;font-weight:400;margin:0 1rem .3rem 0}fieldset input{width:auto}
input,select{font:inherit;padding:.45rem .55rem;border:1px solid #95a3b2;border-radius:4px;width:100%;max-width:18rem;box-sizing:border-box}
button{font:inherit;padding:.5rem 1rem;border-radius:4px;border:1px solid #003d5c;background:#003d5c;color:#fff;cursor:pointer;margin:.8rem .5rem 0 0}
button.secondary{background:#fff;color:#003d5c}form.inline{display:inline-block}
[role=alert]{background:#fdecea;border:1px solid #e0a39b;padding:.6rem .8rem;border-radius:4px}
.notice{background:#e8f4ea;border:1px solid #9cc9a4;padding:.6rem .8rem;border-radius:4px}
.tester{margin-top:1.5rem;border-top:1px dashed #95a3b2;padding-top:.5rem;font-size:.9rem}
table{border-collapse:collapse;font-size:.85rem}th,td{text-align:left;padding:.25rem .5rem;border-bottom:1px solid #dde3e8}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}dt{font-weight:600}dd{margin:0}
`;

export const layout = pageLayout({
  style: STYLE,
  titleSuffix: 'MultiSafepay emulator',
  brand: 'MultiSafepay emulator',
  tagline: 'test environment · not a real payment service provider',
});

/** A page that only says something: a heading, an explanation, and optionally the way back to the shop. */
export function messagePage(
  reply: FastifyReply,
  status: number,
  options: { title: string; detail: string; backUrl?: string | null; role?: 'alert' | 'status'; lang?: MspLanguage },
): FastifyReply {
  // `title` and `detail` are in `lang` (English when not given); the rest of the page follows it.
  const lang = options.lang ?? 'en';
  const t = MSP_TEXT[lang];
  const back = options.backUrl && html`<p><a href="${options.backUrl}">${t.backToShop}</a></p>`;
  const body = html`<h1>${options.title}</h1><p role="${options.role ?? 'alert'}">${options.detail}</p>${back}`;
  return sendHtml(reply, status, layout({ title: options.title, lang, tagline: t.tagline, body }));
}
