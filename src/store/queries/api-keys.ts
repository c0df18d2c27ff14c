import { sql, type Insertable, type Kysely } from 'kysely';
import type { Database, Merchant, MerchantApiKey, MerchantApiKeysTable } from '../schema.js';

type Db = Kysely<Database>;

/** A merchant's key as lists show it (never its hash). */
export type ApiKeyListing = Omit<MerchantApiKey, 'key_hash'>;
const LISTED = ['id', 'merchant_id', 'name', 'prefix', 'created_at', 'last_used_at', 'revoked_at'] as const;

export async function insertApiKey(db: Db, key: Insertable<MerchantApiKeysTable>): Promise<ApiKeyListing> {
  return db.insertInto('merchant_api_keys').values(key).returning(LISTED).executeTakeFirstOrThrow();
}

/** A merchant's keys, live and revoked, oldest first. */
export function selectApiKeysOf(db: Db, merchantId: string): Promise<ApiKeyListing[]> {
  return db.selectFrom('merchant_api_keys').select(LISTED).where('merchant_id', '=', merchantId).orderBy('created_at').orderBy('id').execute();
}

/** One of a merchant's keys (another merchant's key answers nothing, like one that does not exist). */
export function selectApiKeyOf(db: Db, merchantId: string, keyId: string): Promise<ApiKeyListing | undefined> {
  return db.selectFrom('merchant_api_keys').select(LISTED).where('merchant_id', '=', merchantId).where('id', '=', keyId).executeTakeFirst();
}

/** Revokes one of a merchant's keys (if live); answers the key as it is now, or nothing if the merchant has no such key. */
export async function revokeApiKeyOf(db: Db, merchantId: string, keyId: string): Promise<ApiKeyListing | undefined> {
  await db
    .updateTable('merchant_api_keys')
    .set({ revoked_at: sql<Date>`now()` })
    .where('merchant_id', '=', merchantId)
    .where('id', '=', keyId)
    .where('revoked_at', 'is', null)
    .execute();
  return selectApiKeyOf(db, merchantId, keyId);
}

/** Revokes every live key of a merchant but one; answers how many. */
export async function revokeApiKeysExcept(db: Db, merchantId: string, keepId: string): Promise<number> {
  const r = await db
    .updateTable('merchant_api_keys')
    .set({ revoked_at: sql<Date>`now()` })
    .where('merchant_id', '=', merchantId)
    .where('id', '!=', keepId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}

/** How many live keys a merchant has. */
export async function countLiveApiKeys(db: Db, merchantId: string): Promise<number> {
  const r = await db
    .selectFrom('merchant_api_keys')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('merchant_id', '=', merchantId)
    .where('revoked_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** A live key found by its hash: its merchant, and what the key's last use tracking needs. */
export type KeyMatch = { key_hash: string; key_id: string; key_last_used_at: Date | null; merchant: Merchant };

/**
 * The merchants whose live API keys these hashes are, in one statement text whatever their number (so it is
 * prepared once): one index lookup per key and one per merchant, as before keys had their own table.
 */
export async function liveKeysByHashes(db: Db, hashes: readonly string[]): Promise<KeyMatch[]> {
  const rows = await db
    .selectFrom('merchant_api_keys as k')
    .innerJoin('merchants as m', 'm.id', 'k.merchant_id')
    .select(['k.key_hash', 'k.id as key_id', 'k.last_used_at as key_last_used_at', 'm.id', 'm.name', 'm.created_at'])
    .where(sql<boolean>`k.key_hash = ANY(${hashes}::text[])`)
    .where('k.revoked_at', 'is', null)
    .execute();
  return rows.map((r) => ({
    key_hash: r.key_hash,
    key_id: r.key_id,
    key_last_used_at: r.key_last_used_at,
    merchant: { id: r.id, name: r.name, created_at: r.created_at },
  }));
}

/** Marks keys used now, unless one was marked within `minIntervalMs` (another process may have just done it). */
export async function touchApiKeys(db: Db, keyIds: readonly string[], minIntervalMs: number): Promise<void> {
  await db
    .updateTable('merchant_api_keys')
    .set({ last_used_at: sql<Date>`now()` })
    .where(sql<boolean>`id = ANY(${keyIds}::text[])`)
    .where((eb) =>
      eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', sql<Date>`now() - make_interval(secs => ${minIntervalMs}::bigint / 1000.0)`)]),
    )
    .execute();
}
