import { connectorFor } from '../../connectors/registry.js';
import { claimStaleNotifications, deleteRejectedNotifications, selectProviderConnection } from '../../store/queries/inbox.js';
import type { HubContext } from '../context.js';
import { notificationPath } from '../hub-urls.js';
import { processStored } from './receive.js';

/** How long a stored notification may stay unprocessed before the worker processes it again. */
export const STALE_NOTIFICATION_MS = 60_000;
const REPROCESS_LEASE = '5 minutes';

/**
 * Processes notifications that were stored but never settled (the process died, or the database went away
 * between storing and applying). The processor usually retries as well; whichever comes second is recorded as
 * a duplicate. Claimed with SKIP LOCKED and a lease, so several processes share the work.
 */
export async function reprocessStaleNotifications(ctx: HubContext, limit = 20): Promise<number> {
  const claimed = await claimStaleNotifications(ctx.db, STALE_NOTIFICATION_MS, REPROCESS_LEASE, limit);
  for (const stored of claimed) {
    if (!connectorFor(stored.provider)) continue;
    const connection = stored.connection_id ? await selectProviderConnection(ctx.db, stored.connection_id, stored.provider) : undefined;
    await processStored(ctx, stored.provider, stored.id, stored.connection_id ?? '', connection, {
      body: Buffer.from(stored.body),
      contentType: stored.content_type ?? undefined,
      headers: stored.headers ?? (stored.content_type ? { 'content-type': stored.content_type } : {}),
      query: stored.query ?? undefined,
      // Not stored: a notification reaches the inbox only on its connection's own path.
      path: stored.connection_id ? notificationPath(stored.provider, stored.connection_id) : undefined,
    });
    ctx.logger.info({ notification: stored.id }, 'reprocessed a stored notification');
  }
  return claimed.length;
}

/**
 * Deletes the notifications that were never authenticated (unknown connection, failed verification) once they
 * are older than the retention period, in batches; every authenticated one (applied, duplicate, ignored, or
 * refused by the ledger checks) is kept. Returns how many were deleted.
 */
export async function purgeRejectedNotifications(ctx: HubContext, retentionDays: number, batch = 1000): Promise<number> {
  if (!(retentionDays > 0)) return 0;
  let deleted = 0;
  for (;;) {
    const n = await deleteRejectedNotifications(ctx.db, retentionDays, batch);
    deleted += n;
    if (n < batch) break;
  }
  if (deleted) ctx.logger.info({ deleted, retentionDays }, 'purged rejected notifications past their retention');
  return deleted;
}
