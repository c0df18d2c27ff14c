import { html } from '../../src/html/template.js';
import { toDecimalString } from '../../src/core/money.js';
import { NEXI_CURRENCIES } from '../../src/connectors/nexi/currencies.js';
import { BRANDS, TEST_CARDS, type CardField } from './test-cards.js';
import type { Link } from './links.js';
import { pageLayout } from '../shared/page-layout.js';

/**
 * The customer's pages: XPay's checkout for a PayMail link (card brand, card data, Pay / Cancel, and the
 * sandbox's "let the link expire"), and its notices. Plain server-rendered HTML, no scripts, no external
 * assets; every control has an English accessible name.
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

const MESSAGES: Record<CardField, string> = {
  brand: 'Choose the card brand.',
  card_number: 'Enter a valid card number of the chosen brand.',
  expiry: 'Enter an expiry date in the future, as MM/YY.',
  cvv: 'Enter the CVV: 3 digits (4 for American Express).',
};

export interface CheckoutInput {
  link: Link;
  merchant: string;
  payAction: string;
  cancelAction: string;
  expireAction: string;
  errors?: CardField[];
  values?: { brand?: string; card_number?: string; expiry?: string };
}

export function checkoutPage(input: CheckoutInput): string {
  const { link } = input;
  const errors = input.errors ?? [];
  const invalid = (f: CardField) => (errors.includes(f) ? html` aria-invalid="true"` : '');
  const body = html`<h1>Card payment</h1>
<dl><dt>Merchant</dt><dd>${input.merchant}</dd><dt>Order</dt><dd>${link.cod_trans}</dd>
${link.descrizione && html`<dt>Description</dt><dd>${link.descrizione}</dd>`}<dt>Amount</dt><dd>${amountText(link)}</dd>
<dt>Link valid until</dt><dd>${new Date(link.expires_at).toISOString()}</dd></dl>
${errors.length > 0 && html`<div role="alert"><p>Please check the card details:</p><ul>${errors.map((f) => html`<li>${MESSAGES[f]}</li>`)}</ul></div>`}
<form method="post" action="${input.payAction}" novalidate>
<fieldset${invalid('brand')}><legend>Card brand</legend>
${BRANDS.map((b) => html`<label><input type="radio" name="brand" value="${b}"${input.values?.brand === b ? html` checked` : ''}> ${b}</label>`)}
</fieldset>
<label for="card_number">Card number</label>
<input type="text" id="card_number" name="card_number" inputmode="numeric" autocomplete="cc-number" value="${input.values?.card_number ?? ''}"${invalid('card_number')}>
<label for="expiry">Expiry date</label>
<input type="text" id="expiry" name="expiry" placeholder="MM/YY" autocomplete="cc-exp" value="${input.values?.expiry ?? ''}"${invalid('expiry')}>
<label for="cvv">CVV</label>
<input type="text" id="cvv" name="cvv" inputmode="numeric" autocomplete="cc-csc"${invalid('cvv')}>
<div><button type="submit">Pay</button></div>
</form>
<form method="post" action="${input.cancelAction}" class="inline"><button type="submit" class="secondary">Cancel</button></form>
<form method="post" action="${input.expireAction}" class="inline"><button type="submit" class="secondary">Let the link expire</button></form>
<details><summary>Test cards (any future expiry, any CVV)</summary><table>
${TEST_CARDS.map((c) => html`<tr><td>${c.brand}</td><td>${c.pan}</td><td>${c.label}</td><td>${c.source}</td></tr>`)}
</table></details>`;
  return layout({ title: 'Card payment', body });
}

export function noticePage(title: string, detail: string, back?: string): string {
  return layout({ title, body: html`<h1>${title}</h1><p role="alert">${detail}</p>${back && html`<p><a href="${back}">Return to the merchant</a></p>`}` });
}
