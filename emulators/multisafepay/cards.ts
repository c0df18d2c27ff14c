import { cardNumberOf, isCardNumber, luhnValid, readExpiry } from '../shared/card-form.js';

/**
 * MultiSafepay's test cards (docs "Test payment details" → Credit and debit cards): the PAN picks the
 * outcome, any future expiry, CVC 123 in the docs (the emulator accepts any CVC of the right length).
 * Cards marked `threeDs` stop at the 3-D Secure page, where the tester chooses the authentication result.
 */

export type Brand = 'VISA' | 'MASTERCARD' | 'MAESTRO' | 'AMEX';
export const BRANDS: readonly Brand[] = ['VISA', 'MASTERCARD', 'MAESTRO', 'AMEX'];

export type IssuerAnswer =
  | { kind: 'completed' }
  | { kind: 'declined'; reason: string; reasonCode: string; responseCode: string }
  /** Held for manual review; after the review delay it becomes `completed` or `void`. */
  | { kind: 'uncleared'; then: 'completed' | 'void' };

export interface TestCard {
  brand: Brand;
  threeDs: boolean;
  answer: IssuerAnswer;
  note: string;
}

const INSUFFICIENT_FUNDS: IssuerAnswer = { kind: 'declined', reason: 'Insufficient funds', reasonCode: '', responseCode: '51' };
const DECLINED: IssuerAnswer = { kind: 'declined', reason: 'Do not honor', reasonCode: '', responseCode: '05' };
/** As in MultiSafepay's getOrderFailed3DS example. */
export const THREE_DS_FAILED: IssuerAnswer = {
  kind: 'declined',
  reason: '3DS Authentication Failed / Card authentication failed',
  reasonCode: '3001',
  responseCode: '08',
};

export const TEST_CARDS: ReadonlyMap<string, TestCard> = new Map<string, TestCard>([
  ['4111111111111111', { brand: 'VISA', threeDs: true, answer: { kind: 'completed' }, note: 'completed (3D enrolled)' }],
  ['4012001038443335', { brand: 'VISA', threeDs: false, answer: { kind: 'completed' }, note: 'completed (not 3D enrolled)' }],
  ['4917300000000008', { brand: 'VISA', threeDs: false, answer: { kind: 'uncleared', then: 'void' }, note: 'uncleared, then void' }],
  ['4462000000000003', { brand: 'VISA', threeDs: false, answer: { kind: 'uncleared', then: 'completed' }, note: 'uncleared, then completed' }],
  ['4012001037461114', { brand: 'VISA', threeDs: true, answer: THREE_DS_FAILED, note: 'declined (3D authentication failed)' }],
  ['4012001038488884', { brand: 'VISA', threeDs: true, answer: INSUFFICIENT_FUNDS, note: 'declined (3D authenticated, insufficient funds)' }],
  ['5500000000000004', { brand: 'MASTERCARD', threeDs: false, answer: { kind: 'completed' }, note: 'completed' }],
  ['6759000000005', { brand: 'MAESTRO', threeDs: true, answer: { kind: 'completed' }, note: 'completed (3D enrolled)' }],
  ['378282246310005', { brand: 'AMEX', threeDs: false, answer: { kind: 'completed' }, note: 'completed' }],
  ['374200000000004', { brand: 'AMEX', threeDs: false, answer: DECLINED, note: 'declined' }],
  ['378734493671000', { brand: 'AMEX', threeDs: false, answer: { kind: 'uncleared', then: 'void' }, note: 'uncleared, then void' }],
]);

/** What the issuer answers for a card that passed the form checks: test cards by the table, others "Do not honor". */
export function issuerAnswer(pan: string): { threeDs: boolean; answer: IssuerAnswer } {
  const card = TEST_CARDS.get(pan);
  return card ? { threeDs: card.threeDs, answer: card.answer } : { threeDs: false, answer: DECLINED };
}

/** The brand a PAN belongs to, by its IIN range. */
export function brandOf(pan: string): Brand | undefined {
  if (/^4/.test(pan)) return 'VISA';
  if (/^3[47]/.test(pan)) return 'AMEX';
  const two = Number(pan.slice(0, 2));
  const four = Number(pan.slice(0, 4));
  if ((two >= 51 && two <= 55) || (four >= 2221 && four <= 2720)) return 'MASTERCARD';
  if (/^(50|5[6-9]|6)/.test(pan)) return 'MAESTRO';
  return undefined;
}

export type CardField = 'brand' | 'card_number' | 'expiry' | 'cvv';

export interface CardInput {
  brand: Brand;
  pan: string;
  /** MultiSafepay's `card_expiry_date`: YYMM. */
  expiry: string;
  holder: string | null;
}

/**
 * Checks the card form before the issuer is asked. `allowed` are the brands the page offers (all, or the
 * order's `gateway`). An expiry is valid through the last day of its month (UTC).
 */
export function validateCardForm(
  form: Record<string, string | undefined>,
  allowed: readonly Brand[],
  now: Date,
): { ok: true; card: CardInput } | { ok: false; errors: CardField[] } {
  const errors: CardField[] = [];
  const brand = form.brand as Brand | undefined;
  if (!brand || !allowed.includes(brand)) errors.push('brand');
  const pan = cardNumberOf(form.card_number);
  if (!isCardNumber(pan) || !luhnValid(pan) || (brand && allowed.includes(brand) && brandOf(pan) !== brand)) errors.push('card_number');
  const expiry = readExpiry(form.expiry, now);
  if (!expiry) errors.push('expiry');
  const cvv = (form.cvv ?? '').trim();
  if (!(brand === 'AMEX' ? /^\d{3,4}$/ : /^\d{3}$/).test(cvv)) errors.push('cvv');
  if (errors.length) return { ok: false, errors };
  const holder = (form.holder ?? '').trim().slice(0, 100);
  const yymm = `${String(expiry!.year % 100).padStart(2, '0')}${String(expiry!.month).padStart(2, '0')}`;
  return { ok: true, card: { brand: brand!, pan, expiry: yymm, holder: holder || null } };
}
