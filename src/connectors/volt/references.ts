import { createHash } from 'node:crypto';

/**
 * How the hub's identifiers fit Volt's fields, and how they come back.
 *
 * - `uniqueReference` is at most 18 alphanumeric characters (Volt's limit) and is the reference the payer sees
 *   on Volt's checkout and at their bank. It is the merchant's order id reduced to its letters and digits
 *   (accents dropped, at most 10 characters) followed by an 8-character code of the attempt (the base32
 *   SHA-256 of the attempt id): the payer recognises the shop's order, and each attempt of a payment has its
 *   own reference (Volt refuses a uniqueReference it has seen). The code is always the last 8 characters, so an
 *   order id made of the code's own characters, or one with no letters or digits at all (then the reference is
 *   the code alone), is read back the same way.
 * - The attempt id travels whole in `merchantInternalReference` (up to 100 characters), which Volt echoes in
 *   its answers and notifications; the connector reads the attempt from there and checks that the echoed
 *   uniqueReference ends with that attempt's code. Attempts opened before the order id was shown carry the
 *   earlier uniqueReference (the 18-character digest of the attempt id), which is still recognised.
 * - A refund's `externalReference` (alphanumeric) carries the refunded total after this refund:
 *   `T<total>R<fingerprint>`. Volt's refund notification states only this refund's amount, and the ledger
 *   needs the cumulative total (so that replays and reordering are harmless); the hub knows it when it asks.
 */

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
export const UNIQUE_REFERENCE_MAX = 18;
export const MERCHANT_INTERNAL_REFERENCE_MAX = 100;
/** The attempt's code at the end of every uniqueReference the hub makes. */
export const ATTEMPT_CODE_LENGTH = 8;
/** What is left of uniqueReference for the merchant's order id. */
export const ORDER_PART_MAX = UNIQUE_REFERENCE_MAX - ATTEMPT_CODE_LENGTH;
const UNIQUE_REFERENCE_RE = /^[A-Za-z0-9]{1,18}$/;

function base32(bytes: Buffer, length: number): string {
  let out = '';
  let acc = 0;
  let bits = 0;
  for (const byte of bytes) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < length) {
      out += BASE32[(acc >>> (bits - 5)) & 31];
      bits -= 5;
    }
    acc &= (1 << bits) - 1;
    if (out.length >= length) break;
  }
  return out;
}

function digest(label: string, value: string): Buffer {
  return createHash('sha256').update(`${label}:${value}`, 'utf8').digest();
}

/** The attempt's 8-character code (A-Z, 2-7), the same for the same attempt id every time. */
export function attemptCode(attemptId: string): string {
  return base32(digest('volt-attempt-code', attemptId), ATTEMPT_CODE_LENGTH);
}

/** The merchant's order id as uniqueReference can carry it: its letters and digits, accents dropped, at most 10. */
export function orderPart(merchantOrderId: string | undefined): string {
  return (merchantOrderId ?? '')
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9]/g, '')
    .slice(0, ORDER_PART_MAX);
}

/** The uniqueReference of an attempt: the merchant's order id (as much as fits) and the attempt's code. */
export function uniqueReferenceFor(attemptId: string, merchantOrderId?: string): string {
  return `${orderPart(merchantOrderId)}${attemptCode(attemptId)}`;
}

/** The uniqueReference an attempt opened before the order id was shown carries (the 18-character digest). */
export function legacyUniqueReferenceFor(reference: string): string {
  return UNIQUE_REFERENCE_RE.test(reference) ? reference : base32(digest('volt-unique-reference', reference), UNIQUE_REFERENCE_MAX);
}

/** The attempt code a uniqueReference ends with; undefined for what the hub cannot have made. */
export function attemptCodeOf(uniqueReference: unknown): string | undefined {
  if (typeof uniqueReference !== 'string' || !UNIQUE_REFERENCE_RE.test(uniqueReference) || uniqueReference.length < ATTEMPT_CODE_LENGTH) return undefined;
  return uniqueReference.slice(-ATTEMPT_CODE_LENGTH);
}

/** Whether a uniqueReference Volt echoes belongs to this attempt: it ends with its code (or is its earlier digest). */
export function uniqueReferenceMatches(attemptId: string, uniqueReference: unknown): boolean {
  if (typeof uniqueReference !== 'string') return false;
  return attemptCodeOf(uniqueReference) === attemptCode(attemptId) || uniqueReference === legacyUniqueReferenceFor(attemptId);
}

/** A hub reference Volt can echo back whole in `merchantInternalReference`. */
export function fitsMerchantInternalReference(reference: string): boolean {
  return reference.length > 0 && reference.length <= MERCHANT_INTERNAL_REFERENCE_MAX;
}

const REFUND_REFERENCE_RE = /^T(\d{1,15})R([A-Z2-7]{16})$/;

/** `externalReference` of a refund: the refunded total after it, and a fingerprint of the hub's refund id. */
export function refundExternalReference(refundId: string, totalAfter: number): string {
  if (!Number.isSafeInteger(totalAfter) || totalAfter < 0) throw new RangeError(`not a refund total: ${totalAfter}`);
  return `T${totalAfter}R${base32(digest('volt-refund', refundId), 16)}`;
}

/** Reads the refunded total back from an `externalReference` the hub made; undefined for any other. */
export function refundTotalFrom(externalReference: unknown): number | undefined {
  if (typeof externalReference !== 'string') return undefined;
  const m = REFUND_REFERENCE_RE.exec(externalReference);
  if (!m) return undefined;
  const total = Number(m[1]);
  return Number.isSafeInteger(total) ? total : undefined;
}

/**
 * Volt's `idempotency-key` for a refund request (its format is a UUID): an RFC 4122 name-based (version 5,
 * SHA-1) UUID of the hub's refund id, so a retried request carries the same key and Volt refuses the double.
 */
export function refundIdempotencyKey(refundId: string): string {
  // The URL namespace of RFC 4122 appendix C, with a name that says what it is for.
  const namespace = Buffer.from('6ba7b8119dad11d180b400c04fd430c8', 'hex');
  const hash = createHash('sha1').update(namespace).update(`incasso:volt-refund:${refundId}`, 'utf8').digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
