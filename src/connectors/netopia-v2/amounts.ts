/**
 * NETOPIA v2 amounts are JSON numbers in major units (`"amount": 159.9`). The hub's money is integer minor
 * units, so the conversion happens here, exactly, through decimal strings and never through float arithmetic:
 * 15990 RON → "159.90" → 159.9 (whose shortest form JSON.stringify writes as `159.9`), and back.
 */
import { MoneyError, currencyExponent, parseDecimalString, toDecimalString } from '../../core/money.js';

/**
 * A double holds every decimal of up to 15 significant digits exactly enough that its shortest representation
 * (what JSON.stringify and String() print) is that decimal again. Beyond, 12345678901234.567 would be sent as
 * something else, so such amounts are refused rather than silently changed.
 */
const MAX_SIGNIFICANT_DIGITS = 15;

/**
 * The largest amount a NETOPIA v2 payment is opened with, in minor units: 99 999 999.99 in its two-decimal
 * currencies, the limit the emulator applies to `order.amount` (NETOPIA documents none for v2; v1's is 99 999
 * units). Far inside what `minorToMajor` sends exactly (15 significant digits), so a payment the hub accepts can
 * always be encoded; 9007199254740991 cannot (its /pay page used to fail), and is refused at creation.
 */
export const NETOPIA_V2_MAX_AMOUNT_MINOR = 9_999_999_999;

/** Minor units → the major-unit JSON number NETOPIA expects: 15990 RON → 159.9, 30 RON → 0.3, 100 JPY → 100. */
export function minorToMajor(amount: number, currency: string): number {
  if (!Number.isSafeInteger(amount) || amount < 0) throw new MoneyError(`amount must be a non-negative integer of minor units, got ${amount}`);
  const decimal = toDecimalString(amount, currency);
  const significant = decimal.replace('.', '').replace(/^0+/, '');
  if (significant.length > MAX_SIGNIFICANT_DIGITS)
    throw new MoneyError(`${decimal} ${currency} has more significant digits than a JSON number carries exactly`);
  const major = Number(decimal);
  // Belt and braces: the number must read back as the very same amount.
  if (majorToMinor(major, currency) !== amount) throw new MoneyError(`${decimal} ${currency} does not survive the trip through a JSON number`);
  return major;
}

/** A plain decimal as String() prints a double: digits, optionally one dot and more digits. No sign, no exponent. */
const SHORTEST_DECIMAL_RE = /^\d+(\.\d+)?$/;

/**
 * A wire JSON number → exact minor units. The number's shortest decimal form is taken as what NETOPIA meant
 * (159.9 → "159.9" → 15990); more decimals than the currency has (1.005 RON, or the 0.30000000000000004 of a
 * float sum), exponents (1e21, 1e-7), negatives, -0, NaN and infinities are refused with a MoneyError.
 */
export function majorToMinor(value: unknown, currency: string): number {
  currencyExponent(currency);
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new MoneyError(`amount must be a finite JSON number, got ${describe(value)}`);
  if (value < 0 || Object.is(value, -0)) throw new MoneyError(`amount must not be negative, got ${describe(value)}`);
  const text = String(value);
  if (!SHORTEST_DECIMAL_RE.test(text)) throw new MoneyError(`amount ${text} is not a plain decimal`);
  return parseDecimalString(text, currency);
}

function describe(value: unknown): string {
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value);
  return typeof value;
}
