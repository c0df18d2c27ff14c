import { sql } from 'kysely';
import type { HubContext } from './context.js';

/** Resolves once the database answers a trivial query (the readiness probe sets its own deadline). */
export async function databaseAnswers(ctx: Pick<HubContext, 'db'>): Promise<void> {
  await sql`SELECT 1`.execute(ctx.db);
}
