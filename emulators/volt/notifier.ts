import { sql } from 'kysely';
import type { FastifyBaseLogger } from 'fastify';
import { signVoltNotification } from '../../src/connectors/volt/signature.js';
import { DeliveryWorker, type AttemptOutcome, type AttemptReport } from '../shared/delivery-worker.js';
import { callMerchant } from '../shared/merchant-call.js';
import { abandonExpired } from './payments.js';
import { NOTIFICATION_QUEUE, type EmuVoltDb } from './schema.js';

export interface NotifierOptions {
  /** Waits before each retry; Volt: 5 s, 30 s, 3 min, 10 min, 15 min (six attempts in all). */
  delaysMs: readonly number[];
  /** Deadline of one call to the notification URL. */
  timeoutMs: number;
  /** How often the worker looks for due retries and expired checkouts. */
  pollMs: number;
  /** How long a checkout stays open before the payment is ABANDONED_BY_USER. */
  checkoutTtlMs: number;
}

export const VOLT_RETRY_DELAYS_MS: readonly number[] = [5_000, 30_000, 180_000, 600_000, 900_000];
/** The version in `User-Agent: Volt/2.0`, signed with every notification. */
export const NOTIFICATION_VERSION = '2.0';

interface Claimed {
  id: number;
  attempts: number;
  url: string;
  body: string;
  volt_type: string | null;
  notification_secret: string;
}

/**
 * Sends notifications and retries them from the notifications table (see DeliveryWorker) until the merchant
 * answers 2xx or Volt's schedule runs out. Each attempt is signed afresh with its own X-Volt-Timed, so a retry
 * is never stale. Each poll first abandons checkouts left open too long, which queues their notifications.
 */
export class VoltNotifier extends DeliveryWorker<Claimed> {
  constructor(db: EmuVoltDb, options: NotifierOptions, log: FastifyBaseLogger) {
    const { delaysMs } = options;
    super(db, {
      queue: {
        ...NOTIFICATION_QUEUE,
        join: { from: sql`emu_volt_accounts a`, on: sql`a.client_id = q.client_id` },
        carries: sql`q.url, q.body, q.volt_type, a.notification_secret`,
      },
      retry: {
        maxAttempts: delaysMs.length + 1,
        delayMs: (attempt) => delaysMs[Math.min(attempt - 1, delaysMs.length - 1)] ?? 0,
        timeoutMs: options.timeoutMs,
        pollMs: options.pollMs,
      },
      log,
      failureMessage: 'Volt emulator: notification work failed to run',
      housekeeping: async () => {
        await abandonExpired(db, options.checkoutTtlMs);
      },
    });
  }

  /** The first attempt of a freshly queued notification, made before the payer is sent back. Never throws. */
  override async deliverNow(id: number | undefined): Promise<AttemptOutcome | undefined> {
    // After stop() the store may be closing; the queued row is sent by the next process that polls.
    if (id === undefined || this.stopped) return undefined;
    return super.deliverNow(id);
  }

  protected async send(claimed: Claimed): Promise<AttemptReport> {
    const timed = String(Math.floor(Date.now() / 1000));
    const reply = await callMerchant(claimed.url, {
      headers: {
        'content-type': 'application/json',
        'user-agent': `Volt/${NOTIFICATION_VERSION}`,
        'x-volt-timed': timed,
        'x-volt-signed': signVoltNotification(claimed.notification_secret, claimed.body, timed, NOTIFICATION_VERSION),
        ...(claimed.volt_type ? { 'x-volt-type': claimed.volt_type } : {}),
      },
      body: claimed.body,
      timeoutMs: this.timeoutMs,
      urlName: 'notification URL',
    });
    // Volt looks only at the status code: the reply body is neither judged nor logged.
    const logColumns = { timed };
    if (reply.status !== undefined && reply.status >= 200 && reply.status <= 299) return { outcome: 'delivered', error: null, reply, logColumns };
    return { outcome: 'retry', error: reply.status !== undefined ? `HTTP ${reply.status}` : (reply.error ?? 'no reply'), reply, logColumns };
  }
}
