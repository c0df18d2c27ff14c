/**
 * The checks a hosted card page makes before it asks the issuer, where the processors' pages agree: the
 * number as typed (spaces and dashes allowed), the Luhn digit, and an MM/YY expiry that has not passed.
 */

/** The card number with the spaces and dashes a payer types removed; not checked. */
export function cardNumberOf(typed: string | undefined): string {
  return (typed ?? '').replace(/[\s-]/g, '');
}

/** A number of 12 to 19 digits, the lengths card numbers have. */
export function isCardNumber(pan: string): boolean {
  return /^\d{12,19}$/.test(pan);
}

export function luhnValid(pan: string): boolean {
  let sum = 0;
  for (let i = 0; i < pan.length; i++) {
    let d = pan.charCodeAt(pan.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** A card is valid through the last day of its expiry month (UTC). */
export function isExpired(month: number, year: number, now: Date): boolean {
  return year * 12 + (month - 1) < now.getUTCFullYear() * 12 + now.getUTCMonth();
}

/** An expiry typed as MM/YY (spaces around the slash allowed) that has not passed; undefined otherwise. */
export function readExpiry(typed: string | undefined, now: Date): { month: number; year: number } | undefined {
  const expiry = /^(\d{2})\s*\/\s*(\d{2})$/.exec((typed ?? '').trim());
  if (!expiry) return undefined;
  const month = Number(expiry[1]);
  const year = 2000 + Number(expiry[2]);
  return month < 1 || month > 12 || isExpired(month, year, now) ? undefined : { month, year };
}
