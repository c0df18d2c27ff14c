import type { Db } from '../store/store.js';
import type { HubContext } from './context.js';
import { paymentMethodRows, paymentMethodsNamed } from '../store/queries/payment-methods.js';

/**
 * The registry of payment methods as acquirers name them ("VISA", "VISA CREDIT CARD", "MasterCard", "IDEAL"),
 * each numbered the first time a notification names it, and merged into families so that one method reads the
 * same whichever acquirer reported it (OnPay's `code_number_merged`).
 *
 * How merging works: the name is upper-cased, accents and punctuation dropped, and words that describe the
 * card product rather than the scheme (CREDIT, DEBIT, CARD, PREPAID, CLASSIC, GOLD, BUSINESS, …) removed; a few
 * spellings of one scheme are then unified (MASTER CARD / MC / ECMC → MASTERCARD, AMERICAN EXPRESS → AMEX,
 * any VISA product → VISA). What remains is the family; a method's merged code is the code of the first method
 * seen in its family. "MAESTRO" stays apart from "MASTERCARD" (a different scheme for the merchant's books).
 */

const PRODUCT_WORDS = new Set([
  'CREDIT',
  'DEBIT',
  'CARD',
  'CARDS',
  'CARTA',
  'PREPAID',
  'PREPAGATA',
  'CLASSIC',
  'STANDARD',
  'GOLD',
  'PLATINUM',
  'BUSINESS',
  'CORPORATE',
  'COMMERCIAL',
  'CONSUMER',
  'PERSONAL',
  'INTERNATIONAL',
  'INTL',
  'DI',
  'CREDITO',
  'DEBITO',
  'THE',
]);

const SYNONYMS: ReadonlyArray<[RegExp, string]> = [
  [/^(MASTER|MC|ECMC|EUROCARD MASTER|EUROCARD|MASTERCARD.*)$/, 'MASTERCARD'],
  [/^(AMERICAN EXPRESS|AMERICANEXPRESS|AMEX.*)$/, 'AMEX'],
  [/^(DINERS CLUB|DINERS.*)$/, 'DINERS'],
  [/^VISA\b.*$/, 'VISA'],
  [/^(V PAY|VPAY)$/, 'VPAY'],
  [/^(CB|CARTE BANCAIRE|CARTES BANCAIRES)$/, 'CARTES BANCAIRES'],
];

/** The family a method name belongs to (see the module comment). */
export function paymentMethodFamily(description: string): string {
  const plain = description
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, ' ')
    .trim();
  const words = plain.split(' ').filter((w) => w && !PRODUCT_WORDS.has(w));
  const core = words.length ? words.join(' ') : plain;
  for (const [pattern, family] of SYNONYMS) if (pattern.test(core)) return family;
  return core;
}

export interface PaymentMethod {
  code_number: number;
  code_description: string;
  code_number_merged: number;
}

/** Every method seen, in the order first seen, with its family's merged code. */
export async function listPaymentMethods(ctx: Pick<HubContext, 'db'>): Promise<PaymentMethod[]> {
  const rows = await paymentMethodRows(ctx.db);
  return rows.map((r) => ({ ...r, code_number: Number(r.code_number), code_number_merged: Number(r.code_number_merged) }));
}

/** The code of one method name, if it was seen. */
export async function paymentMethodCodes(db: Db, names: string[]): Promise<Map<string, number>> {
  if (names.length === 0) return new Map();
  const rows = await paymentMethodsNamed(
    db,
    names.map((n) => n.trim().slice(0, 100)),
  );
  return new Map(rows.map((r) => [r.code_description, Number(r.code_number)]));
}
