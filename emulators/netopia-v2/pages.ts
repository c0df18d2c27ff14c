import { toDecimalString } from '../../src/core/money.js';
import { html, layout } from '../netopia-v1/html.js';
import { pageLang, testCardTable } from '../netopia-v1/payment-pages.js';
import { NETOPIA_TEXT, type NetopiaLanguage, type NetopiaWordKey } from '../netopia-v1/page-text.js';
import type { Order } from './orders.js';

/**
 * The customer-facing pages of the v2 sandbox: the hosted card page (paymentURL) and the 3-D Secure
 * authentication page (the hosted flow's step and the `/sandbox/authorize` ACS). Plain server-rendered HTML
 * under the v1 emulator's layout and CSP: no scripts, nothing loaded. Visible wording follows the order's
 * language (ro, else English), all of it from the NETOPIA catalogue (netopia-v1/page-text.ts): one language
 * per page, `<html lang>` included.
 */

export type CardField = 'card_number' | 'expiry' | 'cvv';

type Words = (typeof NETOPIA_TEXT)[NetopiaLanguage];

/** Each field's problem, in the words of v2's checks (any expiry; a 3- or 4-digit CVV). */
const PROBLEMS: Readonly<Record<CardField, NetopiaWordKey>> = { card_number: 'card_number', expiry: 'expiryAny', cvv: 'cvv34' };

function langOf(order: Order): NetopiaLanguage {
  return pageLang(order.language);
}

/**
 * The order as the payer knows it: the merchant's reference when `order.data.order_reference` names one (the hub
 * sends it there, its orderID being one per attempt), else the orderID.
 */
function orderReference(order: Order): string {
  const reference = order.order_data?.order_reference;
  return typeof reference === 'string' && reference.trim() !== '' ? reference : order.order_id;
}

function summary(order: Order, merchant: string, t: Words) {
  return html`<dl>
<dt>${t.merchant}</dt><dd>${merchant}</dd>
<dt>${t.order}</dt><dd>${orderReference(order)}</dd>
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
  const t = NETOPIA_TEXT[lang];
  const errors = input.errors ?? [];
  const invalid = (f: CardField) => (errors.includes(f) ? html` aria-invalid="true" aria-describedby="problems"` : '');
  const body = html`<h1>${t.title}</h1>
${summary(input.order, input.merchant, t)}
${errors.length > 0 && html`<div role="alert" id="problems"><p>${t.check}</p><ul>${errors.map((f) => html`<li>${t[PROBLEMS[f]]}</li>`)}</ul></div>`}
<form method="post" action="${input.formAction}" novalidate>
<label for="card_number">${t.cardNumberLabel}</label>
<input id="card_number" name="card_number" inputmode="numeric" autocomplete="cc-number" value="${input.values?.card_number ?? ''}"${invalid('card_number')}>
<label for="expiry">${t.expiryLabel}</label>
<input id="expiry" name="expiry" placeholder="${t.expiryFormat}" autocomplete="cc-exp" value="${input.values?.expiry ?? ''}"${invalid('expiry')}>
<label for="cvv">${t.cvvLabel}</label>
<input id="cvv" name="cvv" inputmode="numeric" autocomplete="cc-csc"${invalid('cvv')}>
<div><button type="submit">${t.pay}</button></div>
</form>
<p><a href="${input.cancelHref}">${t.cancelPayment}</a></p>
${testCardTable(t, t.testCardsPastExpiry)}`;
  return layout({ title: t.title, lang, tagline: t.tagline, body });
}

export interface AuthenticationForms {
  /** Where each button posts, and its hidden fields. */
  authorize: { action: string; fields: Record<string, string> };
  fail: { action: string; fields: Record<string, string> };
}

/** The bank's 3-D Secure challenge with the two outcomes a sandbox tester may choose. */
export function authenticationPage(input: { order: Order; merchant: string; forms: AuthenticationForms }): string {
  const lang = langOf(input.order);
  const t = NETOPIA_TEXT[lang];
  const form = (f: { action: string; fields: Record<string, string> }, label: string, secondary: boolean) =>
    html`<form method="post" action="${f.action}" class="inline">${Object.entries(f.fields).map(
      ([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`,
    )}<button type="submit"${secondary ? html` class="secondary"` : ''}>${label}</button></form>`;
  const body = html`<h1>${t.threeDsTitle}</h1>
<p>${t.threeDsIntro}</p>
${summary(input.order, input.merchant, t)}
<p>${t.card}: ${input.order.pan_masked ?? ''}</p>
<p>${t.choose}</p>
${form(input.forms.authorize, t.authorize, false)}
${form(input.forms.fail, t.failAuthentication, true)}`;
  return layout({ title: t.threeDsTitle, lang, tagline: t.tagline, body });
}
