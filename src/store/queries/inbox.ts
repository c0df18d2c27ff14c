import { sql, type Kysely } from 'kysely';
import type { Connection, Database, Notification } from '../schema.js';

type Db = Kysely<Database>;

/**
 * What is kept of a notification that was never authenticated (its connection is unknown, or its verification
 * failed): the first bytes of its body, its headers and its query, enough to see what it was. Anybody can send
 * those, so they must not cost the store more than this; a notification of a known connection is kept whole
 * until it is verified (it must survive a crash before it is answered).
 */
export const UNAUTHENTICATED_BODY_EXCERPT_BYTES = 4096;
export const UNAUTHENTICATED_HEADERS_BYTES = 1024;
export const UNAUTHENTICATED_QUERY_CHARS = 512;

/** An inbound notification's row as the inbox stores it on arrival. */
export interface InboxRow {
  id: string;
  provider: string;
  connection_id: string | null;
  remote_addr: string | null;
  content_type: string | null;
  body: Buffer;
  headers: Record<string, string>;
  /** The headers kept if the connection is unknown. */
  small_headers: Record<string, string>;
  query: string | null;
}

/**
 * Stores a notification's raw bytes and reads its connection, in one statement: the insert happens whatever the
 * connection lookup finds.
 */
export async function storeInboxRow(db: Db, r: InboxRow): Promise<Connection | undefined> {
  const excerpt = UNAUTHENTICATED_BODY_EXCERPT_BYTES;
  const result = await sql<Connection>`
    WITH connection AS (
      SELECT * FROM connections WHERE id = ${r.connection_id} AND provider = ${r.provider}
    ), stored AS (
      INSERT INTO notifications (id, provider, connection_id, remote_addr, content_type, body, status, headers, query, body_excerpt, body_length)
      SELECT ${r.id}::text, ${r.provider}::text, ${r.connection_id}::text, ${r.remote_addr}::text, ${r.content_type}::text,
        CASE WHEN known THEN ${r.body}::bytea ELSE substring(${r.body}::bytea from 1 for ${excerpt}) END, 'received',
        CASE WHEN known THEN ${JSON.stringify(r.headers)}::jsonb ELSE ${JSON.stringify(r.small_headers)}::jsonb END,
        CASE WHEN known THEN ${r.query}::text ELSE left(${r.query}::text, ${UNAUTHENTICATED_QUERY_CHARS}) END, NOT known, ${r.body.length}::integer
      FROM (SELECT EXISTS (SELECT 1 FROM connection) AS known) k
    )
    SELECT * FROM connection`.execute(db);
  return result.rows[0];
}

/**
 * `storeInboxRow` for several notifications, in one statement (one round trip, one commit); the bodies travel as
 * base64 in one JSON array, so the statement's text is the same whatever their number.
 */
export async function storeInboxBatch(db: Db, rows: InboxRow[]): Promise<Array<Connection | undefined>> {
  const input = rows.map((r, n) => ({ ...r, n, body: r.body.toString('base64'), body_length: r.body.length }));
  const result = await sql<Connection & { n: number; found: boolean }>`
    WITH input AS (
      SELECT i.*, EXISTS (SELECT 1 FROM connections c WHERE c.id = i.connection_id AND c.provider = i.provider) AS known
      FROM jsonb_to_recordset(${JSON.stringify(input)}::jsonb) AS i(
        n integer, id text, provider text, connection_id text, remote_addr text, content_type text, body text, body_length integer, headers jsonb, small_headers jsonb, query text)
    ), stored AS (
      INSERT INTO notifications (id, provider, connection_id, remote_addr, content_type, body, status, headers, query, body_excerpt, body_length)
      SELECT id, provider, connection_id, remote_addr, content_type,
        CASE WHEN known THEN decode(body, 'base64') ELSE substring(decode(body, 'base64') from 1 for ${UNAUTHENTICATED_BODY_EXCERPT_BYTES}) END, 'received',
        CASE WHEN known THEN headers ELSE small_headers END, CASE WHEN known THEN query ELSE left(query, ${UNAUTHENTICATED_QUERY_CHARS}) END, NOT known, body_length
      FROM input ORDER BY n
    )
    SELECT c.*, i.n, c.id IS NOT NULL AS found FROM input i LEFT JOIN connections c ON c.id = i.connection_id AND c.provider = i.provider ORDER BY i.n`.execute(
    db,
  );
  return result.rows.map(({ n: _n, found, ...connection }) => (found ? (connection as Connection) : undefined));
}

