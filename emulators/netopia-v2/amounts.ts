import { currencyExponent, isKnownCurrency, parseDecimalString, toDecimalString } from '../../src/core/money.js';

/**
 * NETOPIA v2 carries amounts as JSON numbers in major units (`"amount": 159.9`). The emulator keeps integer
 * minor units and converts at the edge, exactly: a number is read through its shortest decimal form (what
 * `String(n)` gives, so 0.1 + 0.2 arrives as "0.30000000000000004" and is refused rather than rounded), and
 * written back as the number whose shortest form is the exact decimal.
 */

/** The largest amount accepted: 99 999 999.99 in a two-decimal currency. Ten digits of minor units keep every
 * amount exactly representable as a double with its decimals, so writing it back as a JSON number is exact. */
export const MAX_AMOUNT_MINOR = 9_999_999_999;

const PLAIN_DECIMAL = /^\d+(?:\.\d+)?$/;

export type AmountProblem = 'type' | 'positive' | 'decimals' | 'range';

/** A JSON amount in major units → minor units, or why it cannot be one. */
export function minorFromJson(value: unknown, currency: string): number | AmountProblem {
  if (typeof value !== 'number' || !Number.isFinite(value)) return 'type';
  if (value <= 0) return 'positive';
  const text = String(value);
  // Exponent forms (1e-7, 1e+21) are never amounts with at most the currency's decimals.
  if (!PLAIN_DECIMAL.test(text)) return text.includes('e-') ? 'decimals' : 'range';
  const [whole = '', fraction = ''] = text.split('.');
  const exponent = currencyExponent(currency);
  if (/[^0]/.test(fraction.slice(exponent))) return 'decimals';
  if (whole.length > 11) return 'range';
  const minor = parseDecimalString(fraction ? `${whole}.${fraction.slice(0, exponent) || '0'}` : whole, currency);
  if (minor <= 0) return 'positive';
  return minor > MAX_AMOUNT_MINOR ? 'range' : minor;
}

export function amountProblemMessage(problem: AmountProblem, field: string, currency: string): string {
  switch (problem) {
    case 'type':
      return `${field} must be a number in major units, e.g. 159.9`;
    case 'positive':
      return `${field} must be greater than 0`;
    case 'decimals':
      return `${field} has more than ${isKnownCurrency(currency) ? currencyExponent(currency) : 2} decimals for ${currency}`;
    case 'range':
      return `${field} is too large`;
  }
}

/** Minor units → the JSON number NETOPIA writes: 15990 RON → 159.9, 20000 → 200. */
export function jsonAmount(minor: number, currency: string): number {
  return Number(toDecimalString(minor, currency));
}
