import { html, layout } from './html.js';
import { ronText } from './amounts.js';
import { toDecimalString } from '../../src/core/money.js';
import { fill } from '../../src/html/language.js';
import type { CardField } from './card-outcomes.js';
import { payerOrderReference, type Order } from './orders.js';
import { NETOPIA_TEXT, TEST_CARD_OUTCOMES, type NetopiaLanguage } from './page-text.js';

/**
 * The customer-facing pages: hosted card form, 3-D Secure challenge, error page. Each page speaks one language,
 * the order's (ro or en, from the URL the merchant posted to): headings, labels, buttons and the sandbox's test
 * card list all come from the catalogue in page-text.ts, and `<html lang>` says which.
 */

export type PageLang = NetopiaLanguage;

export function pageLang(lang: string | undefined): PageLang {
  return lang === 'ro' ? 'ro' : 'en';
}

type Words = (typeof NETOPIA_TEXT)[PageLang];

function summary(order: Order, merchant: string, t: Words) {
  const amount = `${toDecimalString(order.amount_minor, order.currency)} ${order.currency}`;
  // NETOPIA shows both amounts when it converts a foreign-currency invoice.
  const converted = order.currency === 'RON' ? '' : ` (${ronText(order.amount_ron)} RON)`;
  return html`<dl>
<dt>${t.merchant}</dt><dd>${merchant}</dd>
<dt>${t.order}</dt><dd>${payerOrderReference(order)}</dd>
<dt>${t.details}</dt><dd>${order.details}</dd>
<dt>${t.amount}</dt><dd>${amount}${converted}</dd>
</dl>`;
}

/** The sandbox's test cards, in the page's language. */
export function testCardTable(t: Words, caption: string) {
  return html`<details><summary>${caption}</summary><table>
<tr><th scope="col">${t.cardNumberColumn}</th><th scope="col">${t.outcomeColumn}</th></tr>
${TEST_CARD_OUTCOMES.map((c) => html`<tr><td>${c.pan}</td><td>${t[c.outcome]}</td></tr>`)}
</table></details>`;
}

export interface CardPageInput {
  order: Order;
  merchant: string;
  formAction: string;
  cancelAction: string;
  errors?: CardField[];
  values?: { card_number?: string; expiry?: string };
}

export function cardPage(input: CardPageInput): string {
  const lang = pageLang(input.order.lang);
  const t = NETOPIA_TEXT[lang];
  const errors = input.errors ?? [];
  const invalid = (f: CardField) => (errors.includes(f) ? html` aria-invalid="true" aria-describedby="problems"` : '');
  const body = html`<h1>${t.title}</h1>
${summary(input.order, input.merchant, t)}
${errors.length > 0 && html`<div role="alert" id="problems"><p>${t.check}</p><ul>${errors.map((f) => html`<li>${t[f]}</li>`)}</ul></div>`}
<form method="post" action="${input.formAction}" novalidate>
<label for="card_number">${t.cardNumberLabel}</label>
<input id="card_number" name="card_number" inputmode="numeric" autocomplete="cc-number" value="${input.values?.card_number ?? ''}"${invalid('card_number')}>
<label for="expiry">${t.expiryLabel}</label>
<input id="expiry" name="expiry" placeholder="${t.expiryFormat}" autocomplete="cc-exp" value="${input.values?.expiry ?? ''}"${invalid('expiry')}>
<label for="cvv">${t.cvvLabel}</label>
<input id="cvv" name="cvv" inputmode="numeric" autocomplete="cc-csc"${invalid('cvv')}>
<div><button type="submit">${t.pay}</button></div>
</form>
<form method="post" action="${input.cancelAction}"><button type="submit" class="secondary">${t.cancelPayment}</button></form>
${testCardTable(t, t.testCards)}`;
  return layout({ title: t.title, lang, tagline: t.tagline, body });
}

export function threeDsPage(input: { order: Order; merchant: string; formAction: string }): string {
  const lang = pageLang(input.order.lang);
  const t = NETOPIA_TEXT[lang];
  const body = html`<h1>${t.threeDsTitle}</h1>
<p>${t.threeDsIntro}</p>
${summary(input.order, input.merchant, t)}
<p>${t.card}: ${input.order.pan_masked ?? ''}</p>
<p>${t.choose}</p>
<form method="post" action="${input.formAction}" class="inline"><input type="hidden" name="result" value="authorize"><button type="submit">${t.authorize}</button></form>
<form method="post" action="${input.formAction}" class="inline"><input type="hidden" name="result" value="fail"><button type="submit" class="secondary">${t.failAuthentication}</button></form>`;
  return layout({ title: t.threeDsTitle, lang, tagline: t.tagline, body });
}

/**
 * NETOPIA's error page: its own wording as the heading, our explanation below, optionally a way back. `title`
 * and `detail` are in `lang` (English when not given): callers with an order pass its language's words.
 */
export function errorPage(input: { title: string; detail: string; backUrl?: string; lang?: string }): string {
  const lang = pageLang(input.lang);
  const t = NETOPIA_TEXT[lang];
  const back = input.backUrl && html`<p><a href="${input.backUrl}">${t.back}</a></p>`;
  const body = html`<h1>${input.title}</h1><p role="alert">${input.detail}</p>${back}`;
  return layout({ title: input.title, lang, tagline: t.tagline, body });
}

/** The error page of an order: `title` and `detail` from the catalogue, in the order's language. */
export function orderErrorPage(
  lang: string | undefined,
  title: 'duplicateTitle' | 'processedTitle' | 'invalidTitle' | 'notFoundTitle',
  detail: 'processed' | 'chooseOutcome' | 'notFound',
  values: { order?: string } = {},
  backUrl?: string,
): string {
  const t = NETOPIA_TEXT[pageLang(lang)];
  return errorPage({ title: t[title], detail: fill(t[detail], { order: values.order ?? '' }), backUrl, lang: pageLang(lang) });
}