export interface Settlement {
  status: string;
  error: string | null;
  summary: Record<string, unknown> | null;
  paymentId: string | null;
  /** Keep only an excerpt of the body, these headers and an excerpt of the query (the sender was not authenticated). */
  unauthenticated?: { headers: Record<string, string> };
}

/** Marks a notification as settled (the ledger did not take it, or it was never authenticated). */
export async function settleInboxRow(db: Db, id: string, s: Settlement): Promise<void> {
  const excerpt = s.unauthenticated
    ? {
        body: sql<Uint8Array>`substring(body from 1 for ${UNAUTHENTICATED_BODY_EXCERPT_BYTES})`,
        body_excerpt: true,
        headers: JSON.stringify(s.unauthenticated.headers),
        query: sql<string | null>`left(query, ${UNAUTHENTICATED_QUERY_CHARS})`,
      }
    : {};
  await db
    .updateTable('notifications')
    .set({
      status: s.status,
      error: s.error,
      summary: s.summary ? JSON.stringify(s.summary) : null,
      payment_id: s.paymentId,
      processed_at: new Date(),
      ...excerpt,
    })
    .where('id', '=', id)
    .execute();
}

/** Records the answer to one of the hub's own calls in the inbox, before the ledger applies it. */
export async function insertOperationAnswer(db: Db, row: { id: string; provider: string; connectionId: string; body: Buffer; source: string }): Promise<void> {
  await db
    .insertInto('notifications')
    .values({
      id: row.id,
      provider: row.provider,
      connection_id: row.connectionId,
      content_type: 'application/json',
      body: row.body,
      status: 'received',
      source: row.source,
    })
    .execute();
}

/**
 * Claims notifications that were stored but never settled: `received` for longer than `staleMs`, or claimed by a
 * process whose lease ran out. SKIP LOCKED and the lease let several processes share the work.
 */
export async function claimStaleNotifications(db: Db, staleMs: number, lease: string, limit: number): Promise<Notification[]> {
  const claimed = await sql<Notification>`
    UPDATE notifications SET status = 'reprocessing', processed_at = now()
    WHERE id IN (
      SELECT id FROM notifications
      -- Answers to the hub's own calls cannot be verified like notifications; the next status check re-learns them.
      WHERE source = 'notification'
        AND ((status = 'received' AND received_at < now() - ${`${staleMs} milliseconds`}::interval)
          OR (status = 'reprocessing' AND processed_at < now() - ${lease}::interval))
      ORDER BY received_at
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED
    )
    RETURNING *`.execute(db);
  return claimed.rows;
}

export function selectProviderConnection(db: Db, id: string, provider: string): Promise<Connection | undefined> {
  return db.selectFrom('connections').selectAll().where('id', '=', id).where('provider', '=', provider).executeTakeFirst();
}

/** Deletes up to `batch` never-authenticated notifications older than `retentionDays`; answers how many. */
export async function deleteRejectedNotifications(db: Db, retentionDays: number, batch: number): Promise<number> {
  const result = await sql`
    DELETE FROM notifications WHERE id IN (
      SELECT id FROM notifications
      WHERE status = 'rejected' AND body_excerpt AND received_at < now() - make_interval(secs => ${retentionDays * 86_400})
      LIMIT ${batch}
    ) RETURNING 1`.execute(db);
  return result.rows.length;
}
