import type { PropertyError } from './replies.js';
import type { Shopper } from './schema.js';

/** Validation of `POST /v2/payments`, each problem named by its property as Volt's errorList does. */

export const PAYMENT_TYPES = ['BILL', 'GOODS', 'PERSON_TO_PERSON', 'OTHER', 'SERVICES'];
/** The currencies the sandbox takes (Volt's EU and UK schemes). */
export const CURRENCIES = ['EUR', 'GBP', 'PLN'];
const MAX_AMOUNT = 99_999_999_99;
const URL_FIELDS = ['notificationUrl', 'paymentSuccessUrl', 'paymentFailureUrl', 'paymentPendingUrl', 'paymentCancelUrl'] as const;
const EMAIL_RE = /^[^\s@]{1,64}@[^\s@]{1,255}\.[^\s@]{2,}$/;

export function isHttpUrl(value: string): boolean {
  if (value.length > 2000) return false;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}

export interface PaymentRequest {
  currencyCode: string;
  amount: number;
  type: string;
  uniqueReference?: string;
  merchantInternalReference?: string;
  shopper: Shopper;
  urls: Partial<Record<(typeof URL_FIELDS)[number], string>>;
}

function optionalText(errors: PropertyError[], input: Record<string, unknown>, name: string, max: number, property = name): string | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.length > max) {
    errors.push({ property, message: `This value should be a string of at most ${max} characters.` });
    return undefined;
  }
  return value;
}

export function validatePaymentRequest(body: unknown): { ok: true; request: PaymentRequest } | { ok: false; errors: PropertyError[] } {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return { ok: false, errors: [{ property: 'body', message: 'The request body must be a JSON object.' }] };
  const input = body as Record<string, unknown>;
  const errors: PropertyError[] = [];
  const currencyCode = input.currencyCode;
  if (typeof currencyCode !== 'string' || !/^[A-Z]{3}$/.test(currencyCode))
    errors.push({ property: 'currencyCode', message: 'This value is not a valid currency.' });
  else if (!CURRENCIES.includes(currencyCode)) errors.push({ property: 'currencyCode', message: `Currency ${currencyCode} is not supported.` });
  const amount = input.amount;
  if (typeof amount !== 'number' || !Number.isSafeInteger(amount))
    errors.push({ property: 'amount', message: 'This value should be an integer (minor units).' });
  else if (amount < 1 || amount > MAX_AMOUNT) errors.push({ property: 'amount', message: `This value should be between 1 and ${MAX_AMOUNT}.` });
  const type = input.type;
  if (typeof type !== 'string' || !PAYMENT_TYPES.includes(type))
    errors.push({ property: 'type', message: `The value you selected is not a valid choice (${PAYMENT_TYPES.join(', ')}).` });
  const uniqueReference = optionalText(errors, input, 'uniqueReference', 18);
  if (uniqueReference !== undefined && !/^[A-Za-z0-9]{1,18}$/.test(uniqueReference))
    errors.push({ property: 'uniqueReference', message: 'This value should contain 1 to 18 letters and digits only.' });
  const merchantInternalReference = optionalText(errors, input, 'merchantInternalReference', 100);
  if (uniqueReference === undefined && merchantInternalReference === undefined && input.uniqueReference === undefined) {
    errors.push({ property: 'uniqueReference', message: 'Either uniqueReference or merchantInternalReference is required.' });
  }
  let shopper: Shopper | undefined;
  const rawShopper = input.shopper;
  if (typeof rawShopper !== 'object' || rawShopper === null || Array.isArray(rawShopper)) {
    errors.push({ property: 'shopper', message: 'This value should not be blank.' });
  } else {
    const s = rawShopper as Record<string, unknown>;
    const reference = optionalText(errors, s, 'reference', 255, 'shopper.reference');
    if (!reference || reference.trim() === '') errors.push({ property: 'shopper.reference', message: 'This value should not be blank.' });
    const email = optionalText(errors, s, 'email', 255, 'shopper.email');
    if (email !== undefined && !EMAIL_RE.test(email)) errors.push({ property: 'shopper.email', message: 'This value is not a valid email address.' });
    const firstName = optionalText(errors, s, 'firstName', 255, 'shopper.firstName');
    const lastName = optionalText(errors, s, 'lastName', 255, 'shopper.lastName');
    shopper = { reference: reference ?? '', ...(email ? { email } : {}), ...(firstName ? { firstName } : {}), ...(lastName ? { lastName } : {}) };
  }
  const urls: PaymentRequest['urls'] = {};
  for (const name of URL_FIELDS) {
    const value = optionalText(errors, input, name, 2000);
    if (value === undefined) continue;
    if (!isHttpUrl(value)) errors.push({ property: name, message: 'This value is not a valid URL.' });
    else urls[name] = value;
  }
  if (errors.length) return { ok: false, errors };
  return {
    ok: true,
    request: {
      currencyCode: currencyCode as string,
      amount: amount as number,
      type: type as string,
      uniqueReference,
      merchantInternalReference,
      shopper: shopper!,
      urls,
    },
  };
}
