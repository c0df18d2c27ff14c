import { randomBytes } from 'node:crypto';
import type { Transaction } from 'kysely';
import { newId } from '../core/ids.js';
import { EVENT_TYPES, type EventType } from '../core/transitions.js';
import { FieldErrors, isHttpUrl } from '../core/validation.js';
import type { Database, WebhookDelivery, WebhookEndpoint } from '../store/schema.js';
import {
  cancelPendingDeliveries,
  countActiveEndpoints,
  type DueDelivery,
  insertWebhookEndpoint,
  lockMerchant,
  lockWebhookEndpoint,
  recordDeliveryAttempt,
  requeueDelivery,
  rotateEndpointSecret,
  type DeliveryLogRow,
  selectDeliveries,
  selectDelivery,
  selectDeliveryAttempts,
  selectDeliveryLog,
  selectWebhookEndpoint,
  selectWebhookEndpoints,
  updateWebhookEndpointRow,
} from '../store/queries/webhooks.js';
import { insertEvent, recentEvents } from '../store/queries/events.js';
import { signStandardWebhook } from '../core/webhook-signature.js';
import { checkOutboundUrl, outboundOf, type Outbound, OutboundRefusedError, printableExcerpt } from '../security/outbound.js';
import { webhookDeliveries, webhookDeliveryLag } from '../observability/metrics.js';
import { ConflictError, NotFoundError, type HubContext } from './context.js';

/**
 * Outbound events (rule 4 of the design): written to the outbox in the same transaction as the state change,
 * delivered by a worker with Standard Webhooks signatures, retried with backoff over more than 24 hours,
 * every attempt logged, redeliverable by hand. A delivery the outbound guard refuses (its URL is, or resolves to,
 * an internal address) fails at once, its reason in the log: it is not retried on the schedule.
 */

/** Delay before each retry, after the first immediate attempt: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (27.6 h in all). */
export const RETRY_SCHEDULE_MS = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000];
/** How long a claimed delivery is its process's; a process that dies mid-delivery loses it to another after this. */
export const LEASE_MS = 60_000;
const DELIVERY_TIMEOUT_MS = 10_000;
/** Bytes of a receiver's answer read at most (the rest is never read), and characters of it kept for the merchant. */
export const WEBHOOK_ANSWER_MAX_BYTES = 4096;
export const WEBHOOK_ANSWER_EXCERPT_CHARS = 256;

export interface WebhookOptions {
  /** Multiplies every retry delay (tests shorten the schedule; production leaves it at 1). */
  retryScale?: number;
}

export function retryDelayMs(attemptsSoFar: number, scale = 1): number | null {
  const base = RETRY_SCHEDULE_MS[attemptsSoFar - 1];
  return base === undefined ? null : Math.max(1, Math.round(base * scale));
}

/** Standard Webhooks signature: `v1,` + base64 HMAC-SHA256 over `id.timestamp.body` with the decoded secret. */
/** Signs a delivery as Standard Webhooks does (`webhook-signature`); the receivers check it with the same code. */
export const signWebhook = signStandardWebhook;

function validateEndpointInput(input: { url?: unknown; events?: unknown }, partial: boolean, outbound: Outbound) {
  const errors = new FieldErrors();
  if ((!partial || input.url !== undefined) && !isHttpUrl(input.url)) errors.add('url', 'must be an http(s) URL of at most 2048 characters');
  else if (typeof input.url === 'string') checkOutboundUrl(errors, 'url', outbound, input.url);
  if (input.events !== undefined) {
    if (!Array.isArray(input.events) || input.events.length === 0 || !input.events.every((e) => e === '*' || (EVENT_TYPES as readonly unknown[]).includes(e))) {
      errors.add('events', `must be a non-empty list of: *, ${EVENT_TYPES.join(', ')}`);
    }
  }
  errors.throwIfAny();
}

