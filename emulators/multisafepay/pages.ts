import { toDecimalString } from '../../src/core/money.js';
import { BRANDS, TEST_CARDS, type Brand, type CardField } from './cards.js';
import { html, layout } from './html.js';
import { BRAND_NAMES, type OrderRow } from './order-view.js';

/**
 * The hosted payment page of a payment link and its 3-D Secure step. Controls carry English accessible
 * names ("Card brand", "Card number", "Expiry date", "CVV", "Pay", "Cancel") whatever the order's locale.
 */

const FIELD_TEXT: Readonly<Record<CardField, string>> = {
  brand: 'Choose one of the card brands offered.',
  card_number: 'Enter a valid card number of the chosen brand.',
  expiry: 'Enter an expiry date in the future, as MM/YY.',
  cvv: 'Enter the CVV code from the card (3 digits; 4 for American Express).',
};

function summary(order: OrderRow, merchant: string) {
  return html`<dl>
<dt>Merchant</dt><dd>${merchant}</dd>
<dt>Order</dt><dd>${order.order_id}</dd>
<dt>Description</dt><dd>${order.description}</dd>
<dt>Amount</dt><dd>${toDecimalString(Number(order.amount), order.currency)} ${order.currency}</dd>
</dl>`;
}

export interface PaymentPageInput {
  order: OrderRow;
  merchant: string;
  brands: readonly Brand[];
  actions: { pay: string; cancel: string; expire: string };
  errors?: CardField[];
  /** The issuer's refusal of the previous try, shown above the form. */
  declined?: string | null;
  values?: { brand?: string; card_number?: string; expiry?: string; holder?: string };
}

export function paymentPage(input: PaymentPageInput): string {
  const errors = input.errors ?? [];
  const invalid = (f: CardField) => (errors.includes(f) ? html` aria-invalid="true"` : '');
  const chosen = input.values?.brand ?? (input.brands.length === 1 ? input.brands[0] : undefined);
  const cards = [...TEST_CARDS].filter(([, c]) => input.brands.includes(c.brand));
  const body = html`<h1>Pay by card</h1>
${summary(input.order, input.merchant)}
${input.declined && html`<div role="alert"><p>Your payment was declined: ${input.declined}. You can try again.</p></div>`}
${errors.length > 0 && html`<div role="alert"><p>Please check:</p><ul>${errors.map((f) => html`<li>${FIELD_TEXT[f]}</li>`)}</ul></div>`}
<form method="post" action="${input.actions.pay}" novalidate>
<fieldset${invalid('brand')}><legend>Card brand</legend>
${input.brands.map((b) => html`<label><input type="radio" name="brand" value="${b}"${chosen === b ? html` checked` : ''}> ${BRAND_NAMES[b]}</label>`)}
</fieldset>
<label for="card_number">Card number</label>
<input id="card_number" name="card_number" inputmode="numeric" autocomplete="cc-number" value="${input.values?.card_number ?? ''}"${invalid('card_number')}>
<label for="holder">Card holder</label>
<input id="holder" name="holder" autocomplete="cc-name" value="${input.values?.holder ?? ''}">
<label for="expiry">Expiry date</label>
<input id="expiry" name="expiry" placeholder="MM/YY" autocomplete="cc-exp" value="${input.values?.expiry ?? ''}"${invalid('expiry')}>
<label for="cvv">CVV</label>
<input id="cvv" name="cvv" inputmode="numeric" autocomplete="cc-csc"${invalid('cvv')}>
<div><button type="submit">Pay</button></div>
</form>
<form method="post" action="${input.actions.cancel}"><button type="submit" class="secondary">Cancel</button></form>
<section class="tester" aria-labelledby="tester-tools"><h2 id="tester-tools">Tester tools</h2>
<form method="post" action="${input.actions.expire}"><button type="submit" class="secondary">Let the link expire</button></form>
<details><summary>Test cards (any future expiry, CVC 123)</summary><table>
<tr><th>Card number</th><th>Brand</th><th>Result</th></tr>
${cards.map(([pan, c]) => html`<tr><td>${pan}</td><td>${BRAND_NAMES[c.brand]}</td><td>${c.note}</td></tr>`)}
<tr><td>any other valid number</td><td>—</td><td>declined (Do not honor)</td></tr>
</table></details></section>`;
  return layout({ title: 'Pay by card', lang: localeLang(input.order), body });
}

export function threeDsPage(input: { order: OrderRow; merchant: string; action: string; brand: string; last4: string }): string {
  const body = html`<h1>3-D Secure</h1>
<p>Your bank asks you to confirm this payment.</p>
${summary(input.order, input.merchant)}
<p>Card: ${BRAND_NAMES[input.brand] ?? input.brand} ending in ${input.last4}</p>
<form method="post" action="${input.action}">
<label for="authentication">Authentication result</label>
<select id="authentication" name="authentication">
<option value="Y">Authenticated (Y)</option>
<option value="N">Not authenticated (N)</option>
</select>
<div><button type="submit">Confirm</button></div>
</form>`;
  return layout({ title: '3-D Secure', lang: localeLang(input.order), body });
}

function localeLang(order: OrderRow): string {
  const locale = typeof order.customer?.locale === 'string' ? order.customer.locale : 'en_US';
  return /^[a-z]{2}_/.test(locale) ? locale.slice(0, 2) : 'en';
}

/** Brands the page offers: all, or those named by the order's `gateway` (e.g. VISA, or CREDITCARD for all). */
export function offeredBrands(gateway: string | null): readonly Brand[] {
  if (!gateway || gateway === 'CREDITCARD') return BRANDS;
  const named = gateway.split('/').filter((g): g is Brand => (BRANDS as readonly string[]).includes(g));
  return named.length ? named : BRANDS;
}
