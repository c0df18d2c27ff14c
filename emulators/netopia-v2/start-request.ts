import { isKnownCurrency } from '../../src/core/money.js';
import { amountProblemMessage, minorFromJson } from './amounts.js';
import type { CardData } from './card-outcomes.js';
import { invalid, required, type FieldError } from './errors.js';

/**
 * Reads a `/payment/card/start` body (protocols/netopia.md §2.4) the way NETOPIA validates it, collecting
 * every wrong field rather than stopping at the first. What is checked: `order.posSignature`, `orderID`,
 * `amount` (a number in major units, > 0, at most the currency's decimals), `currency`, the billing contact
 * (email, firstName, lastName, city, numeric country), `config.notifyUrl`/`redirectUrl` (absolute http(s)
 * URLs), `config.language` (two letters), `order.data` (strings), and card data when some is sent. Fields
 * NETOPIA's schema lists but the emulator has no use for (products, shipping, payment.data) pass unread.
 */

export interface StartRequest {
  posSignature: string;
  orderId: string;
  description: string;
  amountMinor: number;
  currency: string;
  billing: Record<string, unknown>;
  data: Record<string, string>;
  notifyUrl: string;
  redirectUrl: string;
  cancelUrl: string | null;
  language: string;
  /** Direct card data (merchant under PCI-DSS), or a token from an earlier payment; neither means the hosted page. */
  instrument: { kind: 'hosted' } | { kind: 'card'; card: CardData } | { kind: 'token'; token: string };
}

type Obj = Record<string, unknown>;

export const isObject = (value: unknown): value is Obj => typeof value === 'object' && value !== null && !Array.isArray(value);

const filled = (value: unknown): value is string => typeof value === 'string' && value.trim() !== '';

