import type { HubContext } from './context.js';
import { DeliveryPool, type DeliveryPoolOptions } from './webhook-pool.js';
import { expireDuePayments } from './ledger/index.js';
import { purgeExpiredIdempotencyKeys } from './idempotency.js';
import { purgeRejectedNotifications, reprocessStaleNotifications } from './inbox/index.js';
import { checkUnknownAttempts, reconcileOpenAttempts } from './reconcile.js';
import { settleStaleRefunds } from './refunds.js';
import { purgeExpiredSessions } from './users.js';
import { workerPulse } from './health.js';

export interface WorkerOptions extends DeliveryPoolOptions {
  /** How often the queues are polled when nothing wakes the worker (default 1000 ms). */
  pollMs?: number;
  /** Days a rejected, unauthenticated notification is kept before the janitor deletes it (default 30). */
  rejectedNotificationRetentionDays?: number;
}

/** One piece of the worker's periodic upkeep. */
export interface Janitor {
  name: string;
  run(): Promise<unknown>;
}

/**
 * Runs janitors one after the other, each in its own try/catch: a janitor that fails is logged and retried on the
 * next pass, and never keeps the ones after it from running. Stops early when `stopped()` turns true.
 */
export async function runJanitors(ctx: Pick<HubContext, 'logger'>, janitors: Janitor[], stopped: () => boolean = () => false): Promise<void> {
  for (const janitor of janitors) {
    if (stopped()) return;
    try {
      await janitor.run();
    } catch (e) {
      ctx.logger.error({ err: e, janitor: janitor.name }, 'a worker janitor failed; it runs again on the next pass');
    }
  }
}

export interface Worker {
  /** Runs a pass soon (after a commit that queued work). */
  wake(): void;
  stop(): Promise<void>;
}

/**
 * The background work of one hub process: webhook deliveries (a pool of their own, see DeliveryPool, so that the
 * janitors never wait for a slow receiver and deliveries never wait for a janitor), and the janitors: payment expiry, stale notifications, refunds
 * whose answer never came, the prompt status check of attempts whose outcome is unknown, reconciliation of open attempts with the processors, idempotency-key expiry and the
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
  // What the operator's health page reads: when the janitors last ran here, and how long they took.
  const pulse = ctx.caches.of(workerPulse);
  pulse.startedAt = new Date();
  pulse.pollMs = pollMs;

  // Each janitor on its own: one that throws (a bad row, a processor's odd answer) is logged and the others still run.
  const everyPoll: Janitor[] = [
    { name: 'expire due payments', run: () => expireDuePayments(ctx) },
    { name: 'reprocess stale notifications', run: () => reprocessStaleNotifications(ctx) },
    { name: 'settle stale refunds', run: () => settleStaleRefunds(ctx) },
    // Within seconds: the payer is waiting, and the payment takes no new attempt until the processor says.
    { name: 'check attempts whose outcome is unknown', run: () => checkUnknownAttempts(ctx) },
    { name: 'reconcile open attempts', run: () => reconcileOpenAttempts(ctx) },
  ];
  const everyHour: Janitor[] = [
    { name: 'purge expired idempotency keys', run: () => purgeExpiredIdempotencyKeys(ctx.db) },
    { name: 'purge rejected notifications', run: () => purgeRejectedNotifications(ctx, options.rejectedNotificationRetentionDays ?? 30) },
    { name: 'purge expired console sessions', run: () => purgeExpiredSessions(ctx) },
  ];

  const pass = async () => {
    // Wake-ups come after every commit that queued a webhook; the janitors only need the poll's pace.
    if (!stopped && Date.now() - lastExpiry >= pollMs) {
      lastExpiry = Date.now();
      pulse.passStartedAt = new Date(lastExpiry);
      try {
        await runJanitors(ctx, everyPoll, () => stopped);
      } finally {
        pulse.lastPassEndedAt = new Date();
        pulse.lastPassMs = pulse.lastPassEndedAt.getTime() - lastExpiry;
        pulse.passStartedAt = null;
        pulse.passes++;
      }
    }
    if (!stopped && Date.now() - lastPurge > 3_600_000) {
      lastPurge = Date.now();
      await runJanitors(ctx, everyHour, () => stopped);
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
      pulse.startedAt = null;
      if (timer) clearTimeout(timer);
      await Promise.all([running, deliveries.stop()]);
    },
  };
}
