import { createHash } from 'node:crypto';

/**
 * How the hub's identifiers fit Volt's fields, and how they come back.
 *
 * - `uniqueReference` is at most 18 alphanumeric characters, and the hub's attempt ids (`att_…`, 30
 *   characters with an underscore) do not fit. A reference that already fits is sent as it is; any other is
 *   replaced by the first 18 characters of the base32 SHA-256 of it (90 bits: no collision in practice). The
 *   full reference travels in `merchantInternalReference` (up to 100 characters), which Volt echoes in its
 *   notifications; the connector reads the hub's reference from there and checks that the echoed
 *   `reference` (the uniqueReference) is the one derived from it.
 * - A refund's `externalReference` (alphanumeric) carries the refunded total after this refund:
 *   `T<total>R<fingerprint>`. Volt's refund notification states only this refund's amount, and the ledger
 *   needs the cumulative total (so that replays and reordering are harmless); the hub knows it when it asks.
 */

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
export const UNIQUE_REFERENCE_MAX = 18;
export const MERCHANT_INTERNAL_REFERENCE_MAX = 100;
const VERBATIM_RE = /^[A-Za-z0-9]{1,18}$/;

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

/** The uniqueReference for a hub reference: the reference itself when it fits, else its 18-character digest. */
export function uniqueReferenceFor(reference: string): string {
  return VERBATIM_RE.test(reference) ? reference : base32(digest('volt-unique-reference', reference), UNIQUE_REFERENCE_MAX);
}

/** Whether a uniqueReference Volt echoes belongs to the hub reference it came with. */
export function uniqueReferenceMatches(reference: string, uniqueReference: string): boolean {
  return uniqueReferenceFor(reference) === uniqueReference;
}

/** A hub reference Volt can echo back whole in `merchantInternalReference`. */
export function fitsMerchantInternalReference(reference: string): boolean {
  return reference.length > 0 && reference.length <= MERCHANT_INTERNAL_REFERENCE_MAX;
}

/** A hub reference that was sent verbatim as the uniqueReference (so the echo alone identifies it). */
export function isVerbatimUniqueReference(reference: string): boolean {
  return VERBATIM_RE.test(reference);
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
