/**
 * Database work asked for during one turn of the event loop, sent together at the end of that turn: a request
 * never joins work that was already sent, so what it reads or writes is as fresh as a statement of its own sent
 * when it asked; only the round trips (and, for writes, the commits) are shared. Under load, the requests whose
 * API keys were looked up together also reach their writes together, so batches form without waiting.
 *
 * `batch` answers the items in order. When the batch fails and `single` is given, every item is tried on its own
 * (so one item that breaks a batch fails alone, and the others are not lost); without `single`, the failure is
 * every item's. A turn's only item goes to `single` directly, so a quiet hub sends exactly the statement it would
 * without batching.
 */
export class TurnQueue<I, R> {
  private pending: Array<{ item: I; resolve: (r: R) => void; reject: (e: unknown) => void }> = [];

  constructor(
    private readonly options: {
      batch: (items: I[]) => Promise<R[]>;
      single?: (item: I) => Promise<R>;
      /** At most this many items per batch; the rest of a turn's items go in further batches, sent at once. */
      maxBatch?: number;
    },
  ) {}

  push(item: I): Promise<R> {
    return new Promise((resolve, reject) => {
      if (this.pending.length === 0) setImmediate(() => this.flush());
      this.pending.push({ item, resolve, reject });
    });
  }

  private flush(): void {
    const all = this.pending;
    this.pending = [];
    const max = this.options.maxBatch ?? 100;
    for (let i = 0; i < all.length; i += max) void this.send(all.slice(i, i + max));
  }

  private async send(waiters: Array<{ item: I; resolve: (r: R) => void; reject: (e: unknown) => void }>): Promise<void> {
    const { batch, single } = this.options;
    const alone = (w: (typeof waiters)[number]) => single!(w.item).then(w.resolve, w.reject);
    if (waiters.length === 1 && single) return alone(waiters[0]!);
    try {
      const results = await batch(waiters.map((w) => w.item));
      if (results.length !== waiters.length) throw new Error(`a batch of ${waiters.length} answered ${results.length} results`);
      waiters.forEach((w, i) => w.resolve(results[i]!));
    } catch (e) {
      if (single) await Promise.all(waiters.map(alone));
      else for (const w of waiters) w.reject(e);
    }
  }
}

/** Lookups by key of one turn, answered by one query for the distinct keys (most requests carry the same few keys). */
export class TurnBatch<K, V> {
  private readonly queue: TurnQueue<K, V | undefined>;

  /** `fetch` answers a set of distinct keys with the values found (a key that is absent has no value). */
  constructor(fetch: (keys: K[]) => Promise<Map<K, V>>) {
    this.queue = new TurnQueue({
      batch: async (keys) => {
        const found = await fetch([...new Set(keys)]);
        return keys.map((k) => found.get(k));
      },
      maxBatch: Infinity,
    });
  }

  load(key: K): Promise<V | undefined> {
    return this.queue.push(key);
  }
}
