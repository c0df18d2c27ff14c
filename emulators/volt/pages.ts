import { toDecimalString } from '../../src/core/money.js';
import { SANDBOX_BANKS, type SandboxBank } from './banks.js';
import { html, layout } from './html.js';
import type { PaymentRow } from './payments.js';

/**
 * The payer's pages: Volt's checkout (choose your bank) and a sandbox bank's approval page. Controls carry
 * the names scripts and assistive technology look for: one radio button per bank labelled with its name,
 * "Continue", and at the bank "Authorise payment", "Refuse", "Cancel", "Leave without finishing".
 */

function summary(p: PaymentRow, merchant: string) {
  return html`<dl>
<dt>Pay to</dt><dd>${merchant}</dd>
<dt>Amount</dt><dd>${toDecimalString(Number(p.amount), p.currency)} ${p.currency}</dd>
<dt>Reference</dt><dd>${p.unique_reference}</dd>
</dl>`;
}

export function checkoutPage(input: {
  payment: PaymentRow;
  merchant: string;
  action: string;
  cancelAction: string;
  auth: string;
  missingBank?: boolean;
}): string {
  const body = html`<h1>Pay by bank</h1>
${summary(input.payment, input.merchant)}
${input.missingBank && html`<p role="alert">Choose your bank to continue.</p>`}
<form method="post" action="${input.action}">
<input type="hidden" name="auth" value="${input.auth}">
<fieldset${input.missingBank ? html` aria-invalid="true"` : ''}><legend>Choose your bank</legend>
${SANDBOX_BANKS.map(
  (b) =>
    html`<div class="bank"><input type="radio" id="bank-${b.id}" name="bank" value="${b.id}" aria-describedby="country-${b.id}"><label for="bank-${b.id}">${b.name}</label> <span class="country" id="country-${b.id}">${b.country.name}</span></div>`,
)}
</fieldset>
<button type="submit">Continue</button>
</form>
<form method="post" action="${input.cancelAction}"><input type="hidden" name="auth" value="${input.auth}"><button type="submit" class="secondary">Cancel payment</button></form>`;
  return layout({ title: 'Pay by bank', body });
}

export function bankPage(input: { payment: PaymentRow; merchant: string; bank: SandboxBank; action: string; auth: string }): string {
  const body = html`<h1>${input.bank.name}</h1>
<p>Sandbox online banking (${input.bank.officialName}). Please review and authorise this payment.</p>
${summary(input.payment, input.merchant)}
<form method="post" action="${input.action}">
<input type="hidden" name="auth" value="${input.auth}">
<button type="submit" name="decision" value="authorise">Authorise payment</button>
<button type="submit" name="decision" value="refuse" class="secondary">Refuse</button>
<button type="submit" name="decision" value="cancel" class="secondary">Cancel</button>
<button type="submit" name="decision" value="abandon" class="secondary">Leave without finishing</button>
</form>`;
  return layout({ title: input.bank.name, body });
}

/** A page that ends the journey when there is nowhere to send the payer, or nothing left to do. */
export function messagePage(input: { title: string; detail: string; backUrl?: string }): string {
  const body = html`<h1>${input.title}</h1><p role="status">${input.detail}</p>${input.backUrl && html`<p><a href="${input.backUrl}">Return to the merchant</a></p>`}`;
  return layout({ title: input.title, body });
}
