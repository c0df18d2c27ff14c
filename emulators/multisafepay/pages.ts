import { toDecimalString } from '../../src/core/money.js';
import { BRANDS, TEST_CARDS, type Brand, type CardField } from './cards.js';
import { html, layout } from './html.js';
import { BRAND_NAMES, payerOrderReference, type OrderRow } from './order-view.js';
import { chooseLanguage, fill } from '../../src/html/language.js';
import { MSP_LANGUAGES, MSP_TEXT, NOTE_KEYS, type MspLanguage } from './page-text.js';

/**
 * The hosted payment page of a payment link and its 3-D Secure step, in one language: the order's
 * `customer.locale` (en, ro or it), else the browser's Accept-Language, else English. Every word comes from the
 * catalogue in page-text.ts, and `<html lang>` says which language the page speaks.
 */

type Words = (typeof MSP_TEXT)[MspLanguage];

/** The page's language: the order's locale (as the merchant gave it), else the browser's, else English. */
export function pageLanguage(order: OrderRow, acceptLanguage: unknown): MspLanguage {
  return chooseLanguage(MSP_LANGUAGES, [order.customer?.locale], acceptLanguage);
}

function summary(order: OrderRow, merchant: string, t: Words) {
  return html`<dl>
<dt>${t.merchant}</dt><dd>${merchant}</dd>
<dt>${t.order}</dt><dd>${payerOrderReference(order)}</dd>
<dt>${t.description}</dt><dd>${order.description}</dd>
<dt>${t.amount}</dt><dd>${toDecimalString(Number(order.amount), order.currency)} ${order.currency}</dd>
</dl>`;
}

export interface PaymentPageInput {
  order: OrderRow;
  lang: MspLanguage;
  merchant: string;
  brands: readonly Brand[];
  actions: { pay: string; cancel: string; expire: string };
  errors?: CardField[];
  /** The issuer's refusal of the previous try, shown above the form. */
  declined?: string | null;
  values?: { brand?: string; card_number?: string; expiry?: string; holder?: string };
}

export function paymentPage(input: PaymentPageInput): string {
  const { lang } = input;
  const t = MSP_TEXT[lang];
  const errors = input.errors ?? [];
  const invalid = (f: CardField) => (errors.includes(f) ? html` aria-invalid="true"` : '');
  const chosen = input.values?.brand ?? (input.brands.length === 1 ? input.brands[0] : undefined);
  const cards = [...TEST_CARDS].filter(([, c]) => input.brands.includes(c.brand));
  const note = (text: string) => (NOTE_KEYS[text] ? t[NOTE_KEYS[text]] : text);
  const body = html`<h1>${t.title}</h1>
${summary(input.order, input.merchant, t)}
${input.declined && html`<div role="alert"><p>${fill(t.declined, { reason: input.declined })}</p></div>`}
${errors.length > 0 && html`<div role="alert"><p>${t.check}</p><ul>${errors.map((f) => html`<li>${t[f]}</li>`)}</ul></div>`}
<form method="post" action="${input.actions.pay}" novalidate>
<fieldset${invalid('brand')}><legend>${t.cardBrand}</legend>
${input.brands.map((b) => html`<label><input type="radio" name="brand" value="${b}"${chosen === b ? html` checked` : ''}> ${BRAND_NAMES[b]}</label>`)}
</fieldset>
<label for="card_number">${t.cardNumber}</label>
<input id="card_number" name="card_number" inputmode="numeric" autocomplete="cc-number" value="${input.values?.card_number ?? ''}"${invalid('card_number')}>
<label for="holder">${t.holder}</label>
<input id="holder" name="holder" autocomplete="cc-name" value="${input.values?.holder ?? ''}">
<label for="expiry">${t.expiryDate}</label>
<input id="expiry" name="expiry" placeholder="${t.expiryFormat}" autocomplete="cc-exp" value="${input.values?.expiry ?? ''}"${invalid('expiry')}>
<label for="cvv">${t.cvvLabel}</label>
<input id="cvv" name="cvv" inputmode="numeric" autocomplete="cc-csc"${invalid('cvv')}>
<div><button type="submit">${t.pay}</button></div>
</form>
<form method="post" action="${input.actions.cancel}"><button type="submit" class="secondary">${t.cancel}</button></form>
<section class="tester" aria-labelledby="tester-tools"><h2 id="tester-tools">${t.testerTools}</h2>
<form method="post" action="${input.actions.expire}"><button type="submit" class="secondary">${t.letExpire}</button></form>
<details><summary>${t.testCards}</summary><table>
<tr><th scope="col">${t.cardNumber}</th><th scope="col">${t.brandColumn}</th><th scope="col">${t.resultColumn}</th></tr>
${cards.map(([pan, c]) => html`<tr><td>${pan}</td><td>${BRAND_NAMES[c.brand]}</td><td>${note(c.note)}</td></tr>`)}
<tr><td>${t.anyOtherNumber}</td><td>—</td><td>${t.doNotHonor}</td></tr>
</table></details></section>`;
  return layout({ title: t.title, lang, tagline: t.tagline, body });
}

export function threeDsPage(input: { order: OrderRow; lang: MspLanguage; merchant: string; action: string; brand: string; last4: string }): string {
  const { lang } = input;
  const t = MSP_TEXT[lang];
  const body = html`<h1>${t.threeDsTitle}</h1>
<p>${t.threeDsIntro}</p>
${summary(input.order, input.merchant, t)}
<p>${fill(t.cardEnding, { brand: BRAND_NAMES[input.brand] ?? input.brand, last4: input.last4 })}</p>
<form method="post" action="${input.action}">
<label for="authentication">${t.authResult}</label>
<select id="authentication" name="authentication">
<option value="Y">${t.authenticated}</option>
<option value="N">${t.notAuthenticated}</option>
</select>
<div><button type="submit">${t.confirm}</button></div>
</form>`;
  return layout({ title: t.threeDsTitle, lang, tagline: t.tagline, body });
}

/** Brands the page offers: all, or those named by the order's `gateway` (e.g. VISA, or CREDITCARD for all). */
export function offeredBrands(gateway: string | null): readonly Brand[] {
  if (!gateway || gateway === 'CREDITCARD') return BRANDS;
  const named = gateway.split('/').filter((g): g is Brand => (BRANDS as readonly string[]).includes(g));
  return named.length ? named : BRANDS;
}
