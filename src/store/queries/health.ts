import { sql, type Kysely } from 'kysely';
import type { Database } from '../schema.js';

/** A trivial query (`SELECT 1`): resolves once the database answers. */
export async function selectOne(db: Kysely<Database>): Promise<void> {
  await sql`SELECT 1`.execute(db);
}
