import { claimDueDeliveries } from '../store/queries/webhooks.js';
import type { Db } from '../store/store.js';
import type { HubContext } from './context.js';
import { deliverOne, LEASE_MS, type DueDelivery, type WebhookOptions } from './webhooks.js';

/**
 * Webhook deliveries of one process go through a pool: a fixed number in flight, a new one started as soon as one
 * finishes (never waiting for the slowest of a batch), chosen fairly across merchants, with caps on what one
 * endpoint and one merchant may have in flight at once (across all processes: the caps count the leases in the
 * database). A merchant whose receivers are slow, or who has many of them, only delays its own deliveries.
 */

/** Deliveries in flight per process. */
export const WEBHOOK_POOL_SIZE = 64;
/** Deliveries in flight at once to one endpoint (all processes together). */
export const MAX_IN_FLIGHT_PER_ENDPOINT = 8;
/** Deliveries in flight at once for one merchant, over all its endpoints (all processes together). */
export const MAX_IN_FLIGHT_PER_MERCHANT = 16;

/**
 * A lease younger than this is a delivery in flight. An attempt takes at most the delivery timeout (10 s) and
 * its bookkeeping, so an older lease belongs to a process that died mid-delivery: it stops counting against the
 * caps at once, though its delivery waits for the whole lease (LEASE_MS) before another process sends it again.
 */
const IN_FLIGHT_WINDOW_MS = 20_000;

export interface DeliveryCaps {
  perEndpoint: number;
  perMerchant: number;
}

/**
 * Claims up to `limit` due deliveries with a lease, together with what sending them needs, in one statement.
 *
 * Fairness: each merchant's earliest due deliveries are looked at (an index range per merchant, so one merchant's
 * backlog cannot hide another's), those that would exceed an endpoint's or the merchant's cap (counting the
 * leases already out) are left for later, and the rest are taken round-robin by merchant (each merchant's first
 * free slot, then each one's second, ...). Deliveries of an endpoint that is no longer active are marked
 * `canceled` instead of being sent. `SKIP LOCKED` and the lease re-check let several hub processes share the queue.
 */
export async function claimDueFairly(
  db: Db,
  limit: number,
  caps: DeliveryCaps = { perEndpoint: MAX_IN_FLIGHT_PER_ENDPOINT, perMerchant: MAX_IN_FLIGHT_PER_MERCHANT },
): Promise<DueDelivery[]> {
  if (limit <= 0) return [];
  const window = caps.perMerchant * 4;
  return claimDueDeliveries(db, {
    limit,
    window,
    perEndpoint: caps.perEndpoint,
    perMerchant: caps.perMerchant,
    leaseMs: LEASE_MS,
    inFlightWindowMs: IN_FLIGHT_WINDOW_MS,
  });
}

export interface DeliveryPoolOptions extends WebhookOptions {
  /** Deliveries in flight in this process (default WEBHOOK_POOL_SIZE). */
  poolSize?: number;
  caps?: DeliveryCaps;
}

/** One process's delivery pool: `kick()` claims what fits and starts it; finished deliveries make room for more. */
export class DeliveryPool {
  private readonly inFlight = new Set<Promise<void>>();
  private claiming: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private readonly size: number;

  constructor(
    private readonly ctx: HubContext,
    private readonly options: DeliveryPoolOptions = {},
  ) {
    this.size = options.poolSize ?? WEBHOOK_POOL_SIZE;
  }

  /** Deliveries this process has in flight now. */
  get active(): number {
    return this.inFlight.size;
  }

  /** Claims due deliveries up to the pool's free room and starts them; returns at once. */
  kick(): void {
    if (this.stopped) return;
    if (this.claiming) {
      this.again = true;
      return;
    }
    this.claiming = this.fill()
      .catch((e) => this.ctx.logger.error({ err: e }, 'could not claim webhook deliveries; retrying on the next poll'))
      .finally(() => {
        this.claiming = null;
        if (this.again && !this.stopped) {
          this.again = false;
          this.kick();
        }
      });
  }

  private async fill(): Promise<void> {
    const room = this.size - this.inFlight.size;
    if (room <= 0) return;
    const due = await claimDueFairly(this.ctx.db, room, this.options.caps);
    for (const d of due) {
      const running: Promise<void> = deliverOne(this.ctx, d, this.options)
        .catch((e) => this.ctx.logger.error({ err: e, delivery: d.id }, 'webhook delivery bookkeeping failed; the lease will expire and it will be retried'))
        .finally(() => {
          this.inFlight.delete(running);
          // A slot (and maybe an endpoint's or a merchant's cap) is free again: look for more.
          this.kick();
        });
      this.inFlight.add(running);
    }
  }

  /** Claims nothing more and waits for the deliveries in flight (each is bounded by the delivery timeout). */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.claiming;
    await Promise.all([...this.inFlight]);
  }
}
