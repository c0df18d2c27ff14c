import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CompiledQuery, sql } from 'kysely';
import { deliveryLogQuery } from '../../src/store/queries/webhooks.js';
import type { Store } from '../../src/store/store.js';
import { openTestStore } from '../support/store.js';

/**
 * The webhook delivery log (the console's and the API's listing of a merchant's deliveries, newest first, page after
 * page) reads the merchant's end of `webhook_deliveries_merchant_log_idx` (migration 010): the plan PostgreSQL makes
 * for the very statement the listing runs, on a table of many merchants' deliveries, uses that index, and reads no
 * other merchant's rows.
 */

const MERCHANTS = 60;
const PER_MERCHANT = 250;

describe('the webhook delivery log is served by its index', () => {
  let store: Store;
  before(async () => {
    store = await openTestStore();
    const db = store.db;
    // Many merchants, each with one endpoint and its deliveries; ids are time-ordered like the hub's (merchants'
    // deliveries interleave in id order, as events of many shops do).
    await sql`INSERT INTO merchants (id, name, created_at)
      SELECT 'mer_' || lpad(m::text, 4, '0'), 'Shop ' || m, now() FROM generate_series(1, ${MERCHANTS}::int) m`.execute(db);
    await sql`INSERT INTO webhook_endpoints (id, merchant_id, url, events, secret_encrypted)
      SELECT 'we_' || lpad(m::text, 4, '0'), 'mer_' || lpad(m::text, 4, '0'), 'https://shop' || m || '.example.ro/hooks', '["*"]'::jsonb, 'x'
      FROM generate_series(1, ${MERCHANTS}::int) m`.execute(db);
    await sql`INSERT INTO events (id, merchant_id, type, payment_id, payload, created_at)
      SELECT 'evt_' || lpad(i::text, 8, '0'), 'mer_' || lpad((i % ${MERCHANTS} + 1)::text, 4, '0'), 'payment.paid', NULL, '{}', now()
      FROM generate_series(1, ${MERCHANTS * PER_MERCHANT}::int) i`.execute(db);
    await sql`INSERT INTO webhook_deliveries (id, event_id, endpoint_id, merchant_id, status, attempts, last_status_code)
      SELECT 'whd_' || lpad(i::text, 8, '0'), 'evt_' || lpad(i::text, 8, '0'), 'we_' || lpad((i % ${MERCHANTS} + 1)::text, 4, '0'),
        'mer_' || lpad((i % ${MERCHANTS} + 1)::text, 4, '0'), 'succeeded', 1, 200
      FROM generate_series(1, ${MERCHANTS * PER_MERCHANT}::int) i`.execute(db);
    await sql`ANALYZE merchants`.execute(db);
    await sql`ANALYZE webhook_endpoints`.execute(db);
    await sql`ANALYZE events`.execute(db);
    await sql`ANALYZE webhook_deliveries`.execute(db);
  });
  after(() => store?.close());

  /** The plan of the listing's own statement, as text. */
  async function planOf(filter: { startingAfter?: string; limit: number }): Promise<string> {
    const compiled = deliveryLogQuery(store.db, 'mer_0007', filter).compile();
    const r = await store.db.executeQuery<{ 'QUERY PLAN': string }>(CompiledQuery.raw(`EXPLAIN ${compiled.sql}`, [...compiled.parameters]));
    return r.rows.map((row) => row['QUERY PLAN']).join('\n');
  }

  it('the first page and the next ones read the merchant end of the index, newest first', async () => {
    const first = await planOf({ limit: 51 });
    assert.match(first, /Index Scan using webhook_deliveries_merchant_log_idx on webhook_deliveries d/, first);
    assert.doesNotMatch(first, /Seq Scan on webhook_deliveries|Sort/, first);
    const rows = await deliveryLogQuery(store.db, 'mer_0007', { limit: 51 }).execute();
    assert.equal(rows.length, 51);
    assert.ok(
      rows.every((r) => r.merchant_id === 'mer_0007'),
      'only the merchant',
    );
    assert.deepEqual(
      rows.map((r) => r.id),
      rows.map((r) => r.id).sort((a, b) => (a < b ? 1 : -1)),
      'newest first',
    );
    const next = await planOf({ startingAfter: rows[50]!.id, limit: 51 });
    assert.match(next, /Index Scan using webhook_deliveries_merchant_log_idx on webhook_deliveries d/, next);
    assert.doesNotMatch(next, /Seq Scan on webhook_deliveries|Sort/, next);
  });
});
