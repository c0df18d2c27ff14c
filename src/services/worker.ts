import type { HubContext } from './context.js';
import { DeliveryPool, type DeliveryPoolOptions } from './webhook-pool.js';
import { expireDuePayments } from './payments.js';
import { purgeExpiredIdempotencyKeys } from './idempotency.js';
import { purgeRejectedNotifications, reprocessStaleNotifications } from './notifications.js';
import { reconcileOpenAttempts } from './reconcile.js';
import { settleStaleRefunds } from './refunds.js';

export interface WorkerOptions extends DeliveryPoolOptions {
  /** How often the queues are polled when nothing wakes the worker (default 1000 ms). */
  pollMs?: number;
  /** Days a rejected, unauthenticated notification is kept before the janitor deletes it (default 30). */
  rejectedNotificationRetentionDays?: number;
}

export interface Worker {
  /** Runs a pass soon (after a commit that queued work). */
  wake(): void;
  stop(): Promise<void>;
}

/**
 * The background work of one hub process: webhook deliveries (a pool of their own, see DeliveryPool, so that the
 * janitors never wait for a slow receiver and deliveries never wait for a janitor), and the janitors: payment expiry, stale notifications, refunds
 * whose answer never came, reconciliation of open attempts with the processors, idempotency-key expiry and the
 * purge of rejected notifications past their retention. Its
 * state lives in the database, so any number of processes can run it side by side and a killed process loses
 * nothing (leases expire and another pass picks the work up).
 */
export function startWorker(ctx: HubContext, options: WorkerOptions = {}): Worker {
  const pollMs = options.pollMs ?? 1000;
  let stopped = false;
  let running: Promise<void> | null = null;
  let again = false;
  let timer: NodeJS.Timeout | null = null;
  let lastPurge = 0;
  let lastExpiry = 0;
  const deliveries = new DeliveryPool(ctx, options);

  const pass = async () => {
    try {
      // Wake-ups come after every commit that queued a webhook; the janitors only need the poll's pace.
      if (!stopped && Date.now() - lastExpiry >= pollMs) {
        lastExpiry = Date.now();
        await expireDuePayments(ctx);
        await reprocessStaleNotifications(ctx);
        await settleStaleRefunds(ctx);
        await reconcileOpenAttempts(ctx);
      }
      if (!stopped && Date.now() - lastPurge > 3_600_000) {
        lastPurge = Date.now();
        await purgeExpiredIdempotencyKeys(ctx.db);
        await purgeRejectedNotifications(ctx, options.rejectedNotificationRetentionDays ?? 30);
      }
    } catch (e) {
      ctx.logger.error({ err: e }, 'worker pass failed; retrying on the next poll');
    }
  };

  const run = () => {
    if (stopped) return;
    deliveries.kick();
    if (running) {
      again = true;
      return;
    }
    running = pass().finally(() => {
      running = null;
      if (again && !stopped) {
        again = false;
        run();
      } else schedule();
    });
  };

  const schedule = () => {
    if (stopped) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(run, pollMs);
    timer.unref();
  };

  schedule();
  return {
    // A commit queued deliveries: claim them now, whatever the janitors are doing.
    wake: () => setImmediate(() => deliveries.kick()),
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await Promise.all([running, deliveries.stop()]);
    },
  };
}
