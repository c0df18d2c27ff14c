import { currencyExponent } from '../../core/money.js';
import { instantOfWallClock, wallClockAt, wallClockParts } from '../../core/wall-clock.js';
import { OnpayError } from './errors.js';

/**
 * OnPay's value forms. Dates are `YYYY-mm-dd HH:ii:ss` (the examples also send a bare `YYYY-mm-dd`) in Italian
 * time, the original service's clock; amounts are "the value followed by two decimals" (value × 100) whatever the
 * currency, converted here to ISO 4217 minor units (JPY 1500 is orderAmount 150000, core amount 1500).
 */

export const ONPAY_TIME_ZONE = 'Europe/Rome';

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?$/;

/**
 * Reads an OnPay datetime. A bare date means the start of that day, or its end (`endOfDay`) where the field is
 * an upper bound (a link's expiry, the end of a period).
 */
export function parseOnpayDate(text: string, field: string, options: { endOfDay?: boolean } = {}): Date {
  const m = DATE_RE.exec(text.trim());
  if (!m) throw new OnpayError(`${field} must be a date "YYYY-mm-dd HH:ii:ss" (or "YYYY-mm-dd")`);
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const timeGiven = m[4] !== undefined;
  const [h, mi, s] = timeGiven ? [Number(m[4]), Number(m[5]), Number(m[6] ?? 0)] : options.endOfDay ? [23, 59, 59] : [0, 0, 0];
  const instant = y >= 1970 ? instantOfWallClock({ year: y, month: mo, day: d, hour: h, minute: mi, second: s }, ONPAY_TIME_ZONE) : undefined;
  if (!instant) throw new OnpayError(`${field} is not a real date and time: ${text.trim()}`);
  return instant;
}

export function formatOnpayDate(instant: Date): string {
  const { date, time } = wallClockParts(wallClockAt(instant, ONPAY_TIME_ZONE));
  return `${date} ${time}`;
}

/** OnPay's orderAmount (value × 100) → the core's minor units of `currency`. */
export function onpayAmountToMinor(orderAmount: number, currency: string): number {
  const exp = currencyExponent(currency);
  if (exp >= 2) return orderAmount * 10 ** (exp - 2);
  const divisor = 10 ** (2 - exp);
  if (orderAmount % divisor !== 0)
    throw new OnpayError(`orderAmount must end in ${'0'.repeat(2 - exp)} for ${currency}, which has ${exp === 0 ? 'no decimals' : `${exp} decimal`}`);
  return orderAmount / divisor;
}

/** The core's minor units → OnPay's orderAmount (value × 100). */
export function minorToOnpayAmount(minor: number, currency: string): number {
  const exp = currencyExponent(currency);
  return exp >= 2 ? Math.round(minor / 10 ** (exp - 2)) : minor * 10 ** (2 - exp);
}
