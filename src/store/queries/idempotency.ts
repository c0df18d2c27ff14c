import { sql, type Kysely, type RawBuilder, type Selectable, type Transaction } from 'kysely';
import type { Database, IdempotencyKeysTable } from '../schema.js';

/**
 * A common table expression, named `claimed`, that stores a response under a key for a statement that makes
 * the response's effect (so the key exists if and only if the effect does), where `guard` holds. It returns a
 * row only when this statement stored the key: the rest of the statement makes its effect only then. A
 * concurrent statement with the same key waits on the unique key until the first one commits.
 */
export function claimCte(
  merchantId: string,
  claim: { key: string; hash: string },
  response: { status: number; body: unknown },
  guard: RawBuilder<unknown>,
): RawBuilder<unknown> {
  return sql`claimed AS (
      INSERT INTO idempotency_keys (merchant_id, key, request_hash, response_status, response_body)
      SELECT ${merchantId}, ${claim.key}, ${claim.hash}, ${response.status}, ${JSON.stringify(response.body)} WHERE ${guard}
      ON CONFLICT (merchant_id, key) DO NOTHING
      RETURNING key
    )`;
}

/** Stores a response under a key, in the caller's transaction; whether this statement stored it (false: another request holds the key). */
export async function claimKey(
  trx: Transaction<Database>,
  merchantId: string,
  claim: { key: string; hash: string },
  response: { status: number; body: unknown },
): Promise<boolean> {
  const claimed = await sql<{ key: string }>`WITH ${claimCte(merchantId, claim, response, sql`true`)} SELECT key FROM claimed`.execute(trx);
  return claimed.rows.length > 0;
}

/** The row stored under a merchant's key, which must exist (kysely's NoResultError otherwise). */
export function selectStoredKey(db: Kysely<Database>, merchantId: string, key: string): Promise<Selectable<IdempotencyKeysTable>> {
  return db.selectFrom('idempotency_keys').selectAll().where('merchant_id', '=', merchantId).where('key', '=', key).executeTakeFirstOrThrow();
}

/** Deletes the keys stored before `cutoff`; how many there were. */
export async function deleteKeysBefore(db: Kysely<Database>, cutoff: Date): Promise<number> {
  const r = await db.deleteFrom('idempotency_keys').where('created_at', '<', cutoff).executeTakeFirst();
  return Number(r.numDeletedRows);
}
