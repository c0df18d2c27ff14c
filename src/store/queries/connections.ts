import { sql, type Insertable, type Kysely, type Updateable } from 'kysely';
import type { Connection, ConnectionsTable, Database } from '../schema.js';

type Db = Kysely<Database>;

/** Adds a connection; returns its row (a taken code is the database's unique violation). */
export function insertConnection(db: Db, connection: Insertable<ConnectionsTable>): Promise<Connection> {
  return db.insertInto('connections').values(connection).returningAll().executeTakeFirstOrThrow();
}

/** A merchant's connections, newest first. */
export function listMerchantConnections(db: Db, merchantId: string): Promise<Connection[]> {
  return db.selectFrom('connections').selectAll().where('merchant_id', '=', merchantId).orderBy('id', 'desc').execute();
}

/** A merchant's connection by id or by code. */
export function findConnection(db: Db, merchantId: string, idOrCode: string): Promise<Connection | undefined> {
  return db
    .selectFrom('connections')
    .selectAll()
    .where('merchant_id', '=', merchantId)
    .where((eb) => eb.or([eb('id', '=', idOrCode), eb('code', '=', idOrCode)]))
    .executeTakeFirst();
}

/**
 * Changes a connection and moves its `updated_at` (the version caches are keyed on, read at JavaScript's
 * millisecond precision) forward by at least a millisecond, even for two changes within the same one.
 */
export function updateConnectionRow(db: Db, id: string, patch: Omit<Updateable<ConnectionsTable>, 'updated_at'>): Promise<Connection> {
  const set = {
    updated_at: sql<Date>`greatest(date_trunc('milliseconds', clock_timestamp()), date_trunc('milliseconds', updated_at) + interval '1 millisecond')`,
    ...patch,
  };
  return db.updateTable('connections').set(set).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
}

/** The connection a payment goes through (the payment's row joined to its connection). */
export function paymentConnection(db: Db, paymentId: string): Promise<Connection> {
  return db
    .selectFrom('payments as p')
    .innerJoin('connections as c', 'c.id', 'p.connection_id')
    .selectAll('c')
    .where('p.id', '=', paymentId)
    .executeTakeFirstOrThrow();
}

/** The fingerprint of a connection's credentials. */
export function connectionFingerprint(db: Db, id: string) {
  return db.selectFrom('connections').select(['credentials_fingerprint']).where('id', '=', id).executeTakeFirstOrThrow();
}
