import { isExpired } from '../shared/card-form.js';

/**
 * The issuer behind NETOPIA's v2 sandbox: the test cards of protocols/netopia.md §1.7 and the seed's sandbox
 * table (CVV 111, any future expiry). The PAN picks the outcome; codes are NETOPIA's card error codes.
 *
 * Decisions where the sources were silent or differ:
 * - Checks run in the order an issuer would: unknown PAN (17), then expiry (19 — "any past date" on ANY card,
 *   and always for the expired test card), then CVV (21 for anything but 111 on any test card), then the
 *   card's own outcome. 3-D Secure therefore comes after the CVV check, as in the v1 emulator.
 * - 9900334791085173, the "high-risk/fraud scenario", is a DECLINE (status 12) with code 16 ("card has a risk",
 *   the v1 table's meaning for a stolen card), not status 13. Status 13 means "held for antifraud review" and
 *   needs a later verdict from NETOPIA's staff that no sandbox API can give, so an order would hang forever;
 *   the seed and §1.7 describe the card as risky/stolen, which an issuer refuses outright.
 * - 9900130597497640 ("issuer error") is 22 with the v1 wording "issuer unavailable"; v2's short list also
 *   calls 22 a CVV error, which reads as a copy of 21's line.
 */

export const TEST_CVV = '111';

export type CardDecision = { kind: 'approved' } | { kind: 'three_ds' } | { kind: 'declined'; code: string };

const TEST_CARDS: ReadonlyMap<string, CardDecision> = new Map<string, CardDecision>([
  ['9900004810225098', { kind: 'approved' }],
  ['9900009184214768', { kind: 'three_ds' }],
  ['9900541631437790', { kind: 'declined', code: '19' }], // expired card
  ['9900518572831942', { kind: 'declined', code: '20' }], // insufficient funds
  ['9900827979991500', { kind: 'declined', code: '21' }], // wrong CVV2 whatever is typed
  ['9900576270414197', { kind: 'declined', code: '34' }], // transaction not permitted
  ['9900334791085173', { kind: 'declined', code: '16' }], // high risk / stolen
  ['9900130597497640', { kind: 'declined', code: '22' }], // issuer unavailable
]);

/** Failed or refused 3-D Secure authentication ("requires 3D authentication" in NETOPIA's current table). */
export const THREE_DS_FAILED_CODE = '38';

export interface CardData {
  pan: string;
  expMonth: number;
  /** Four digits. */
  expYear: number;
  cvv: string;
}

export function decideCard(card: CardData, now: Date): CardDecision {
  const outcome = TEST_CARDS.get(card.pan);
  if (!outcome) return { kind: 'declined', code: '17' };
  if (isExpired(card.expMonth, card.expYear, now) || (outcome.kind === 'declined' && outcome.code === '19')) return { kind: 'declined', code: '19' };
  if (card.cvv !== TEST_CVV) return { kind: 'declined', code: '21' };
  return outcome;
}
