import { parseDecimalString, toDecimalString } from '../../src/core/money.js';

/**
 * NETOPIA settles in RON: an invoice in another currency is converted at the BNR rate and IPN amounts are
 * reported in RON (vanilo fixture: USD 33.00 → 132.69). The emulator uses a fixed table so that tests can
 * predict the numbers; rates are RON per unit in ten-thousandths, so conversion is integer arithmetic.
 */
export const EMULATOR_BNR_RATES: Readonly<Record<string, number>> = Object.freeze({
  RON: 10_000,
  EUR: 49_750,
  USD: 46_000,
  GBP: 58_000,
});

/** The largest invoice amount NETOPIA accepts: 99999 units, in minor units. */
export const MAX_INVOICE_MINOR = 9_999_900;

export function isSupportedCurrency(code: string): boolean {
  return Object.prototype.hasOwnProperty.call(EMULATOR_BNR_RATES, code);
}

/** Invoice minor units → RON minor units, rounding half up (all supported currencies have two decimals). */
export function toRonMinor(minor: number, currency: string): number {
  const rate = EMULATOR_BNR_RATES[currency];
  if (rate === undefined) throw new RangeError(`no emulator rate for ${currency}`);
  return Number((BigInt(minor) * BigInt(rate) + 5_000n) / 10_000n);
}

/** "12.34" for 1234 RON minor units, the two-decimal form NETOPIA writes in IPNs. */
export function ronText(minor: number): string {
  return toDecimalString(minor, 'RON');
}

const AMOUNT_RE = /^\d{1,7}(?:\.\d{1,2})?$/;

/**
 * Reads an amount typed by the back-office operator or sent by a merchant: digits with at most two decimals
 * (PHP's `%.02f` writes exactly two; fewer are accepted as any decimal parser would). Undefined if malformed.
 */
export function parseAmount(text: string, currency: string): number | undefined {
  const trimmed = text.trim();
  return AMOUNT_RE.test(trimmed) ? parseDecimalString(trimmed, currency) : undefined;
}