/** Webhook endpoints one merchant may have active at once (a payment's own callback endpoint is not counted). */
export const MAX_WEBHOOK_ENDPOINTS_PER_MERCHANT = 50;

/** Refuses (409) another active endpoint beyond the cap; the caller's transaction holds the merchant's row. */
async function checkEndpointCap(trx: Transaction<Database>, merchantId: string): Promise<void> {
  await lockMerchant(trx, merchantId);
  const n = await countActiveEndpoints(trx, merchantId);
  if (n >= MAX_WEBHOOK_ENDPOINTS_PER_MERCHANT) {
    throw new ConflictError(
      `a merchant may have at most ${MAX_WEBHOOK_ENDPOINTS_PER_MERCHANT} active webhook endpoints; disable one first (an endpoint may subscribe to several events)`,
    );
  }
}

const newSecret = () => 'whsec_' + randomBytes(32).toString('base64');

export async function createWebhookEndpoint(
  ctx: HubContext,
  merchantId: string,
  input: { url?: unknown; events?: unknown },
): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
  validateEndpointInput(input, false, outboundOf(ctx));
  const id = newId('we');
  const secret = newSecret();
  const endpoint = await ctx.db.transaction().execute(async (trx) => {
    await checkEndpointCap(trx, merchantId);
    return insertWebhookEndpoint(trx, {
      id,
      merchant_id: merchantId,
      url: input.url as string,
      events: JSON.stringify(input.events ?? ['*']),
      secret_encrypted: ctx.vault.encrypt(secret, `webhook_endpoint:${id}`),
    });
  });
  return { endpoint, secret };
}

export async function getWebhookEndpoint(ctx: Pick<HubContext, 'db'>, merchantId: string, id: string): Promise<WebhookEndpoint> {
  const row = await selectWebhookEndpoint(ctx.db, merchantId, id);
  if (!row) throw new NotFoundError(`no webhook endpoint ${JSON.stringify(id)}`);
  return row;
}

export async function listWebhookEndpoints(ctx: Pick<HubContext, 'db'>, merchantId: string): Promise<WebhookEndpoint[]> {
  return selectWebhookEndpoints(ctx.db, merchantId);
}

export async function updateWebhookEndpoint(
  ctx: Pick<HubContext, 'db' | 'outbound'>,
  merchantId: string,
  id: string,
  input: { url?: unknown; events?: unknown; status?: unknown },
): Promise<WebhookEndpoint> {
  await getWebhookEndpoint(ctx, merchantId, id);
  validateEndpointInput(input, true, outboundOf(ctx));
  const errors = new FieldErrors();
  if (input.status !== undefined && input.status !== 'active' && input.status !== 'disabled') errors.add('status', 'must be active or disabled');
  errors.throwIfAny();
  const patch: Record<string, unknown> = { updated_at: new Date() };
  if (input.url !== undefined) patch.url = input.url;
  if (input.events !== undefined) patch.events = JSON.stringify(input.events);
  if (input.status !== undefined) patch.status = input.status;
  return ctx.db.transaction().execute(async (trx) => {
    const current = await lockWebhookEndpoint(trx, id);
    if (input.status === 'active' && current.status !== 'active' && current.payment_id === null) await checkEndpointCap(trx, merchantId);
    const updated = await updateWebhookEndpointRow(trx, id, patch);
    if (updated.status !== 'active') {
      // A disabled endpoint gets nothing more: its queued deliveries and retries are canceled (visible in its
      // log, and redeliverable by hand once it is active again). One in flight now finishes; if it would be
      // retried, the worker cancels the retry when it falls due.
      await cancelPendingDeliveries(trx, id);
    }
    return updated;
  });
}

/** How long an endpoint's previous secret still signs its deliveries (beside the new one) after a rotation. */
export const SECRET_ROTATION_OVERLAP_MS = 24 * 3_600_000;

