import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { readConfig } from '../../src/config.js';
import { purgeRejectedNotifications, UNAUTHENTICATED_BODY_EXCERPT_BYTES } from '../../src/services/inbox/index.js';
import { apiClient, startTestHub, type TestHub } from '../support/hub.js';
import { crcOf, ipnBody, openRequest, postIpn, sandboxCredentials } from '../support/netopia-v1.js';

/**
 * Anybody can post to a notification endpoint, so what an unauthenticated post costs the store is bounded: only
 * an excerpt is kept of a notification for an unknown connection or one that fails verification, and such rows
 * are purged after the retention period. A notification of a known connection is kept whole.
 */

let hub: TestHub;
let api: ReturnType<typeof apiClient>;
let connection: { id: string; notification_url: string };

before(async () => {
  hub = await startTestHub({ emulators: false });
  const merchant = await apiClient(hub.url, hub.adminKey)('POST', '/v1/merchants', { name: 'Retention SRL' });
  api = apiClient(hub.url, merchant.body.api_key);
  const c = await api('POST', '/v1/connections', { code: 'netopia', provider: 'netopia-v1', environment: 'sandbox', credentials: sandboxCredentials() });
  assert.equal(c.status, 201);
  connection = c.body;
});
after(() => hub?.close());

/** The bytes the inbox keeps: bodies, headers and queries (what an attacker's posts would grow). */
async function keptBytes(): Promise<number> {
  const r = await sql<{ n: string }>`
    SELECT coalesce(sum(octet_length(body) + coalesce(octet_length(headers::text), 0) + coalesce(octet_length(query), 0)), 0)::bigint AS n FROM notifications`.execute(
    hub.ctx.db,
  );
  return Number(r.rows[0]!.n);
}
const tableBytes = async () => Number((await sql<{ n: string }>`SELECT pg_total_relation_size('notifications')::bigint AS n`.execute(hub.ctx.db)).rows[0]!.n);

const junk = (size: number) => randomBytes(size);
const post = (url: string, body: Buffer) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/octet-stream', 'x-junk': 'j'.repeat(4000) }, body: new Uint8Array(body) });

