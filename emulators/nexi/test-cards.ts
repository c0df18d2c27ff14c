import { cardNumberOf, isCardNumber, luhnValid, readExpiry } from '../shared/card-form.js';

/**
 * The hosted page's card check and the test issuer. Nexi's test area publishes one approved and one declined
 * card per circuit (VISA 4539 9700 0000 0006 / …0014, MasterCard 5255 0000 0000 0001 / …0019, expiry 12/2030,
 * as mlocati/nexi-xpay's TestCard copies them); the Maestro and Amex cards and the specific declines are the
 * emulator's own, Luhn-valid and in the same spirit. `codiceEsito` uses ISO 8583 action codes (100 do not
 * honour, 101 expired card, 116 insufficient funds), which is what XPay's outcome codes follow.
 */

export const BRANDS = ['VISA', 'MasterCard', 'Maestro', 'Amex'] as const;
export type Brand = (typeof BRANDS)[number];

export type CardOutcome = { approved: true } | { approved: false; codiceEsito: string; messaggio: string };

const DENIED: CardOutcome = { approved: false, codiceEsito: '100', messaggio: 'Auth. Denied' };

export interface TestCard {
  pan: string;
  brand: Brand;
  outcome: CardOutcome;
  source: 'Nexi test area' | 'emulator';
  label: string;
}

export const TEST_CARDS: readonly TestCard[] = [
  { pan: '4539970000000006', brand: 'VISA', outcome: { approved: true }, source: 'Nexi test area', label: 'approved' },
  { pan: '4539970000000014', brand: 'VISA', outcome: DENIED, source: 'Nexi test area', label: 'declined (100)' },
  { pan: '5255000000000001', brand: 'MasterCard', outcome: { approved: true }, source: 'Nexi test area', label: 'approved' },
  { pan: '5255000000000019', brand: 'MasterCard', outcome: DENIED, source: 'Nexi test area', label: 'declined (100)' },
  { pan: '6759000000000000', brand: 'Maestro', outcome: { approved: true }, source: 'emulator', label: 'approved' },
  { pan: '6759000000000018', brand: 'Maestro', outcome: DENIED, source: 'emulator', label: 'declined (100)' },
  { pan: '371600000000008', brand: 'Amex', outcome: { approved: true }, source: 'emulator', label: 'approved' },
  { pan: '371600000000016', brand: 'Amex', outcome: DENIED, source: 'emulator', label: 'declined (100)' },
  {
    pan: '4539970000000022',
    brand: 'VISA',
    outcome: { approved: false, codiceEsito: '116', messaggio: 'Insufficient funds' },
    source: 'emulator',
    label: 'insufficient funds (116)',
  },
  {
    pan: '4539970000000030',
    brand: 'VISA',
    outcome: { approved: false, codiceEsito: '101', messaggio: 'Expired card' },
    source: 'emulator',
    label: 'expired card (101)',
  },
];

const BY_PAN: ReadonlyMap<string, TestCard> = new Map(TEST_CARDS.map((c) => [c.pan, c]));

/** What the test issuer answers; a card that is not a test card is declined. */
export function cardOutcome(pan: string): CardOutcome {
  return BY_PAN.get(pan)?.outcome ?? DENIED;
}

export function isBrand(value: unknown): value is Brand {
  return typeof value === 'string' && (BRANDS as readonly string[]).includes(value);
}

/** The circuit a card number belongs to, from its prefix. */
export function brandOfPan(pan: string): Brand | undefined {
  if (/^4/.test(pan)) return 'VISA';
  if (/^3[47]/.test(pan)) return 'Amex';
  if (/^(5[1-5]|2[2-7])/.test(pan)) return 'MasterCard';
  if (/^(5[06-9]|6)/.test(pan)) return 'Maestro';
  return undefined;
}

export type CardField = 'brand' | 'card_number' | 'expiry' | 'cvv';

export interface CardInput {
  brand: Brand;
  pan: string;
  /** YYYYMM, as XPay's `scadenza_pan`. */
  scadenza: string;
}

/**
 * Checks the card form as XPay's page does before asking the issuer: a brand chosen, a Luhn-valid number of
 * that brand, an expiry (MM/YY) not in the past, a CVV of 3 digits (4 for Amex).
 */
export function validateCard(form: Record<string, string | undefined>, now: Date): { ok: true; card: CardInput } | { ok: false; errors: CardField[] } {
  const errors: CardField[] = [];
  const brand = form.brand;
  if (!isBrand(brand)) errors.push('brand');
  const pan = cardNumberOf(form.card_number);
  if (!isCardNumber(pan) || !luhnValid(pan) || (isBrand(brand) && brandOfPan(pan) !== brand)) errors.push('card_number');
  const expiry = readExpiry(form.expiry, now);
  if (!expiry) errors.push('expiry');
  const cvv = (form.cvv ?? '').trim();
  if (!(brand === 'Amex' ? /^\d{4}$/ : /^\d{3}$/).test(cvv)) errors.push('cvv');
  if (errors.length) return { ok: false, errors };
  return { ok: true, card: { brand: brand as Brand, pan, scadenza: `${expiry!.year}${String(expiry!.month).padStart(2, '0')}` } };
}

/** First six and last four digits in clear, as XPay's `pan`. */
export function maskPan(pan: string): string {
  return `${pan.slice(0, 6)}${'*'.repeat(pan.length - 10)}${pan.slice(-4)}`;
}