export function isAbsoluteHttpUrl(value: unknown): value is string {
  if (typeof value !== 'string' || value.length > 2048) return false;
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

const EMAIL_RE = /^[^\s@]+@[^\s@]+$/;

function readConfig(config: unknown, errors: FieldError[]): Pick<StartRequest, 'notifyUrl' | 'redirectUrl' | 'cancelUrl' | 'language'> {
  const c = isObject(config) ? config : {};
  if (!isObject(config)) errors.push(required('config'));
  for (const name of ['notifyUrl', 'redirectUrl'] as const) {
    if (!filled(c[name])) errors.push(required(`config.${name}`));
    else if (!isAbsoluteHttpUrl(c[name])) errors.push(invalid(`config.${name}`, `config.${name} must be an absolute http(s) URL`));
  }
  const cancel = c.cancelUrl;
  if (cancel !== undefined && cancel !== null && cancel !== '' && !isAbsoluteHttpUrl(cancel)) {
    errors.push(invalid('config.cancelUrl', 'config.cancelUrl must be empty or an absolute http(s) URL'));
  }
  if (!filled(c.language)) errors.push(required('config.language'));
  else if (!/^[A-Za-z]{2}$/.test(c.language)) errors.push(invalid('config.language', 'config.language must be an ISO 639-1 code of two letters'));
  return {
    notifyUrl: String(c.notifyUrl ?? ''),
    redirectUrl: String(c.redirectUrl ?? ''),
    cancelUrl: filled(cancel) ? cancel : null,
    language: typeof c.language === 'string' ? c.language.toLowerCase() : '',
  };
}

function readBilling(billing: unknown, errors: FieldError[]): Obj {
  if (!isObject(billing)) {
    errors.push(required('order.billing'));
    return {};
  }
  for (const name of ['email', 'firstName', 'lastName', 'city'] as const) {
    if (!filled(billing[name])) errors.push(required(`order.billing.${name}`));
  }
  if (filled(billing.email) && !EMAIL_RE.test(billing.email)) errors.push(invalid('order.billing.email', 'order.billing.email is not an email address'));
  const country = billing.country;
  if (country === undefined || country === null || country === '') errors.push(required('order.billing.country'));
  else if (
    !(
      (typeof country === 'number' && Number.isInteger(country) && country > 0 && country < 1000) ||
      (typeof country === 'string' && /^\d{1,3}$/.test(country) && Number(country) > 0)
    )
  ) {
    errors.push(invalid('order.billing.country', 'order.billing.country must be a numeric ISO 3166-1 code, e.g. 642'));
  }
  return billing;
}

function readData(data: unknown, errors: FieldError[]): Record<string, string> {
  if (data === undefined || data === null) return {};
  if (!isObject(data)) {
    errors.push(invalid('order.data', 'order.data must be an object of strings'));
    return {};
  }
  for (const [key, value] of Object.entries(data)) {
    if (typeof value !== 'string') errors.push(invalid(`order.data.${key}`, `order.data.${key} must be a string`));
  }
  return data as Record<string, string>;
}

/** Four-digit years; two-digit ones are read as 20YY, as card forms write them. */
function readYear(value: unknown): number | undefined {
  if (typeof value !== 'number' || !Number.isInteger(value)) return undefined;
  if (value >= 0 && value <= 99) return 2000 + value;
  return value >= 2000 && value <= 2099 ? value : undefined;
}

function readInstrument(payment: unknown, errors: FieldError[]): StartRequest['instrument'] {
  if (payment !== undefined && payment !== null && !isObject(payment)) {
    errors.push(invalid('payment', 'payment must be an object'));
    return { kind: 'hosted' };
  }
  const instrument = isObject(payment) ? payment.instrument : undefined;
  if (instrument === undefined || instrument === null) return { kind: 'hosted' };
  if (!isObject(instrument)) {
    errors.push(invalid('payment.instrument', 'payment.instrument must be an object'));
    return { kind: 'hosted' };
  }
  const f = 'payment.instrument';
  if (instrument.type !== undefined && instrument.type !== '' && instrument.type !== 'card') errors.push(invalid(`${f}.type`, `${f}.type must be "card"`));
  const { account, expMonth, expYear, secretCode, token } = instrument;
  const sent = (v: unknown) => v !== undefined && v !== null && v !== '' && v !== 0;
  if (![account, expMonth, expYear, secretCode].some(sent)) {
    if (!sent(token)) return { kind: 'hosted' };
    if (typeof token !== 'string' || token.length < 5 || token.length > 512)
      errors.push(invalid(`${f}.token`, `${f}.token must be a token of at least 5 characters`));
    return { kind: 'token', token: String(token) };
  }
  const pan = typeof account === 'string' ? account.replace(/[\s-]/g, '') : '';
  if (!sent(account)) errors.push(required(`${f}.account`));
  else if (!/^\d{12,19}$/.test(pan)) errors.push(invalid(`${f}.account`, `${f}.account must be a card number of 12 to 19 digits`));
  if (!sent(expMonth)) errors.push(required(`${f}.expMonth`));
  else if (typeof expMonth !== 'number' || !Number.isInteger(expMonth) || expMonth < 1 || expMonth > 12)
    errors.push(invalid(`${f}.expMonth`, `${f}.expMonth must be a month, 1 to 12`));
  const year = readYear(expYear);
  if (!sent(expYear)) errors.push(required(`${f}.expYear`));
  else if (year === undefined) errors.push(invalid(`${f}.expYear`, `${f}.expYear must be a year such as 2030`));
  if (!sent(secretCode)) errors.push(required(`${f}.secretCode`));
  else if (typeof secretCode !== 'string' || !/^\d{3,4}$/.test(secretCode)) errors.push(invalid(`${f}.secretCode`, `${f}.secretCode must be 3 or 4 digits`));
  return { kind: 'card', card: { pan, expMonth: Number(expMonth), expYear: year ?? 0, cvv: String(secretCode ?? '') } };
}

export function readStartRequest(body: unknown): StartRequest | FieldError[] {
  if (!isObject(body)) return [invalid('', 'the body must be a JSON object')];
  const errors: FieldError[] = [];
  const config = readConfig(body.config, errors);
  const order = isObject(body.order) ? body.order : {};
  if (!isObject(body.order)) errors.push(required('order'));
  if (!filled(order.posSignature)) errors.push(required('order.posSignature'));
  if (!filled(order.orderID)) errors.push(required('order.orderID'));
  else if (order.orderID.length > 64) errors.push(invalid('order.orderID', 'order.orderID must be at most 64 characters'));
  if (order.description !== undefined && order.description !== null && typeof order.description !== 'string') {
    errors.push(invalid('order.description', 'order.description must be a string'));
  }
  if (filled(order.dateTime) && Number.isNaN(Date.parse(order.dateTime)))
    errors.push(invalid('order.dateTime', 'order.dateTime must be an ISO 8601 date and time'));
  const currency = typeof order.currency === 'string' ? order.currency : '';
  if (!filled(order.currency)) errors.push(required('order.currency'));
  else if (!/^[A-Z]{3}$/.test(currency) || !isKnownCurrency(currency))
    errors.push(invalid('order.currency', 'order.currency must be an ISO 4217 code such as RON'));
  let amountMinor = 0;
  if (order.amount === undefined || order.amount === null) errors.push(required('order.amount'));
  else {
    // Without a usable currency the decimals cannot be judged; RON's two stand in so the amount is still checked.
    const amount = minorFromJson(order.amount, isKnownCurrency(currency) ? currency : 'RON');
    if (typeof amount === 'number') amountMinor = amount;
    else errors.push(invalid('order.amount', amountProblemMessage(amount, 'order.amount', currency || 'RON')));
  }
  const billing = readBilling(order.billing, errors);
  const data = readData(order.data, errors);
  const instrument = readInstrument(body.payment, errors);
  if (errors.length > 0) return errors;
  return {
    posSignature: String(order.posSignature).trim(),
    orderId: String(order.orderID),
    description: typeof order.description === 'string' ? order.description : '',
    amountMinor,
    currency,
    billing,
    data,
    ...config,
    instrument,
  };
}
