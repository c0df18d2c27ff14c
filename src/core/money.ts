/**
 * Money in the core is an integer count of minor units plus an ISO 4217 currency code.
 * Decimal strings and floats exist only at a connector's edge (see `toDecimalString` / `parseDecimalString`).
 */

/** ISO 4217 minor-unit exponents for the currencies the hub accepts. */
export const CURRENCY_EXPONENTS: Readonly<Record<string, number>> = Object.freeze({
  RON: 2,
  EUR: 2,
  USD: 2,
  GBP: 2,
  CHF: 2,
  MDL: 2,
  HUF: 2,
  BGN: 2,
  PLN: 2,
  CZK: 2,
  SEK: 2,
  NOK: 2,
  DKK: 2,
  CAD: 2,
  AUD: 2,
  TRY: 2,
  UAH: 2,
  RSD: 2,
  ILS: 2,
  CNY: 2,
  NZD: 2,
  ZAR: 2,
  AED: 2,
  BRL: 2,
  MXN: 2,
  INR: 2,
  VEF: 2,
  COP: 2,
  PEN: 2,
  HRK: 2,
  HKD: 2,
  TWD: 2,
  PHP: 2,
  MYR: 2,
  RUB: 2,
  SGD: 2,
  THB: 2,
  JPY: 0,
  KRW: 0,
  ISK: 0,
  CLP: 0,
  VND: 0,
  KWD: 3,
  BHD: 3,
  JOD: 3,
  OMR: 3,
  TND: 3,
});

export interface Money {
  readonly amount: number; // integer, minor units
  readonly currency: string; // ISO 4217 alphabetic code
}

export class MoneyError extends Error {
  override name = 'MoneyError';
}

export function isKnownCurrency(code: string): boolean {
  return Object.prototype.hasOwnProperty.call(CURRENCY_EXPONENTS, code);
}

export function currencyExponent(code: string): number {
  const e = isKnownCurrency(code) ? CURRENCY_EXPONENTS[code] : undefined;
  if (e === undefined) throw new MoneyError(`unknown currency ${JSON.stringify(code)}`);
  return e;
}

/** The largest minor-unit amount the hub stores (fits in a PostgreSQL bigint and a JS safe integer). */
export const MAX_MINOR_AMOUNT = Number.MAX_SAFE_INTEGER;

export function money(amount: number, currency: string): Money {
  if (!Number.isSafeInteger(amount) || amount < 0) throw new MoneyError(`amount must be a non-negative integer of minor units, got ${amount}`);
  currencyExponent(currency);
  return { amount, currency };
}

/** Formats minor units as a plain decimal string with exactly the currency's decimals: 1234 RON → "12.34". */
export function toDecimalString(amount: number, currency: string): string {
  const exp = currencyExponent(currency);
  if (!Number.isSafeInteger(amount)) throw new MoneyError(`not an integer amount: ${amount}`);
  const negative = amount < 0;
  const digits = String(Math.abs(amount)).padStart(exp + 1, '0');
  const whole = digits.slice(0, digits.length - exp);
  const frac = exp > 0 ? '.' + digits.slice(digits.length - exp) : '';
  return (negative ? '-' : '') + whole + frac;
}

const DECIMAL_RE = /^(\d{1,16})(?:\.(\d{1,12}))?$/;

/**
 * Parses a plain decimal string ("12.3", "12.34", "12") into minor units without floating point.
 * Rejects more decimals than the currency has unless they are zeros ("12.340" is fine, "12.345" is not).
 */
export function parseDecimalString(text: string, currency: string): number {
  const exp = currencyExponent(currency);
  const m = DECIMAL_RE.exec(text.trim());
  if (!m) throw new MoneyError(`not a decimal amount: ${JSON.stringify(text)}`);
  const whole = m[1]!;
  let frac = m[2] ?? '';
  if (frac.length > exp) {
    if (!/^0*$/.test(frac.slice(exp))) throw new MoneyError(`${JSON.stringify(text)} has more than ${exp} decimals for ${currency}`);
    frac = frac.slice(0, exp);
  }
  const minor = Number(whole + frac.padEnd(exp, '0'));
  if (!Number.isSafeInteger(minor)) throw new MoneyError(`amount out of range: ${JSON.stringify(text)}`);
  return minor;
}
