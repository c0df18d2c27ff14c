import type { Transaction } from 'kysely';
import type { Database } from '../store/schema.js';
import type { Db } from '../store/store.js';
import type { HubContext } from './context.js';

/** Per open unit of work (keyed by its transaction): whether it queued webhook deliveries. */
const outboxWrites = new WeakMap<Transaction<Database>, { wrote: boolean }>();

/**
 * Runs `work` in one transaction and, once it has committed, wakes the outbox worker if the work wrote events
 * (`noteOutboxWrite`): a rolled-back unit wakes nobody, and the worker never looks before the events are visible.
 * Services own their transactions through this; the HTTP layer never opens one.
 */
export async function inTransaction<T>(ctx: Pick<HubContext, 'db' | 'onOutboxWrite'>, work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
  const state = { wrote: false };
  const result = await ctx.db.transaction().execute((trx) => {
    outboxWrites.set(trx, state);
    return work(trx);
  });
  if (state.wrote) ctx.onOutboxWrite?.();
  return result;
}

/**
 * Says that a statement on `db` wrote events: inside a unit of work the worker is woken after its commit; a
 * statement on the hub's own database (committed on its own) wakes it now. A transaction opened elsewhere (not
 * by `inTransaction`) cannot say when it commits, so its owner wakes the worker.
 */
export function noteOutboxWrite(ctx: Pick<HubContext, 'onOutboxWrite'>, db: Db): void {
  if (!db.isTransaction) {
    ctx.onOutboxWrite?.();
    return;
  }
  const state = outboxWrites.get(db as Transaction<Database>);
  if (state) state.wrote = true;
}
