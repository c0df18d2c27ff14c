import { sql, type Kysely } from 'kysely';

/**
 * Creates an emulator's own tables if they are missing. Emulators play separate companies: their tables are
 * not hub migrations, so each creates what it needs on start, idempotently, in whatever database it is given.
 * `statements` holds one statement per entry because PGlite runs a single statement per query. The
 * transaction-scoped advisory lock named `lockName` serialises processes starting together on one
 * PostgreSQL, where concurrent CREATE … IF NOT EXISTS can still collide on the catalog's unique indexes.
 */
export async function ensureEmulatorTables(db: Kysely<any>, lockName: string, statements: readonly string[]): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await sql`SELECT pg_advisory_xact_lock(hashtext(${lockName}))`.execute(trx);
    for (const statement of statements) await sql.raw(statement).execute(trx);
  });
}
