import { sql } from 'kysely';
import type { FastifyBaseLogger } from 'fastify';
import { DeliveryWorker, doublingSchedule, type AttemptReport, type DoublingRetryOptions } from '../shared/delivery-worker.js';
import { callMerchant } from '../shared/merchant-call.js';
import { NOTIFICATION_QUEUE, type EmuNexiDb } from './schema.js';

interface Claimed {
  id: number;
  attempts: number;
  fields: Record<string, string>;
  url_post: string;
}

/**
 * Posts payment results to merchants' `urlpost` from the notifications table (see DeliveryWorker) and retries
 * until the merchant answers HTTP 200 (Nexi: "the notification must answer HTTP 200"; anything else, or no
 * answer, is tried again).
 */
export class Notifier extends DeliveryWorker<Claimed> {
  constructor(db: EmuNexiDb, options: DoublingRetryOptions, log: FastifyBaseLogger) {
    super(db, {
      queue: { ...NOTIFICATION_QUEUE, carries: sql`q.fields, q.url_post` },
      retry: doublingSchedule(options),
      log,
      failureMessage: 'Nexi emulator: notification delivery failed to run',
    });
  }

  protected async send(claimed: Claimed): Promise<AttemptReport> {
    const fields = typeof claimed.fields === 'string' ? (JSON.parse(claimed.fields) as Record<string, string>) : claimed.fields;
    const reply = await callMerchant(claimed.url_post, {
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'Nexi-XPay-emulator (incasso)' },
      body: new URLSearchParams(fields).toString(),
      timeoutMs: this.timeoutMs,
      urlName: 'urlpost',
    });
    if (reply.status === 200) return { outcome: 'delivered', error: null, reply };
    return { outcome: 'retry', error: reply.status === undefined ? (reply.error ?? 'no reply') : `HTTP ${reply.status}`, reply };
  }
}
