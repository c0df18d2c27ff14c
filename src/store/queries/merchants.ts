import { sql, type Insertable, type Kysely } from 'kysely';
import type { Database, Merchant, MerchantsTable } from '../schema.js';

type Db = Kysely<Database>;

/** Adds a merchant; returns its row. */
export function insertMerchant(db: Db, merchant: Insertable<MerchantsTable>): Promise<Merchant> {
  return db.insertInto('merchants').values(merchant).returningAll().executeTakeFirstOrThrow();
}

/** Replaces a merchant's API key (hash and prefix); returns the merchant's id, or nothing if there is no such merchant. */
export function updateMerchantKey(db: Db, merchantId: string, hash: string, prefix: string) {
  return db.updateTable('merchants').set({ api_key_hash: hash, api_key_prefix: prefix }).where('id', '=', merchantId).returning('id').executeTakeFirst();
}

/** The merchants whose API-key hashes these are, in one statement text whatever their number (so it is prepared once). */
export function merchantsByKeyHashes(db: Db, hashes: readonly string[]): Promise<Merchant[]> {
  return db.selectFrom('merchants').selectAll().where(sql<boolean>`api_key_hash = ANY(${hashes}::text[])`).execute();
}

/** Every merchant, newest first. */
export function listAllMerchants(db: Db): Promise<Merchant[]> {
  return db.selectFrom('merchants').selectAll().orderBy('id', 'desc').execute();
}

/** A merchant by id. */
export function findMerchant(db: Db, id: string): Promise<Merchant | undefined> {
  return db.selectFrom('merchants').selectAll().where('id', '=', id).executeTakeFirst();
}
