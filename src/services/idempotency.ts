import { createHash } from 'node:crypto';
import type { Transaction } from 'kysely';
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
      const claimed = await trx
        .insertInto('idempotency_keys')
        .values({ merchant_id: merchantId, key, request_hash: hash, response_status: out.status, response_body: JSON.stringify(out.body) })
        .onConflict((oc) => oc.columns(['merchant_id', 'key']).doNothing())
        .returning('key')
        .executeTakeFirst();
      if (!claimed) throw new AlreadyClaimed();
      return out;
    });
    return { ...result, replayed: false };
  } catch (e) {
    if (!(e instanceof AlreadyClaimed)) throw e;
    const row = await db.selectFrom('idempotency_keys').selectAll().where('merchant_id', '=', merchantId).where('key', '=', key).executeTakeFirstOrThrow();
    if (row.request_hash !== hash) throw new UnprocessableError('this Idempotency-Key was already used with a different request');
    return { status: row.response_status, body: row.response_body, replayed: true };
  }
}

export async function purgeExpiredIdempotencyKeys(db: Db, now = Date.now()): Promise<number> {
  const r = await db.deleteFrom('idempotency_keys').where('created_at', '<', new Date(now - IDEMPOTENCY_TTL_MS)).executeTakeFirst();
  return Number(r.numDeletedRows);
}
