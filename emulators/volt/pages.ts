import { toDecimalString } from '../../src/core/money.js';
import { SANDBOX_BANKS, type SandboxBank } from './banks.js';
import { html, layout } from './html.js';
import type { PaymentRow } from './payments.js';
import { chooseLanguage, fill } from '../../src/html/language.js';
import { VOLT_LANGUAGES, VOLT_TEXT, type VoltLanguage } from './page-text.js';

/**
 * The payer's pages: Volt's checkout (choose your bank) and a sandbox bank's approval page, each in one language
 * (the browser's Accept-Language among en, ro and it, else English; page-text.ts). Controls carry the names
 * scripts and assistive technology look for: one radio button per bank labelled with its name, then Continue,
 * and at the bank Authorise, Refuse, Cancel and Leave, in the page's language.
 */

type Words = (typeof VOLT_TEXT)[VoltLanguage];

export function pageLanguage(acceptLanguage: unknown): VoltLanguage {
  return chooseLanguage(VOLT_LANGUAGES, [], acceptLanguage);
}

/** A country's name in the page's language (ICU's names). */
function countryName(lang: VoltLanguage, country: { id: string; name: string }): string {
  try {
    return new Intl.DisplayNames([lang], { type: 'region' }).of(country.id) ?? country.name;
  } catch {
    return country.name;
  }
}

function summary(p: PaymentRow, merchant: string, t: Words) {
  return html`<dl>
<dt>${t.payTo}</dt><dd>${merchant}</dd>
<dt>${t.amount}</dt><dd>${toDecimalString(Number(p.amount), p.currency)} ${p.currency}</dd>
<dt>${t.reference}</dt><dd>${p.unique_reference}</dd>
</dl>`;
}

export function checkoutPage(input: {
  lang: VoltLanguage;
  payment: PaymentRow;
  merchant: string;
  action: string;
  cancelAction: string;
  auth: string;
  missingBank?: boolean;
}): string {
  const { lang } = input;
  const t = VOLT_TEXT[lang];
  const body = html`<h1>${t.title}</h1>
${summary(input.payment, input.merchant, t)}
${input.missingBank && html`<p role="alert">${t.chooseBankToContinue}</p>`}
<form method="post" action="${input.action}">
<input type="hidden" name="auth" value="${input.auth}">
<fieldset${input.missingBank ? html` aria-invalid="true"` : ''}><legend>${t.chooseBank}</legend>
${SANDBOX_BANKS.map(
  (b) =>
    html`<div class="bank"><input type="radio" id="bank-${b.id}" name="bank" value="${b.id}" aria-describedby="country-${b.id}"><label for="bank-${b.id}">${b.name}</label> <span class="country" id="country-${b.id}">${countryName(lang, b.country)}</span></div>`,
)}
</fieldset>
<button type="submit">${t.continue}</button>
</form>
<form method="post" action="${input.cancelAction}"><input type="hidden" name="auth" value="${input.auth}"><button type="submit" class="secondary">${t.cancelPayment}</button></form>`;
  return layout({ title: t.title, lang, tagline: t.tagline, body });
}

export function bankPage(input: { lang: VoltLanguage; payment: PaymentRow; merchant: string; bank: SandboxBank; action: string; auth: string }): string {
  const { lang } = input;
  const t = VOLT_TEXT[lang];
  const body = html`<h1>${input.bank.name}</h1>
<p>${fill(t.bankIntro, { bank: input.bank.officialName })}</p>
${summary(input.payment, input.merchant, t)}
<form method="post" action="${input.action}">
<input type="hidden" name="auth" value="${input.auth}">
<button type="submit" name="decision" value="authorise">${t.authorise}</button>
<button type="submit" name="decision" value="refuse" class="secondary">${t.refuse}</button>
<button type="submit" name="decision" value="cancel" class="secondary">${t.cancel}</button>
<button type="submit" name="decision" value="abandon" class="secondary">${t.abandon}</button>
</form>`;
  return layout({ title: input.bank.name, lang, tagline: t.tagline, body });
}

/** A page that ends the journey when there is nowhere to send the payer, or nothing left to do. */
export function messagePage(input: { lang?: VoltLanguage; title: string; detail: string; backUrl?: string }): string {
  // `title` and `detail` are in `lang` (English when not given: an error outside any payment).
  const lang = input.lang ?? 'en';
  const t = VOLT_TEXT[lang];
  const body = html`<h1>${input.title}</h1><p role="status">${input.detail}</p>${input.backUrl && html`<p><a href="${input.backUrl}">${t.backToMerchant}</a></p>`}`;
  return layout({ title: input.title, lang, tagline: t.tagline, body });
}
