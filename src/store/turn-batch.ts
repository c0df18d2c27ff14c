/**
 * Lookups by key that are asked for during one turn of the event loop, answered together by one query at the end
 * of that turn. A lookup never joins a query that was already sent, so its answer is as fresh as a query of its own
 * made when it was asked (a key rotated before the request arrived is never answered with the old row); only the
 * round trips are shared. Under load most requests of a turn carry the same few keys.
 */
export class TurnBatch<K, V> {
  private pending = new Map<K, Array<{ resolve: (v: V | undefined) => void; reject: (e: unknown) => void }>>();

  /** `fetch` answers a set of distinct keys with the values found (a key that is absent has no value). */
  constructor(private readonly fetch: (keys: K[]) => Promise<Map<K, V>>) {}

  load(key: K): Promise<V | undefined> {
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) setImmediate(() => void this.flush());
      const waiting = this.pending.get(key);
      if (waiting) waiting.push({ resolve, reject });
      else this.pending.set(key, [{ resolve, reject }]);
    });
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = new Map();
    try {
      const found = await this.fetch([...batch.keys()]);
      for (const [key, waiters] of batch) for (const w of waiters) w.resolve(found.get(key));
    } catch (e) {
      for (const waiters of batch.values()) for (const w of waiters) w.reject(e);
    }
  }
}
