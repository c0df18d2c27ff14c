import { html } from '../../src/html/template.js';
import { toDecimalString } from '../../src/core/money.js';
import { NEXI_CURRENCIES } from '../../src/connectors/nexi/currencies.js';
import { BRANDS, TEST_CARDS, type CardField } from './test-cards.js';
import type { Link } from './links.js';
import { pageLayout } from '../shared/page-layout.js';
import { chooseLanguage } from '../../src/html/language.js';
import { LABEL_KEYS, LANGUAGE_OF_ID, NEXI_LANGUAGES, NEXI_TEXT, type NexiLanguage, type NexiWordKey } from './page-text.js';

/**
 * The customer's pages: XPay's checkout for a PayMail link (card brand, card data, Pay / Cancel, and the
 * sandbox's "let the link expire"), and its notices. Plain server-rendered HTML, no scripts, no external
 * assets; each page in one language (page-text.ts), `<html lang>` included.
 */

const STYLE = `
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#eef1f5;color:#1b2430;line-height:1.45}
header{background:#2d32aa;color:#fff;padding:.6rem 1rem}header strong{font-size:1.05rem}header span{opacity:.85;margin-left:.5rem;font-size:.85rem}
main{max-width:44rem;margin:1.5rem auto;background:#fff;padding:1.25rem 1.5rem;border-radius:6px;box-shadow:0 1px 3px rgba(0,0,0,.12)}
h1{font-size:1.35rem;margin-top:0}label{display:block;font-weight:600;margin-top:.8rem}
fieldset{border:1px solid #c5ccd6;border-radius:4px;margin-top:.8rem}legend{font-weight:600}fieldset label{display:inline-block;font-weight:400;margin:0 1rem 0 0}
input[type=text]{font:inherit;padding:.45rem .55rem;border:1px solid #9aa7b4;border-radius:4px;width:100%;max-width:18rem;box-sizing:border-box}
button{font:inherit;padding:.5rem 1rem;border-radius:4px;border:1px solid #2d32aa;background:#2d32aa;color:#fff;cursor:pointer;margin:.8rem .5rem 0 0}
button.secondary{background:#fff;color:#2d32aa}form.inline{display:inline-block}
[role=alert]{background:#fdecea;border:1px solid #e0a39b;padding:.6rem .8rem;border-radius:4px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}dt{font-weight:600}dd{margin:0}
table{border-collapse:collapse;font-size:.85rem}td{padding:.2rem .6rem .2rem 0}
`;

const layout = pageLayout({
  style: STYLE,
  titleSuffix: 'Nexi XPay emulator',
  brand: 'Nexi XPay emulator',
  tagline: 'test environment · not a real payment gateway',
});

function amountText(link: Link): string {
  const exponent = NEXI_CURRENCIES[link.divisa]?.exponent ?? 2;
  const minor = Number(link.importo);
  // toDecimalString knows the hub's currencies; the few Nexi-only ones are formatted from Nexi's own table.
  try {
    return `${toDecimalString(minor, link.divisa)} ${link.divisa}`;
  } catch {
    const s = String(minor).padStart(exponent + 1, '0');
    return `${exponent ? `${s.slice(0, -exponent)}.${s.slice(-exponent)}` : s} ${link.divisa}`;
  }
}

type Words = (typeof NEXI_TEXT)[NexiLanguage];

/** The page's language: the link's `languageId` (ITA, ENG), else the browser's Accept-Language, else English. */
export function pageLanguage(link: Pick<Link, 'language_id'> | undefined, acceptLanguage: unknown): NexiLanguage {
  const asked = link?.language_id ? LANGUAGE_OF_ID[link.language_id.toUpperCase()] : undefined;
  return chooseLanguage(NEXI_LANGUAGES, [asked], acceptLanguage);
}

export interface CheckoutInput {
  link: Link;
  lang: NexiLanguage;
  merchant: string;
  payAction: string;
  cancelAction: string;
  expireAction: string;
  errors?: CardField[];
  values?: { brand?: string; card_number?: string; expiry?: string };
}

export function checkoutPage(input: CheckoutInput): string {
  const { link, lang } = input;
  const t: Words = NEXI_TEXT[lang];
  const errors = input.errors ?? [];
  const invalid = (f: CardField) => (errors.includes(f) ? html` aria-invalid="true"` : '');
  const label = (text: string) => (LABEL_KEYS[text] ? t[LABEL_KEYS[text]] : text);
  const body = html`<h1>${t.title}</h1>
<dl><dt>${t.merchant}</dt><dd>${input.merchant}</dd><dt>${t.order}</dt><dd>${link.order_reference || link.cod_trans}</dd>
${link.descrizione && html`<dt>${t.description}</dt><dd>${link.descrizione}</dd>`}<dt>${t.amount}</dt><dd>${amountText(link)}</dd>
<dt>${t.validUntil}</dt><dd>${new Date(link.expires_at).toISOString()}</dd></dl>
${errors.length > 0 && html`<div role="alert"><p>${t.check}</p><ul>${errors.map((f) => html`<li>${t[f]}</li>`)}</ul></div>`}
<form method="post" action="${input.payAction}" novalidate>
<fieldset${invalid('brand')}><legend>${t.cardBrand}</legend>
${BRANDS.map((b) => html`<label><input type="radio" name="brand" value="${b}"${input.values?.brand === b ? html` checked` : ''}> ${b}</label>`)}
</fieldset>
<label for="card_number">${t.cardNumber}</label>
<input type="text" id="card_number" name="card_number" inputmode="numeric" autocomplete="cc-number" value="${input.values?.card_number ?? ''}"${invalid('card_number')}>
<label for="expiry">${t.expiryDate}</label>
<input type="text" id="expiry" name="expiry" placeholder="${t.expiryFormat}" autocomplete="cc-exp" value="${input.values?.expiry ?? ''}"${invalid('expiry')}>
<label for="cvv">${t.cvvLabel}</label>
<input type="text" id="cvv" name="cvv" inputmode="numeric" autocomplete="cc-csc"${invalid('cvv')}>
<div><button type="submit">${t.pay}</button></div>
</form>
<form method="post" action="${input.cancelAction}" class="inline"><button type="submit" class="secondary">${t.cancel}</button></form>
<form method="post" action="${input.expireAction}" class="inline"><button type="submit" class="secondary">${t.letExpire}</button></form>
<details><summary>${t.testCards}</summary><table>
<tr><th scope="col">${t.brandColumn}</th><th scope="col">${t.cardNumber}</th><th scope="col">${t.resultColumn}</th><th scope="col">${t.sourceColumn}</th></tr>
${TEST_CARDS.map((c) => html`<tr><td>${c.brand}</td><td>${c.pan}</td><td>${label(c.label)}</td><td>${c.source === 'emulator' ? t.source_emulator : t.source_nexi}</td></tr>`)}
</table></details>`;
  return layout({ title: t.title, lang, tagline: t.tagline, body });
}

/** A notice about a link, in `lang`: `title` and `detail` are catalogue keys. */
export function linkNotice(lang: NexiLanguage, title: NexiWordKey, detail: NexiWordKey, back?: string): string {
  const t = NEXI_TEXT[lang];
  return layout({
    title: t[title],
    lang,
    tagline: t.tagline,
    body: html`<h1>${t[title]}</h1><p role="alert">${t[detail]}</p>${back && html`<p><a href="${back}">${t.backToMerchant}</a></p>`}`,
  });
}

/** A notice outside any link (a malformed request, an unknown page), in English. */
export function noticePage(title: string, detail: string): string {
  return layout({ title, body: html`<h1>${title}</h1><p role="alert">${detail}</p>` });
}
