import type { Db } from '../store/store.js';

/**
 * What one hub remembers between requests, in memory: caches (loaded connections, processor access tokens),
 * work shared by concurrent requests (a processor start in flight), and the turn batches of the hot paths. All of
 * it hangs on one object built when the hub starts (`HubContext.caches`), never on a module: two hubs in one
 * process (the tests start many) share nothing, and stopping a hub lets all of it go.
 *
 * A module declares what it keeps as a slot (`cacheSlot`), and finds it with `ctx.caches.of(slot)`; the hub makes
 * each slot's value the first time it is asked for. None of it is state: a process that restarts, or another
 * process, builds its own, and every entry is checked against the database where that matters.
 */
export interface CacheSlot<T> {
  /** What the slot holds, for someone reading a heap snapshot or a log. */
  readonly name: string;
  /** Makes the value for one hub; given the hub's database (turn batches send their statements there). */
  readonly make: (db: Db) => T;
}

/** Declares a slot of the hub's memory (at module level: the slot is a name, the value lives on the hub). */
export function cacheSlot<T>(name: string, make: (db: Db) => T): CacheSlot<T> {
  return { name, make };
}

export class HubCaches {
  private readonly values = new Map<CacheSlot<unknown>, unknown>();

  constructor(private readonly db: Db) {}

  of<T>(slot: CacheSlot<T>): T {
    let value = this.values.get(slot) as T | undefined;
    if (value === undefined) {
      value = slot.make(this.db);
      this.values.set(slot, value);
    }
    return value;
  }
}
