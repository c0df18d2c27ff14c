import { createHash } from 'node:crypto';
import { sql, type RawBuilder, type Transaction } from 'kysely';
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

export function requestHash(method: string, path: string, body: unknown): string {
  return createHash('sha256').update(`${method} ${path}\n${JSON.stringify(body ?? null)}`).digest('hex');
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
  hash: string,
  effect: (trx: Transaction<Database>) => Promise<{ status: number; body: unknown }>,
): Promise<StoredResponse> {
  if (key === undefined) {
    const result = await db.transaction().execute(effect);
    return { ...result, replayed: false };
  }
  try {
    const result = await db.transaction().execute(async (trx) => {
      const out = await effect(trx);
      const claimed = await sql<{ key: string }>`WITH ${claimCte(merchantId, { key, hash }, out, sql`true`)} SELECT key FROM claimed`.execute(trx);
      if (!claimed.rows.length) throw new AlreadyClaimed();
      return out;
    });
    return { ...result, replayed: false };
  } catch (e) {
    if (!(e instanceof AlreadyClaimed)) throw e;
    return replayStored(db, merchantId, key, hash);
  }
}

/** An Idempotency-Key a request sent, with the hash of that request. */
export interface IdempotencyClaim {
  key: string;
  hash: string;
}

/**
 * A common table expression, named `claimed`, that stores a response under a key for a statement that makes
 * the response's effect (so the key exists if and only if the effect does), where `guard` holds. It returns a
 * row only when this statement stored the key: the rest of the statement makes its effect only then. A
 * concurrent statement with the same key waits on the unique key until the first one commits.
 */
export function claimCte(merchantId: string, claim: IdempotencyClaim, response: { status: number; body: unknown }, guard: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`claimed AS (
      INSERT INTO idempotency_keys (merchant_id, key, request_hash, response_status, response_body)
      SELECT ${merchantId}, ${claim.key}, ${claim.hash}, ${response.status}, ${JSON.stringify(response.body)} WHERE ${guard}
      ON CONFLICT (merchant_id, key) DO NOTHING
      RETURNING key
    )`;
}

/** The response stored under a key that another request claimed first: replayed if it was the same request. */
export async function replayStored(db: Db, merchantId: string, key: string, hash: string): Promise<StoredResponse> {
  const row = await db.selectFrom('idempotency_keys').selectAll().where('merchant_id', '=', merchantId).where('key', '=', key).executeTakeFirstOrThrow();
  if (row.request_hash !== hash) throw new UnprocessableError('this Idempotency-Key was already used with a different request');
  return { status: row.response_status, body: row.response_body, replayed: true };
}

export async function purgeExpiredIdempotencyKeys(db: Db, now = Date.now()): Promise<number> {
  const r = await db.deleteFrom('idempotency_keys').where('created_at', '<', new Date(now - IDEMPOTENCY_TTL_MS)).executeTakeFirst();
  return Number(r.numDeletedRows);
}
