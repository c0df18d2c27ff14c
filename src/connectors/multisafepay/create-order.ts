import { createHash } from 'node:crypto';
import type { Party, PaymentRedirectInput } from '../types.js';
import { toMspAmount } from './order.js';

/**
 * The body of `POST /orders` for a payment link (OpenAPI `schemas/orders/PaymentPage.yaml`, type
 * `paymentlink`), built from one hub attempt.
 */

/** `order_id` is at most 50 characters and unique per website. */
export const ORDER_ID_MAX = 50;
/** `description` is at most 200 characters. */
export const DESCRIPTION_MAX = 200;
/** `customer.email` is at most 64 characters. */
const EMAIL_MAX = 64;
/** `seconds_active` is 1 … 31 536 000 (one year). */
export const SECONDS_ACTIVE_MAX = 31_536_000;
/** `var1`…`var3` hold at most 100 characters. */
const VAR_MAX = 100;
/**
 * The free variable that carries the merchant's own order reference (the payment's `order_id`), since the
 * `order_id` MultiSafepay knows is the hub's attempt id (unique per attempt). MultiSafepay keeps `var1`…`var3`
 * with the order and echoes them in every order lookup and notification (OpenAPI `OrderDetails`); `var1`
 * carries the hub's reference when the order id had to be derived from it.
 */
export const ORDER_REFERENCE_VAR = 'var2';

const DERIVED_PREFIX = 'h-';

/**
 * The order id for a hub attempt: the attempt id itself when it fits MultiSafepay's 50 characters (always,
 * for the hub's 30-character ids). A longer reference is hashed into a deterministic id, and the reference
 * travels in `var1`, which MultiSafepay echoes in every notification and order lookup.
 */
export function orderIdFor(reference: string): string {
  if (reference.length <= ORDER_ID_MAX && !reference.startsWith(DERIVED_PREFIX)) return reference;
  return DERIVED_PREFIX + createHash('sha256').update(reference, 'utf8').digest('hex').slice(0, 40);
}

/** The hub's reference behind an order id (`var1` carries it when the id was derived). */
export function referenceFor(orderId: string, var1: string | undefined): string {
  if (orderId.startsWith(DERIVED_PREFIX) && var1 !== undefined && orderIdFor(var1) === orderId) return var1;
  return orderId;
}

/** Default country of each language MultiSafepay's pages speak, for locales such as `it_IT`. */
const LOCALES: Readonly<Record<string, string>> = {
  en: 'en_US',
  nl: 'nl_NL',
  de: 'de_DE',
  fr: 'fr_FR',
  it: 'it_IT',
  es: 'es_ES',
  pt: 'pt_PT',
  pl: 'pl_PL',
  cs: 'cs_CZ',
  sv: 'sv_SE',
  da: 'da_DK',
  fi: 'fi_FI',
  no: 'no_NO',
  nb: 'no_NO',
  tr: 'tr_TR',
  ro: 'ro_RO',
  el: 'el_GR',
  hu: 'hu_HU',
  sk: 'sk_SK',
  hr: 'hr_HR',
  bg: 'bg_BG',
  zh: 'zh_CN',
  ja: 'ja_JP',
  ru: 'ru_RU',
};
export const LOCALE_RE = /^[a-z]{2}_[A-Z]{2}$/;

/** `customer.locale` from the customer's language (ISO 639-1), else the connection's locale. */
export function localeFor(language: string | undefined, fallback: string): string {
  const lang = language?.toLowerCase().slice(0, 2);
  return (lang && LOCALES[lang]) || fallback;
}

/** Whole seconds from `now` to the deadline, within MultiSafepay's range; undefined when there is none. */
export function secondsActive(expiresAt: Date | undefined, now: Date): number | undefined {
  if (!expiresAt) return undefined;
  const seconds = Math.ceil((expiresAt.getTime() - now.getTime()) / 1000);
  return Math.min(Math.max(seconds, 1), SECONDS_ACTIVE_MAX);
}

/** Cuts text to `max` code points (MultiSafepay counts characters, not UTF-16 units). */
function clip(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : chars.slice(0, max).join('');
}

/** A free variable's text cut to 100 characters, counted the strictest way (UTF-16 units), never mid-character. */
function fitVar(text: string): string {
  if (text.length <= VAR_MAX) return text;
  let out = '';
  for (const ch of text) {
    if (out.length + ch.length > VAR_MAX) break;
    out += ch;
  }
  return out;
}

function customerOf(p: Party, locale: string): Record<string, unknown> {
  const c: Record<string, unknown> = { locale, first_name: p.first_name, last_name: p.last_name };
  if (p.email && p.email.length <= EMAIL_MAX) c.email = p.email;
  if (p.phone) c.phone = p.phone;
  if (p.address) c.address1 = p.address;
  if (p.zip_code) c.zip_code = p.zip_code;
  if (p.city) c.city = p.city;
  if (p.county) c.state = p.county;
  if (p.country) c.country = p.country.toUpperCase();
  if (p.company) c.company_name = p.company;
  return c;
}

export function createOrderBody(input: PaymentRedirectInput, locale: string): Record<string, unknown> {
  const orderId = orderIdFor(input.reference);
  // The description is on the payer's page: without one, it names the merchant's order, not the hub's attempt.
  const description = clip(input.description.trim() || `Order ${input.merchantOrderId?.trim() || orderId}`, DESCRIPTION_MAX);
  const body: Record<string, unknown> = {
    type: 'paymentlink',
    order_id: orderId,
    currency: input.currency,
    amount: toMspAmount(input.amount, input.currency),
    description,
    payment_options: {
      notification_url: input.urls.notify,
      notification_method: 'POST',
      redirect_url: input.urls.return,
      cancel_url: input.urls.cancel ?? input.urls.return,
      close_window: false,
    },
    customer: customerOf(input.billing, localeFor(input.language, locale)),
  };
  const seconds = secondsActive(input.expiresAt, input.now);
  if (seconds !== undefined) body.seconds_active = seconds;
  if (orderId !== input.reference && input.reference.length <= VAR_MAX) body.var1 = input.reference;
  const merchantOrderId = input.merchantOrderId?.trim();
  if (merchantOrderId) body[ORDER_REFERENCE_VAR] = fitVar(merchantOrderId);
  return body;
}
