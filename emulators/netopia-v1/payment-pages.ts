import { html, layout } from './html.js';
import { ronText } from './amounts.js';
import { toDecimalString } from '../../src/core/money.js';
import type { CardField } from './card-outcomes.js';
import type { Order } from './orders.js';

/**
 * The customer-facing pages: hosted card form, 3-D Secure challenge, error page. Visible wording follows the
 * order's language (ro or en). Form controls always have the English accessible names ("Card number",
 * "Expiry date", "CVV", "Pay") so that scripts and assistive technology find them in either language; the
 * Romanian wording is shown next to them as a visual hint.
 */

export type PageLang = 'ro' | 'en';

const TEXT = {
  en: {
    title: 'Card payment',
    merchant: 'Merchant',
    order: 'Order',
    details: 'Details',
    amount: 'Amount',
    check: 'Please check the card details:',
    card_number: 'Enter the card number (12 to 19 digits).',
    expiry: 'Enter an expiry date in the future, as MM/YY.',
    cvv: 'Enter the 3-digit CVV code from the back of the card.',
    threeDsTitle: '3-D Secure authentication',
    threeDsIntro: 'Your bank asks you to confirm this payment.',
    choose: 'Choose an outcome for the authentication.',
    card: 'Card',
    back: 'Return to the merchant',
  },
  ro: {
    title: 'Plată cu cardul',
    merchant: 'Comerciant',
    order: 'Comanda',
    details: 'Detalii',
    amount: 'Suma',
    check: 'Verificați datele cardului:',
    card_number: 'Introduceți numărul cardului (între 12 și 19 cifre).',
    expiry: 'Introduceți o dată de expirare viitoare, în formatul LL/AA.',
    cvv: 'Introduceți codul CVV de 3 cifre de pe spatele cardului.',
    threeDsTitle: 'Autentificare 3-D Secure',
    threeDsIntro: 'Banca dumneavoastră vă cere să confirmați această plată.',
    choose: 'Alegeți rezultatul autentificării.',
    card: 'Card',
    back: 'Înapoi la comerciant',
  },
} as const;

export function pageLang(lang: string): PageLang {
  return lang === 'ro' ? 'ro' : 'en';
}

function summary(order: Order, merchant: string, t: (typeof TEXT)[PageLang]) {
  const amount = `${toDecimalString(order.amount_minor, order.currency)} ${order.currency}`;
  // NETOPIA shows both amounts when it converts a foreign-currency invoice.
  const converted = order.currency === 'RON' ? '' : ` (${ronText(order.amount_ron)} RON)`;
  return html`<dl>
<dt>${t.merchant}</dt><dd>${merchant}</dd>
<dt>${t.order}</dt><dd>${order.order_id}</dd>
<dt>${t.details}</dt><dd>${order.details}</dd>
<dt>${t.amount}</dt><dd>${amount}${converted}</dd>
</dl>`;
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
  const t = TEXT[lang];
  const errors = input.errors ?? [];
  const invalid = (f: CardField) => (errors.includes(f) ? html` aria-invalid="true"` : '');
  const hint = (ro: string) => lang === 'ro' && html`<span class="hint" lang="ro">${ro}</span>`;
  const body = html`<h1>${t.title}</h1>
${summary(input.order, input.merchant, t)}
${errors.length > 0 && html`<div role="alert"><p>${t.check}</p><ul>${errors.map((f) => html`<li>${t[f]}</li>`)}</ul></div>`}
<form method="post" action="${input.formAction}" novalidate>
<label for="card_number">Card number</label>${hint('Număr card')}
<input id="card_number" name="card_number" inputmode="numeric" autocomplete="cc-number" value="${input.values?.card_number ?? ''}"${invalid('card_number')}>
<label for="expiry">Expiry date</label>${hint('Data expirării')}
<input id="expiry" name="expiry" placeholder="MM/YY" autocomplete="cc-exp" value="${input.values?.expiry ?? ''}"${invalid('expiry')}>
<label for="cvv">CVV</label>${hint('Cod CVV')}
<input id="cvv" name="cvv" inputmode="numeric" autocomplete="cc-csc"${invalid('cvv')}>
<div><button type="submit">Pay</button></div>
</form>
<form method="post" action="${input.cancelAction}"><button type="submit" class="secondary">Cancel payment</button></form>
<details><summary>Sandbox test cards (CVV 111, any future expiry)</summary><table>
<tr><td>9900004810225098</td><td>approved</td></tr><tr><td>9900009184214768</td><td>3-D Secure</td></tr>
<tr><td>9900541631437790</td><td>expired card (19)</td></tr><tr><td>9900518572831942</td><td>insufficient funds (20)</td></tr>
<tr><td>9900827979991500</td><td>CVV2 incorrect (21)</td></tr><tr><td>9900576270414197</td><td>transaction not permitted (34)</td></tr>
<tr><td>9900334791085173</td><td>stolen card (16)</td></tr><tr><td>9900130597497640</td><td>issuer unavailable (22)</td></tr>
</table></details>`;
  return layout({ title: t.title, lang, body });
}

export function threeDsPage(input: { order: Order; merchant: string; formAction: string }): string {
  const lang = pageLang(input.order.lang);
  const t = TEXT[lang];
  const body = html`<h1>${t.threeDsTitle}</h1>
<p>${t.threeDsIntro}</p>
${summary(input.order, input.merchant, t)}
<p>${t.card}: ${input.order.pan_masked ?? ''}</p>
<p>${t.choose}</p>
<form method="post" action="${input.formAction}" class="inline"><input type="hidden" name="result" value="authorize"><button type="submit">Authorize</button></form>
<form method="post" action="${input.formAction}" class="inline"><input type="hidden" name="result" value="fail"><button type="submit" class="secondary">Fail authentication</button></form>`;
  return layout({ title: t.threeDsTitle, lang, body });
}

/** NETOPIA's error page: its own wording as the heading, our explanation below, optionally a way back. */
export function errorPage(input: { title: string; detail: string; backUrl?: string; lang?: string }): string {
  const back = input.backUrl && html`<p><a href="${input.backUrl}">${TEXT[pageLang(input.lang ?? 'en')].back}</a></p>`;
  const body = html`<h1>${input.title}</h1><p role="alert">${input.detail}</p>${back}`;
  return layout({ title: input.title, lang: input.lang, body });
}