/**
 * Gives an endpoint a new signing secret, returned once. Until `previousValidUntil` (24 hours) every delivery carries
 * two signatures, one with each secret (Standard Webhooks lets a header hold several), so the receiver may switch
 * to the new secret at its own pace; a later rotation drops the older one at once.
 */
export async function rotateWebhookSecret(
  ctx: Pick<HubContext, 'db' | 'vault'>,
  merchantId: string,
  id: string,
): Promise<{ endpoint: WebhookEndpoint; secret: string; previousValidUntil: Date }> {
  await getWebhookEndpoint(ctx, merchantId, id);
  const secret = newSecret();
  const previousValidUntil = new Date(Date.now() + SECRET_ROTATION_OVERLAP_MS);
  const endpoint = await ctx.db.transaction().execute(async (trx) => {
    await lockWebhookEndpoint(trx, id);
    return rotateEndpointSecret(trx, id, { secretEncrypted: ctx.vault.encrypt(secret, `webhook_endpoint:${id}`), previousExpiresAt: previousValidUntil });
  });
  return { endpoint, secret, previousValidUntil };
}

/**
 * Records an event and queues one delivery per subscribed endpoint, in one statement. Must run inside the
 * transaction that makes the state change, so that the event exists if and only if the change does.
 */
export async function emitEvent(
  trx: Transaction<Database>,
  merchantId: string,
  type: EventType,
  paymentId: string | null,
  data: Record<string, unknown>,
): Promise<void> {
  await insertEvent(trx, { merchantId, type, paymentId, data });
}

/** A merchant's latest events, newest first, as their deliveries carry them. */
export function listRecentEvents(ctx: Pick<HubContext, 'db'>, merchantId: string, limit = 100): Promise<unknown[]> {
  return recentEvents(ctx.db, merchantId, limit);
}

export type { DeliveryLogRow, DueDelivery } from '../store/queries/webhooks.js';

export async function deliverOne(ctx: HubContext, delivery: DueDelivery, options: WebhookOptions): Promise<void> {
  const secret = ctx.vault.decrypt(delivery.secret_encrypted, `webhook_endpoint:${delivery.endpoint_id}`);
  // Within a rotation's overlap the previous secret signs too (null otherwise: the usual path, one signature).
  const previous = delivery.previous_secret_encrypted
    ? ctx.vault.decrypt(delivery.previous_secret_encrypted, `webhook_endpoint:${delivery.endpoint_id}`)
    : null;
  const timestamp = Math.floor(Date.now() / 1000);
  const started = Date.now();
  let statusCode: number | null = null;
  let error: string | null = null;
  let responseBody: string | null = null;
  // The outbound guard refused the URL (it is, or resolves to, an address the hub does not call): retrying on the
  // schedule would only be refused again, so the delivery fails now; a redelivery by hand tries it anew.
  let refused = false;
  try {
    // Public addresses only (or what the operator allows), pinned for the connection; at most a few KiB of
    // the answer are read, whatever its headers say, and the merchant sees a short printable excerpt of them.
    const answer = await outboundOf(ctx).request(delivery.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'incasso-webhooks/1',
        'webhook-id': delivery.event_id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature':
          signWebhook(secret, delivery.event_id, timestamp, delivery.payload) +
          (previous ? ` ${signWebhook(previous, delivery.event_id, timestamp, delivery.payload)}` : ''),
      },
      body: delivery.payload,
      timeoutMs: DELIVERY_TIMEOUT_MS,
      maxBytes: WEBHOOK_ANSWER_MAX_BYTES,
    });
    // The status line decides; a body that then fails to arrive changes nothing.
    statusCode = answer.status;
    responseBody = printableExcerpt(answer.body, WEBHOOK_ANSWER_EXCERPT_CHARS) || null;
  } catch (e) {
    refused = e instanceof OutboundRefusedError;
    error = printableExcerpt(
      refused
        ? `not retried: ${(e as Error).message}`
        : (e as Error).name === 'TimeoutError'
          ? `timed out after ${DELIVERY_TIMEOUT_MS} ms`
          : (e as Error).message,
      WEBHOOK_ANSWER_EXCERPT_CHARS,
    );
  }
  const ok = statusCode !== null && statusCode >= 200 && statusCode < 300;
  const attempts = delivery.attempts + 1;
  const delay = ok || refused ? null : retryDelayMs(attempts, options.retryScale);
  if (!ok && error === null) error = `HTTP ${statusCode}`;
  const status = ok ? 'succeeded' : delay === null ? 'failed' : 'pending';
  // The attempt log and the delivery's new state in one statement (atomic on its own).
  await recordDeliveryAttempt(ctx.db, {
    deliveryId: delivery.id,
    statusCode,
    durationMs: Date.now() - started,
    error,
    responseBody,
    attempts,
    status,
    nextAttemptAt: new Date(Date.now() + (delay ?? 0)),
    lastError: ok ? null : error,
    deliveredAt: ok ? new Date() : null,
  });
  webhookDeliveries.inc({ result: ok ? 'succeeded' : 'failed' });
  ctx.logger.debug(
    { delivery: delivery.id, event: delivery.event_id, attempt: attempts, status: statusCode, error, next: status },
    'webhook delivery attempted',
  );
  if (ok) webhookDeliveryLag.observe((Date.now() - new Date(delivery.event_created_at).getTime()) / 1000);
}

