/**
 * A strict budget of failed authentications per source address: once an address has failed `max` times within a
 * window, its further requests to authenticated endpoints are refused (429) before any key is looked up, with any
 * key, until that window ends. A flood of made-up keys then costs at most `max` key lookups per window and address.
 *
 * Counters live in the process's memory, like the rate limits'; each lives for one window, and the map is swept
 * once per window, so an attacker with many addresses costs memory only for the addresses of the last two windows.
 */
export class FailedAuthBudget {
  private readonly windows = new Map<string, { failures: number; endsAt: number }>();
  private nextSweep = 0;

  constructor(
    /** Failed authentications allowed per address and window; 0 turns the budget off. */
    readonly max: number,
    readonly windowMs = 10_000,
  ) {}

  /** Whole seconds until `address` may authenticate again; 0 when it may now. */
  retryAfter(address: string, now = Date.now()): number {
    if (this.max <= 0) return 0;
    const w = this.windows.get(address);
    if (!w || w.endsAt <= now || w.failures < this.max) return 0;
    return Math.max(1, Math.ceil((w.endsAt - now) / 1000));
  }

  /** Counts one failed authentication from `address`. */
  fail(address: string, now = Date.now()): void {
    if (this.max <= 0) return;
    if (now >= this.nextSweep) this.sweep(now);
    const w = this.windows.get(address);
    if (!w || w.endsAt <= now) this.windows.set(address, { failures: 1, endsAt: now + this.windowMs });
    else w.failures++;
  }

  private sweep(now: number) {
    for (const [address, w] of this.windows) if (w.endsAt <= now) this.windows.delete(address);
    this.nextSweep = now + this.windowMs;
  }
}
