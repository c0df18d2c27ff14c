import { isKnownCurrency } from '../../src/core/money.js';
import type { NewOrder } from './orders.js';

/**
 * Checks a create-order body the way MultiSafepay's API answers it: the first problem found, as an error
 * code of its "Error reference" (1001 amount, 1002 currency, 1006 order id, 1008 description, 1010 var1-3,
 * 1016 missing data, 1018 country, 1023 gateway).
 */

export interface InputError {
  code: number;
  info: string;
}

const DAY_SECONDS = 86_400;
const MAX_AMOUNT = 99_999_999_999;
const CUSTOMER_FIELDS = [
  'locale',
  'ip_address',
  'forwarded_ip',
  'first_name',
  'last_name',
  'address1',
  'address2',
  'house_number',
  'zip_code',
  'city',
  'state',
  'country',
  'phone',
  'email',
  'company_name',
  'reference',
] as const;
const CARD_GATEWAYS = new Set(['CREDITCARD', 'VISA', 'MASTERCARD', 'MAESTRO', 'AMEX']);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function httpUrl(v: unknown): boolean {
  if (typeof v !== 'string' || v.length > 1000) return false;
  try {
    const u = new URL(v);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

export function readCreateOrder(body: unknown, apiKey: string, now: Date): { order: NewOrder } | InputError {
  if (!isRecord(body)) return { code: 1016, info: 'Missing data: the body must be a JSON object' };
  const type = body.type ?? 'redirect';
  if (type !== 'redirect' && type !== 'paymentlink')
    return { code: 1000, info: `Unknown message type: ${String(type)} orders are not available on this website` };
  const gateway = body.gateway ?? null;
  if (gateway !== null && (typeof gateway !== 'string' || !gateway.split('/').every((g) => CARD_GATEWAYS.has(g)))) {
    return { code: 1023, info: 'Gateway unavailable: this test website offers the card gateways only (CREDITCARD, VISA, MASTERCARD, MAESTRO, AMEX)' };
  }
  const orderId = body.order_id;
  if (orderId === undefined || orderId === null || orderId === '') return { code: 1016, info: 'Missing data: order_id' };
  if (typeof orderId !== 'string' && typeof orderId !== 'number') return { code: 1006, info: 'Invalid transaction ID' };
  const orderIdText = String(orderId);
  if (orderIdText.length > 50) return { code: 1006, info: 'Invalid transaction ID: order_id is longer than 50 characters' };
  const currency = body.currency;
  if (typeof currency !== 'string' || !/^[A-Z]{3}$/.test(currency) || !isKnownCurrency(currency)) return { code: 1002, info: 'Invalid currency' };
  const amount = body.amount;
  if (typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount < 1 || amount > MAX_AMOUNT) return { code: 1001, info: 'Invalid amount' };
  const description = body.description;
  if (typeof description !== 'string' || description.trim() === '' || Array.from(description).length > 200) return { code: 1008, info: 'Invalid description' };
  for (const name of ['var1', 'var2', 'var3'] as const) {
    const v = body[name];
    if (v !== undefined && v !== null && (typeof v !== 'string' || v.length > 100)) return { code: 1010, info: `Invalid variable: ${name}` };
  }
  const options = body.payment_options ?? {};
  if (!isRecord(options)) return { code: 1016, info: 'Missing data: payment_options must be an object' };
  for (const name of ['notification_url', 'redirect_url', 'cancel_url'] as const) {
    if (options[name] !== undefined && options[name] !== null && options[name] !== '' && !httpUrl(options[name]))
      return { code: 1016, info: `Missing data: payment_options.${name} must be an http(s) URL` };
  }
  const method = options.notification_method ?? 'GET';
  if (method !== 'POST' && method !== 'GET') return { code: 1016, info: 'Missing data: payment_options.notification_method must be POST or GET' };
  const customerIn = body.customer ?? {};
  if (!isRecord(customerIn)) return { code: 1016, info: 'Missing data: customer must be an object' };
  const customer: Record<string, string> = {};
  for (const name of CUSTOMER_FIELDS) {
    const v = customerIn[name];
    if (v === undefined || v === null || v === '') continue;
    if (typeof v !== 'string' || v.length > 200) return { code: 1016, info: `Missing data: customer.${name} must be a string` };
    customer[name] = v;
  }
  if (customer.country !== undefined && !/^[A-Z]{2}$/.test(customer.country)) return { code: 1018, info: 'Invalid country code' };
  if (customer.email !== undefined && (customer.email.length > 64 || !/^[^\s@]+@[^\s@]+$/.test(customer.email)))
    return { code: 1016, info: 'Missing data: customer.email is not an email address of at most 64 characters' };
  if (customer.locale !== undefined && !/^[a-z]{2}_[A-Z]{2}$/.test(customer.locale))
    return { code: 1016, info: 'Missing data: customer.locale must look like en_US' };
  const seconds = body.seconds_active;
  const days = body.days_active;
  if (seconds !== undefined && seconds !== null && (typeof seconds !== 'number' || !Number.isSafeInteger(seconds) || seconds < 1 || seconds > 31_536_000))
    return { code: 1016, info: 'Missing data: seconds_active must be 1 to 31536000' };
  if (days !== undefined && days !== null && (typeof days !== 'number' || !Number.isSafeInteger(days) || days < 1 || days > 365))
    return { code: 1016, info: 'Missing data: days_active must be 1 to 365' };
  // "If both are set, seconds_active wins"; without either a link lives 30 days.
  const lifetime = typeof seconds === 'number' ? seconds : typeof days === 'number' ? days * DAY_SECONDS : 30 * DAY_SECONDS;
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null);
  return {
    order: {
      api_key: apiKey,
      order_id: orderIdText,
      type,
      gateway: gateway as string | null,
      currency,
      amount,
      description,
      notification_url: str(options.notification_url),
      notification_method: method,
      redirect_url: str(options.redirect_url),
      cancel_url: str(options.cancel_url),
      customer: JSON.stringify(customer),
      var1: str(body.var1),
      var2: str(body.var2),
      var3: str(body.var3),
      expires_at: new Date(now.getTime() + lifetime * 1000),
    },
  };
}
