import { toDecimalString } from '../../src/core/money.js';
import { html, layout } from '../netopia-v1/html.js';
import { TEST_CARD_LIST } from './card-outcomes.js';
import type { Order } from './orders.js';

/**
 * The customer-facing pages of the v2 sandbox: the hosted card page (paymentURL) and the 3-D Secure
 * authentication page (the hosted flow's step and the `/sandbox/authorize` ACS). Plain server-rendered HTML
 * under the v1 emulator's layout and CSP: no scripts, nothing loaded. Visible wording follows the order's
 * language (ro, else English); form controls keep their English accessible names ("Card number", "Expiry
 * date", "CVV", "Pay") in both, with the Romanian words as a visual hint.
 */

type Lang = 'ro' | 'en';
export type CardField = 'card_number' | 'expiry' | 'cvv';

const TEXT = {
  en: {
    title: 'Card payment',
    merchant: 'Merchant',
    order: 'Order',
    description: 'Description',
    amount: 'Amount',
    check: 'Please check the card details:',
    card_number: 'Enter the card number (12 to 19 digits).',
    expiry: 'Enter the expiry date as MM/YY.',
    cvv: 'Enter the 3- or 4-digit CVV code.',
    cancel: 'Cancel',
    authTitle: '3-D Secure authentication',
    authIntro: 'Your bank asks you to confirm this payment.',
    choose: 'Choose the outcome of the authentication.',
    card: 'Card',
  },
  ro: {
    title: 'Plată cu cardul',
    merchant: 'Comerciant',
    order: 'Comanda',
    description: 'Descriere',
    amount: 'Suma',
    check: 'Verificați datele cardului:',
    card_number: 'Introduceți numărul cardului (între 12 și 19 cifre).',
    expiry: 'Introduceți data expirării în formatul LL/AA.',
    cvv: 'Introduceți codul CVV de 3 sau 4 cifre.',
    cancel: 'Cancel',
    authTitle: 'Autentificare 3-D Secure',
    authIntro: 'Banca dumneavoastră vă cere să confirmați această plată.',
    choose: 'Alegeți rezultatul autentificării.',
    card: 'Card',
  },
} as const;

function langOf(order: Order): Lang {
  return order.language === 'ro' ? 'ro' : 'en';
}

function summary(order: Order, merchant: string, t: (typeof TEXT)[Lang]) {
  return html`<dl>
<dt>${t.merchant}</dt><dd>${merchant}</dd>
<dt>${t.order}</dt><dd>${order.order_id}</dd>
${order.description !== '' && html`<dt>${t.description}</dt><dd>${order.description}</dd>`}
<dt>${t.amount}</dt><dd>${toDecimalString(order.amount_minor, order.currency)} ${order.currency}</dd>
</dl>`;
}

export interface CardPageInput {
  order: Order;
  merchant: string;
  formAction: string;
  /** Where "Cancel" leads: the merchant's cancelUrl, else its redirectUrl. */
  cancelHref: string;
  errors?: CardField[];
  values?: { card_number?: string; expiry?: string };
}

export function cardPage(input: CardPageInput): string {
  const lang = langOf(input.order);
  const t = TEXT[lang];
  const errors = input.errors ?? [];
  const invalid = (f: CardField) => (errors.includes(f) ? html` aria-invalid="true" aria-describedby="problems"` : '');
  const hint = (ro: string) => lang === 'ro' && html`<span class="hint" lang="ro">${ro}</span>`;
  const body = html`<h1>${t.title}</h1>
${summary(input.order, input.merchant, t)}
${errors.length > 0 && html`<div role="alert" id="problems"><p>${t.check}</p><ul>${errors.map((f) => html`<li>${t[f]}</li>`)}</ul></div>`}
<form method="post" action="${input.formAction}" novalidate>
<label for="card_number">Card number</label>${hint('Număr card')}
<input id="card_number" name="card_number" inputmode="numeric" autocomplete="cc-number" value="${input.values?.card_number ?? ''}"${invalid('card_number')}>
<label for="expiry">Expiry date</label><span class="hint">MM/YY</span>${hint('Data expirării')}
<input id="expiry" name="expiry" placeholder="MM/YY" autocomplete="cc-exp" value="${input.values?.expiry ?? ''}"${invalid('expiry')}>
<label for="cvv">CVV</label>${hint('Cod CVV')}
<input id="cvv" name="cvv" inputmode="numeric" autocomplete="cc-csc"${invalid('cvv')}>
<div><button type="submit">Pay</button></div>
</form>
<p><a href="${input.cancelHref}">${t.cancel}</a></p>
<details><summary>Sandbox test cards (CVV 111, any future expiry; any past expiry is an expired card)</summary><table>
${TEST_CARD_LIST.map((c) => html`<tr><td>${c.pan}</td><td>${c.outcome}</td></tr>`)}
</table></details>`;
  return layout({ title: t.title, lang, body });
}

export interface AuthenticationForms {
  /** Where each button posts, and its hidden fields. */
  authorize: { action: string; fields: Record<string, string> };
  fail: { action: string; fields: Record<string, string> };
}

/** The bank's 3-D Secure challenge with the two outcomes a sandbox tester may choose. */
export function authenticationPage(input: { order: Order; merchant: string; forms: AuthenticationForms }): string {
  const lang = langOf(input.order);
  const t = TEXT[lang];
  const form = (f: { action: string; fields: Record<string, string> }, label: string, secondary: boolean) =>
    html`<form method="post" action="${f.action}" class="inline">${Object.entries(f.fields).map(
      ([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`,
    )}<button type="submit"${secondary ? html` class="secondary"` : ''}>${label}</button></form>`;
  const body = html`<h1>${t.authTitle}</h1>
<p>${t.authIntro}</p>
${summary(input.order, input.merchant, t)}
<p>${t.card}: ${input.order.pan_masked ?? ''}</p>
<p>${t.choose}</p>
${form(input.forms.authorize, 'Authorize', false)}
${form(input.forms.fail, 'Fail authentication', true)}`;
  return layout({ title: t.authTitle, lang, body });
}
