import { cardNumberOf, isCardNumber, readExpiry } from '../shared/card-form.js';

/**
 * NETOPIA's sandbox test cards (protocols/netopia.md §1.7): CVV 111, any expiry in the future. The PAN picks
 * the outcome; codes are NETOPIA's `<error code>` values.
 */

export const TEST_CVV = '111';

export type CardOutcome = { kind: 'approved' } | { kind: 'three_ds' } | { kind: 'declined'; code: number };

export const TEST_CARDS: ReadonlyMap<string, CardOutcome> = new Map<string, CardOutcome>([
  ['9900004810225098', { kind: 'approved' }],
  ['9900009184214768', { kind: 'three_ds' }],
  ['9900541631437790', { kind: 'declined', code: 19 }], // expired card
  ['9900518572831942', { kind: 'declined', code: 20 }], // insufficient funds
  ['9900827979991500', { kind: 'declined', code: 21 }], // CVV2 incorrect
  ['9900576270414197', { kind: 'declined', code: 34 }], // transaction not permitted
  ['9900334791085173', { kind: 'declined', code: 16 }], // risky (stolen) card
  ['9900130597497640', { kind: 'declined', code: 22 }], // issuer unavailable
]);

/** Failed 3-D Secure authentication. 38 ("Requires 3D Authentication") tells the merchant why, where 35 would not. */
export const THREE_DS_FAILED_CODE = 38;

/**
 * What the sandbox issuer answers. The CVV is checked before anything else, 3-D Secure included, so a wrong
 * CVV on any test card is 21; a PAN that is not a test card is 17 whatever the CVV.
 */
export function cardOutcome(pan: string, cvv: string): CardOutcome {
  const outcome = TEST_CARDS.get(pan);
  if (!outcome) return { kind: 'declined', code: 17 };
  if (cvv !== TEST_CVV) return { kind: 'declined', code: 21 };
  return outcome;
}

/** First digit and last four, as in NETOPIA's IPNs (`9****5098`). */
export function maskPan(pan: string): string {
  return `${pan.slice(0, 1)}****${pan.slice(-4)}`;
}

export interface CardInput {
  pan: string;
  cvv: string;
}

export type CardField = 'card_number' | 'expiry' | 'cvv';

/**
 * Checks the card form the way the hosted page does before contacting the issuer. Returns the card or the
 * fields in error. An expiry is valid through the last day of its month (UTC).
 */
export function validateCardForm(form: Record<string, string | undefined>, now: Date): { ok: true; card: CardInput } | { ok: false; errors: CardField[] } {
  const errors: CardField[] = [];
  const pan = cardNumberOf(form.card_number);
  if (!isCardNumber(pan)) errors.push('card_number');
  if (!readExpiry(form.expiry, now)) errors.push('expiry');
  const cvv = (form.cvv ?? '').trim();
  if (!/^\d{3}$/.test(cvv)) errors.push('cvv');
  return errors.length ? { ok: false, errors } : { ok: true, card: { pan, cvv } };
}
