import { sql } from 'kysely';
import type { FastifyBaseLogger } from 'fastify';
import { signNotification } from '../../src/connectors/multisafepay/auth-header.js';
import { DeliveryWorker, exponentialBackoff, type AttemptReport } from '../shared/delivery-worker.js';
import { callMerchant, type MerchantReply } from '../shared/merchant-call.js';
import { NOTIFICATION_QUEUE, type EmuDb } from './schema.js';

export interface NotificationRetryOptions {
  /** Wait before the first retry. Default 15 minutes (MultiSafepay: "3 times at 15 minute intervals"). */
  baseDelayMs: number;
  /** Each further retry waits this many times longer; 1 (MultiSafepay's fixed interval) by default. */
  backoffFactor: number;
  /** Attempts per notification, the first included. Default 4 (the first and 3 retries). */
  maxAttempts: number;
  /** Deadline of one call to the webhook endpoint. Default 10 000. */
  timeoutMs: number;
  /** How often the worker looks for due retries, expiries and reviews. Default 1000. */
  pollMs: number;
}

const MAX_DELAY_MS = 24 * 3600_000;
const USER_AGENT = 'MultiSafepay-emulator (incasso)';

interface ClaimedNotification {
  id: number;
  attempts: number;
  body: string;
  order_id: string;
  notification_url: string;
  notification_method: 'POST' | 'GET';
  api_key: string;
}

/**
 * MultiSafepay's acknowledgement rule (docs "Webhook" → "Acknowledge the notification"): HTTP 200 with `OK`
 * within the first 100 characters of the body (which also covers `MULTISAFEPAY_OK`). Anything else — another
 * status, another body, no answer — is retried.
 */
export function isAcknowledged(result: MerchantReply): boolean {
  return result.status === 200 && result.body.slice(0, 100).includes('OK');
}

/** `{notification_url}?transactionid=<order_id>&timestamp=<ts>`, keeping the merchant's own query string. */
export function notificationUrl(base: string, orderId: string, timestamp: number): string {
  const hashAt = base.indexOf('#');
  const url = hashAt === -1 ? base : base.slice(0, hashAt);
  const separator = !url.includes('?') ? '?' : url.endsWith('?') || url.endsWith('&') ? '' : '&';
  return `${url}${separator}transactionid=${encodeURIComponent(orderId)}&timestamp=${timestamp}`;
}

/**
 * Sends notifications and retries them from the notifications table (see DeliveryWorker). Each poll also runs
 * `housekeeping` (link expiry, the end of manual reviews), which queues notifications of its own.
 */
export class Notifier extends DeliveryWorker<ClaimedNotification> {
  constructor(db: EmuDb, options: NotificationRetryOptions, log: FastifyBaseLogger, housekeeping: () => Promise<void>) {
    super(db, {
      queue: {
        ...NOTIFICATION_QUEUE,
        join: { from: sql`emu_multisafepay_orders o`, on: sql`o.id = q.order_pk` },
        carries: sql`q.body, o.order_id, o.notification_url, o.notification_method, o.api_key`,
      },
      retry: { ...options, delayMs: exponentialBackoff(options.baseDelayMs, options.backoffFactor, MAX_DELAY_MS) },
      log,
      failureMessage: 'MultiSafepay emulator: background work failed',
      housekeeping,
    });
  }

  protected async send(claimed: ClaimedNotification): Promise<AttemptReport> {
    // Every attempt carries a new timestamp, and so a new signature (docs: "each with a new timestamp").
    const timestamp = Math.floor(Date.now() / 1000);
    const url = notificationUrl(claimed.notification_url, claimed.order_id, timestamp);
    const call = { timeoutMs: this.timeoutMs, urlName: 'notification URL' };
    const reply =
      claimed.notification_method === 'POST'
        ? await callMerchant(url, {
            headers: { 'content-type': 'application/json', auth: signNotification(claimed.api_key, claimed.body, timestamp), 'user-agent': USER_AGENT },
            body: claimed.body,
            ...call,
          })
        : await callMerchant(url, { method: 'GET', headers: { 'user-agent': USER_AGENT }, ...call });
    if (isAcknowledged(reply)) return { outcome: 'delivered', error: null, reply };
    return {
      outcome: 'retry',
      error: reply.status === undefined ? (reply.error ?? 'no reply') : reply.status !== 200 ? `HTTP ${reply.status}` : 'the reply does not say OK',
      reply,
    };
  }
}