describe('unauthenticated notification bodies', () => {
  it('200 junk posts of 100 KiB to an unknown connection grow the store by a bounded amount', async () => {
    const bytesBefore = await keptBytes();
    const tableBefore = await tableBytes();
    const size = 100 * 1024;
    for (let i = 0; i < 200; i += 10) {
      const replies = await Promise.all(
        Array.from({ length: 10 }, () => post(`${hub.url}/notify/netopia-v1/con_${randomBytes(8).toString('hex')}?${'q'.repeat(4000)}`, junk(size))),
      );
      for (const r of replies) {
        assert.equal(r.status, 200);
        assert.equal(crcOf(await r.text()).errorType, 2, 'a permanent error: unknown connection');
      }
    }
    const kept = (await keptBytes()) - bytesBefore;
    const grown = (await tableBytes()) - tableBefore;
    // 200 × 100 KiB were sent; at most the excerpt plus small headers and query are kept of each.
    assert.ok(kept <= 200 * (UNAUTHENTICATED_BODY_EXCERPT_BYTES + 2048), `kept ${kept} bytes of 200 junk posts`);
    assert.ok(grown <= 200 * 16 * 1024, `the table grew by ${grown} bytes`);
    const rows = await sql<{ status: string; body_excerpt: boolean; body_length: number; size: number }>`
      SELECT status, body_excerpt, body_length, octet_length(body) AS size FROM notifications WHERE connection_id LIKE 'con_%' AND connection_id <> ${connection.id}`.execute(
      hub.ctx.db,
    );
    assert.equal(rows.rows.length, 200);
    for (const r of rows.rows) assert.deepEqual(r, { status: 'rejected', body_excerpt: true, body_length: size, size: UNAUTHENTICATED_BODY_EXCERPT_BYTES });
  });

  it('of a post to a known connection that fails verification, only the excerpt is kept; a verified one is kept whole', async () => {
    const forged = junk(50 * 1024);
    const reply = await post(connection.notification_url, forged);
    assert.equal(reply.status, 200);
    assert.notEqual(crcOf(await reply.text()).errorType, 0);
    const rejected = await hub.ctx.db
      .selectFrom('notifications')
      .selectAll()
      .where('connection_id', '=', connection.id)
      .where('status', '=', 'rejected')
      .executeTakeFirstOrThrow();
    assert.equal(rejected.body_excerpt, true);
    assert.equal(rejected.body_length, forged.length);
    assert.deepEqual(Buffer.from(rejected.body), forged.subarray(0, UNAUTHENTICATED_BODY_EXCERPT_BYTES));
    assert.ok(JSON.stringify(rejected.headers).length <= 1200, 'headers trimmed too');

    // A genuine IPN, padded beyond the excerpt's size: every byte is kept.
    const p = await api('POST', '/v1/payments', {
      connection: 'netopia',
      order_id: 'KEEP-1',
      amount: 1000,
      currency: 'RON',
      description: 'x',
      billing: { first_name: 'A', last_name: 'B', email: 'a@b.ro' },
    });
    const attempt = await hub.ctx.db.selectFrom('payment_attempts').selectAll().where('payment_id', '=', p.body.id).executeTakeFirstOrThrow();
    const body =
      ipnBody(openRequest((attempt.redirect as unknown as { fields: Record<string, string> }).fields), { action: 'confirmed', crc: 'keep' }) +
      '&pad=' +
      'p'.repeat(8192);
    const ok = await postIpn(connection.notification_url, body);
    assert.deepEqual(crcOf(ok.text), { errorType: 0, errorCode: 0, message: 'keep' });
    const applied = await hub.ctx.db
      .selectFrom('notifications')
      .selectAll()
      .where('payment_id', '=', p.body.id)
      .where('status', '=', 'applied')
      .executeTakeFirstOrThrow();
    assert.equal(applied.body_excerpt, false);
    assert.equal(Buffer.from(applied.body).toString('utf8'), body);
  });
});

describe('the retention janitor', () => {
  it('deletes rejected unauthenticated notifications older than the retention period and keeps the rest', async () => {
    assert.equal(readConfig({}).rejectedNotificationRetentionDays, 30);
    assert.equal(readConfig({ INCASSO_REJECTED_NOTIFICATION_RETENTION_DAYS: '7' }).rejectedNotificationRetentionDays, 7);
    const count = async (where: ReturnType<typeof sql>) =>
      Number((await sql<{ n: string }>`SELECT count(*)::int AS n FROM notifications WHERE ${where}`.execute(hub.ctx.db)).rows[0]!.n);
    const rejectedBefore = await count(sql`status = 'rejected' AND body_excerpt`);
    const acceptedBefore = await count(sql`status <> 'rejected'`);
    assert.ok(rejectedBefore >= 201 && acceptedBefore >= 1);
    // Age half of the rejected rows and every accepted one past the retention period.
    await sql`UPDATE notifications SET received_at = now() - interval '31 days'
      WHERE status <> 'rejected' OR id IN (SELECT id FROM notifications WHERE status = 'rejected' ORDER BY id LIMIT 100)`.execute(hub.ctx.db);
    const deleted = await purgeRejectedNotifications(hub.ctx, 30, 40);
    assert.equal(deleted, 100);
    assert.equal(await count(sql`status = 'rejected' AND body_excerpt`), rejectedBefore - 100);
    assert.equal(await count(sql`status = 'rejected' AND received_at < now() - interval '30 days'`), 0);
    assert.equal(await count(sql`status <> 'rejected'`), acceptedBefore, 'accepted notifications are kept whatever their age');
    assert.equal(await purgeRejectedNotifications(hub.ctx, 30), 0);
  });
});
