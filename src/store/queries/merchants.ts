import { type Insertable, type Kysely } from 'kysely';
import type { Database, Merchant, MerchantsTable } from '../schema.js';

type Db = Kysely<Database>;

/** Adds a merchant; returns its row. */
export function insertMerchant(db: Db, merchant: Insertable<MerchantsTable>): Promise<Merchant> {
  return db.insertInto('merchants').values(merchant).returningAll().executeTakeFirstOrThrow();
}

/** Every merchant, newest first. */
export function listAllMerchants(db: Db): Promise<Merchant[]> {
  return db.selectFrom('merchants').selectAll().orderBy('id', 'desc').execute();
}

/** A merchant by id. */
export function findMerchant(db: Db, id: string): Promise<Merchant | undefined> {
  return db.selectFrom('merchants').selectAll().where('id', '=', id).executeTakeFirst();
}
