import type { HubContext } from './context.js';
import { deliverDueWebhooks, type WebhookOptions } from './webhooks.js';
import { expireDuePayments } from './payments.js';
import { purgeExpiredIdempotencyKeys } from './idempotency.js';
import { reprocessStaleNotifications } from './notifications.js';
import { reconcileOpenAttempts } from './reconcile.js';
import { settleStaleRefunds } from './refunds.js';

export interface WorkerOptions extends WebhookOptions {
  /** How often the queues are polled when nothing wakes the worker (default 1000 ms). */
  pollMs?: number;
}

export interface Worker {
  /** Runs a pass soon (after a commit that queued work). */
  wake(): void;
  stop(): Promise<void>;
}

/**
 * The background loop of one hub process: webhook deliveries, payment expiry, stale notifications, refunds
 * whose answer never came, reconciliation of open attempts with the processors, and idempotency-key expiry. Its
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

  const pass = async () => {
    try {
      while (!stopped && (await deliverDueWebhooks(ctx, options)) > 0);
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
      }
    } catch (e) {
      ctx.logger.error({ err: e }, 'worker pass failed; retrying on the next poll');
    }
  };

  const run = () => {
    if (stopped) return;
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
    wake: () => setImmediate(run),
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