export async function listDeliveries(ctx: Pick<HubContext, 'db'>, merchantId: string, filter: { endpointId?: string; eventId?: string; limit?: number }) {
  return selectDeliveries(ctx.db, merchantId, filter);
}

export async function getDelivery(ctx: Pick<HubContext, 'db'>, merchantId: string, id: string) {
  const delivery = await selectDelivery(ctx.db, merchantId, id);
  if (!delivery) throw new NotFoundError(`no webhook delivery ${JSON.stringify(id)}`);
  const attempts = await selectDeliveryAttempts(ctx.db, id);
  return { delivery, attempts };
}

/** A page of a merchant's delivery log (of one endpoint when named), newest first, and the cursor of the next page. */
export async function deliveryLog(
  ctx: Pick<HubContext, 'db'>,
  merchantId: string,
  options: { endpointId?: string; startingAfter?: string; limit: number },
): Promise<{ rows: DeliveryLogRow[]; nextCursor: string | null }> {
  if (options.endpointId) await getWebhookEndpoint(ctx, merchantId, options.endpointId);
  const rows = await selectDeliveryLog(ctx.db, merchantId, { ...options, limit: options.limit + 1 });
  const more = rows.length > options.limit;
  if (more) rows.pop();
  return { rows, nextCursor: more ? rows[rows.length - 1]!.id : null };
}

/** One of a merchant's deliveries as the log shows it (event type, payment, endpoint URL), with every attempt. */
export async function deliveryWithAttempts(ctx: Pick<HubContext, 'db'>, merchantId: string, id: string) {
  const [delivery] = await selectDeliveryLog(ctx.db, merchantId, { deliveryId: id, limit: 1 });
  if (!delivery) throw new NotFoundError(`no webhook delivery ${JSON.stringify(id)}`);
  return { delivery, attempts: await selectDeliveryAttempts(ctx.db, id) };
}

/** Queues a delivery again now, whatever its state; the event id (`webhook-id`) stays the same. */
export async function redeliver(ctx: HubContext, merchantId: string, id: string): Promise<WebhookDelivery> {
  const { delivery } = await getDelivery(ctx, merchantId, id);
  const endpoint = await getWebhookEndpoint(ctx, merchantId, delivery.endpoint_id);
  if (endpoint.status !== 'active') throw new ConflictError(`webhook endpoint ${endpoint.id} is disabled; enable it before redelivering`);
  const row = await requeueDelivery(ctx.db, id);
  ctx.onOutboxWrite?.();
  return row;
}
