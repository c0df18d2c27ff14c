import { selectOne } from '../store/queries/health.js';
import type { HubContext } from './context.js';

/** Resolves once the database answers a trivial query (the readiness probe sets its own deadline). */
export async function databaseAnswers(ctx: Pick<HubContext, 'db'>): Promise<void> {
  await selectOne(ctx.db);
}
