import { newId } from '../../core/ids.js';
import { toStorable } from '../../core/storable-text.js';
import { connectorFor } from '../../connectors/registry.js';
import type { HttpReply, InboundNotification } from '../../connectors/types.js';
import type { Connection } from '../../store/schema.js';
import { settleInboxRow, storeInboxBatch, storeInboxRow, UNAUTHENTICATED_HEADERS_BYTES, type InboxRow } from '../../store/queries/inbox.js';
import { TurnQueue } from '../../store/turn-batch.js';
import { cacheSlot } from '../hub-caches.js';
import { notificationOutcomes } from '../../observability/metrics.js';
import type { HubContext } from '../context.js';
import { loadConnection } from '../connections.js';
import { applyVerified, LEDGER_REFUSALS, type Applied, type Refused } from '../ledger/index.js';

function storableHeader(value: string | undefined): string | null {
  return value === undefined ? null : value.slice(0, 200).replace(/[\u0000-\u001f\u007f-\uffff]/g, '?');
}

/** Headers that never matter to a processor's signature and may carry someone's credentials. */
const UNSTORED_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization']);

/** The request's headers as stored with the notification: lower-case names, single values, bounded size. */
function storableHeaders(headers: InboundNotification['headers'], budget = 16 * 1024): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const key = name.toLowerCase();
    if (value === undefined || UNSTORED_HEADERS.has(key)) continue;
    const v = (Array.isArray(value) ? value.join(', ') : value).replace(/\u0000/g, '');
    budget -= key.length + v.length;
    if (budget < 0) break;
    out[key] = v;
  }
  return out;
}

/** The hub's own reply codes for what happens after verification (storage and ledger checks). */
export const INBOX_ERRORS = { storage: 0x300000f9, unknownConnection: 0x300000fa, ...LEDGER_REFUSALS, internal: 0x300000fb } as const;

export interface ReceivedNotification extends InboundNotification {
  remoteAddr?: string;
}

/**
 * The notification inbox (rule 2 of the design): the raw bytes are stored first; then verified; then handed to
 * the ledger, which checks and applies them in one transaction with the outbox; only then is the processor
 * answered, in its own protocol. Storage trouble answers "temporary error" so the processor retries; nothing
 * unverified or inconsistent changes the ledger.
 */
export async function receiveNotification(ctx: HubContext, provider: string, connectionId: string, n: ReceivedNotification): Promise<HttpReply> {
  const connector = connectorFor(provider);
  if (!connector) throw new Error(`no connector ${provider}`);
  const count = (outcome: string) => notificationOutcomes.inc({ provider, outcome });
  const id = newId('ntf');
  let row: Connection | undefined;
  // An id that cannot be one of ours (a NUL byte, say) is an unknown connection, not a storage failure.
  const knownShape = /^[A-Za-z0-9_-]{1,64}$/.test(connectionId);
  try {
    row = await ctx.caches.of(inboxWrites).push({
      id,
      provider,
      connection_id: knownShape ? connectionId : null,
      remote_addr: n.remoteAddr ?? null,
      content_type: storableHeader(n.contentType),
      body: n.body,
      headers: storableHeaders(n.headers),
      small_headers: storableHeaders(n.headers, UNAUTHENTICATED_HEADERS_BYTES),
      query: n.query?.replace(/\u0000/g, '').slice(0, 8192) ?? null,
    });
  } catch (e) {
    ctx.logger.error({ err: e, provider }, 'could not store an inbound notification; asking the processor to retry');
    count('error');
    return connector.replyToNotification({ kind: 'temporary_error', code: INBOX_ERRORS.storage, message: 'could not record the notification; please retry' });
  }
  return processStored(ctx, provider, id, connectionId, row, n);
}

/** The notifications arriving in the current event-loop turn (stored together, see TurnQueue). */
const inboxWrites = cacheSlot(
  'notifications stored in this turn',
  (db) =>
    new TurnQueue<InboxRow, Connection | undefined>({ batch: (rows) => storeInboxBatch(db, rows), single: (row) => storeInboxRow(db, row), maxBatch: 64 }),
);

/** Verifies a stored notification, hands it to the ledger, and says what to answer the processor. */
export async function processStored(
  ctx: HubContext,
  provider: string,
  id: string,
  connectionId: string,
  row: Connection | undefined,
  n: InboundNotification,
): Promise<HttpReply> {
  const connector = connectorFor(provider)!;
  const count = (outcome: string) => notificationOutcomes.inc({ provider, outcome });
  const settle = async (status: string, fields: { error?: string; summary?: Record<string, unknown>; paymentId?: string; unauthenticated?: boolean }) => {
    // A request that failed verification is anybody's: only an excerpt of it is kept (see UNAUTHENTICATED_BODY_EXCERPT_BYTES).
    await settleInboxRow(ctx.db, id, {
      status,
      error: fields.error === undefined ? null : toStorable(fields.error),
      summary: fields.summary ? toStorable(fields.summary) : null,
      paymentId: fields.paymentId ?? null,
      unauthenticated: fields.unauthenticated ? { headers: storableHeaders(n.headers, UNAUTHENTICATED_HEADERS_BYTES) } : undefined,
    }).catch((e) => ctx.logger.error({ err: e, notification: id }, 'could not mark a notification as settled'));
  };

  let verdict;
  try {
    if (!row) {
      await settle('rejected', { error: 'unknown connection' });
      count('rejected');
      return connector.replyToNotification({ kind: 'permanent_error', code: INBOX_ERRORS.unknownConnection, message: 'unknown connection' });
    }
    const loaded = loadConnection(ctx, row);
    verdict = ctx.verifier ? await ctx.verifier.verify(loaded.verify, n) : await connector.verifyNotification(loaded.config, n);
  } catch (e) {
    // The row stays `received`: once the cause is fixed, the processor's retry (or an operator) replays it.
    ctx.logger.error({ err: e, notification: id }, 'notification could not be processed');
    count('error');
    return connector.replyToNotification({ kind: 'temporary_error', code: INBOX_ERRORS.storage, message: 'temporary failure; please retry' });
  }
  if (!verdict.ok) {
    await settle('rejected', { error: verdict.reason, unauthenticated: true });
    count('rejected');
    ctx.logger.warn({ notification: id, provider, reason: verdict.reason }, 'notification rejected');
    return connector.replyToNotification({ kind: verdict.permanent ? 'permanent_error' : 'temporary_error', code: verdict.code, message: verdict.reason });
  }

  let result: Applied | Refused;
  try {
    result = await applyVerified(ctx, connectionId, id, verdict);
  } catch (e) {
    ctx.logger.error({ err: e, notification: id }, 'could not apply a verified notification; asking the processor to retry');
    count('error');
    return connector.replyToNotification({ kind: 'temporary_error', code: INBOX_ERRORS.storage, message: 'could not record the notification; please retry' });
  }
  count(result.status);
  if (result.status === 'rejected') {
    await settle('rejected', { error: result.reason, summary: verdict.summary, paymentId: result.paymentId });
    ctx.logger.warn({ notification: id, provider, reason: result.reason }, 'notification refused by the ledger checks');
    return connector.replyToNotification({ kind: 'permanent_error', code: result.code, message: result.reason });
  }
  ctx.logger.debug({ notification: id, provider, outcome: result.status, payment: result.paymentId, kind: verdict.outcome.kind }, 'notification recorded');
  return connector.replyToNotification({ kind: 'recorded', verdict });
}
