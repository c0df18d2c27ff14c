import { createHash } from 'node:crypto';
import type { Transaction } from 'kysely';
import { claimKey, deleteKeysBefore, selectStoredKey } from '../store/queries/idempotency.js';
import type { Database } from '../store/schema.js';
import type { Db } from '../store/store.js';
import { UnprocessableError } from './context.js';

export interface StoredResponse {
  status: number;
  body: unknown;
  replayed: boolean;
}

/** How long a key is remembered (Stripe keeps them 24 hours). */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * JSON with every object's keys in sorted order, recursively (arrays keep theirs): two bodies that differ only
 * in the order of their keys are the same request. Otherwise as JSON.stringify writes values (undefined
 * properties left out, undefined in arrays as null, `toJSON` honoured).
 */
export function canonicalJson(value: unknown): string {
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function')
    value = (value as { toJSON(): unknown }).toJSON();
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined || typeof v === 'function' ? 'null' : canonicalJson(v))).join(',')}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record)
    .filter((k) => record[k] !== undefined && typeof record[k] !== 'function')
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`).join(',')}}`;
}

/** What identifies a request for an Idempotency-Key (or a conversation's payment step). */
export interface RequestHashes {
  /** Over the canonical form of the validated request (`canonicalJson`): what is stored. */
  hash: string;
  /**
   * Over the body's JSON in the order it came, as versions before the canonical form stored it: still matched,
   * so a retry across an upgrade is replayed, not refused.
   */
  legacyHash?: string;
}

export function hashRequest(method: string, path: string, body: unknown): Required<RequestHashes> {
  const digest = (json: string) => createHash('sha256').update(`${method} ${path}\n${json}`).digest('hex');
  return { hash: digest(canonicalJson(body ?? null)), legacyHash: digest(JSON.stringify(body ?? null)) };
}

/** Whether a stored request hash is this request's. */
export function isSameRequest(stored: string, request: RequestHashes): boolean {
  return stored === request.hash || (request.legacyHash !== undefined && stored === request.legacyHash);
}

class AlreadyClaimed extends Error {}

/**
 * Runs a creating request at most once per (merchant, Idempotency-Key), Stripe's way: the same key with the
 * same request returns the stored response; with another request it is refused (422). The key row is
 * written with the response at the end of the transaction that makes the effect: a concurrent duplicate
 * waits on the unique key until the first commits, then rolls its own work back and replays the stored
 * response, so there is one effect whatever the timing, and the common case costs one statement. Errors
 * are not stored, so a corrected retry with the same key goes through.
 */
export async function runIdempotent(
  db: Db,
  merchantId: string,
  key: string | undefined,
  request: RequestHashes,
  effect: (trx: Transaction<Database>) => Promise<{ status: number; body: unknown }>,
): Promise<StoredResponse> {
  if (key === undefined) {
    const result = await db.transaction().execute(effect);
    return { ...result, replayed: false };
  }
  try {
    const result = await db.transaction().execute(async (trx) => {
      const out = await effect(trx);
      if (!(await claimKey(trx, merchantId, { key, ...request }, out))) throw new AlreadyClaimed();
      return out;
    });
    return { ...result, replayed: false };
  } catch (e) {
    if (!(e instanceof AlreadyClaimed)) throw e;
    return replayStored(db, merchantId, { key, ...request });
  }
}

/** An Idempotency-Key a request sent, with the hashes of that request. */
export interface IdempotencyClaim extends RequestHashes {
  key: string;
}

/** The response stored under a key that another request claimed first: replayed if it was the same request. */
export async function replayStored(db: Db, merchantId: string, claim: IdempotencyClaim): Promise<StoredResponse> {
  const row = await selectStoredKey(db, merchantId, claim.key);
  if (!isSameRequest(row.request_hash, claim)) throw new UnprocessableError('this Idempotency-Key was already used with a different request');
  return { status: row.response_status, body: row.response_body, replayed: true };
}

export async function purgeExpiredIdempotencyKeys(db: Db, now = Date.now()): Promise<number> {
  return deleteKeysBefore(db, new Date(now - IDEMPOTENCY_TTL_MS));
}
