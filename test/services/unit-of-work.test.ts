import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { startTestHub, type TestHub } from '../support/hub.js';
import { inTransaction, noteOutboxWrite } from '../../src/services/unit-of-work.js';
import { emitEvent } from '../../src/services/webhooks.js';
import { ATTEMPT_COLUMNS, PAYMENT_COLUMNS } from '../../src/store/queries/payments.js';

/**
 * Services own their transactions through a unit of work that wakes the outbox worker only once the events it
 * wrote are committed (never before, never for a rolled-back unit, never for one that wrote none).
 */

let hub: TestHub;
let merchantId: string;
before(async () => {
  hub = await startTestHub({ emulators: false });
  await hub.worker.stop();
  merchantId = (await hub.store.db.insertInto('merchants').values({ id: 'mer_uow', name: 'UoW' }).returning('id').executeTakeFirstOrThrow()).id;
});
after(() => hub?.close());

const eventCount = async () => (await hub.store.db.selectFrom('events').select('id').where('merchant_id', '=', merchantId).execute()).length;

describe('unit of work', () => {
  it('wakes the worker once, after the commit, when the work wrote events', async () => {
    const seen: number[] = [];
    const before = await eventCount();
    const ctx = { db: hub.store.db, onOutboxWrite: () => void eventCount().then((n) => seen.push(n)) };
    let wokenInside = false;
    await inTransaction(ctx, async (trx) => {
      await emitEvent(trx, merchantId, 'payment.created', null, { n: 1 });
      noteOutboxWrite(ctx, trx);
      await emitEvent(trx, merchantId, 'payment.created', null, { n: 2 });
      noteOutboxWrite(ctx, trx);
      wokenInside = seen.length > 0;
    });
    assert.equal(wokenInside, false, 'not before the commit');
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(seen, [before + 2], 'once, and the events were visible to the worker');
  });

  it('a unit that rolls back wakes nobody and leaves no event; one that wrote none wakes nobody', async () => {
    let wakes = 0;
    const ctx = { db: hub.store.db, onOutboxWrite: () => void wakes++ };
    const before = await eventCount();
    await assert.rejects(
      inTransaction(ctx, async (trx) => {
        await emitEvent(trx, merchantId, 'payment.created', null, { n: 3 });
        noteOutboxWrite(ctx, trx);
        throw new Error('changed my mind');
      }),
      /changed my mind/,
    );
    assert.equal(await inTransaction(ctx, async (trx) => (await sql<{ one: number }>`SELECT 1 AS one`.execute(trx)).rows[0]!.one), 1);
    assert.equal(wakes, 0);
    assert.equal(await eventCount(), before);
  });

  it('a statement on the hub database (committed on its own) wakes the worker at once', () => {
    let wakes = 0;
    noteOutboxWrite({ onOutboxWrite: () => void wakes++ }, hub.store.db);
    assert.equal(wakes, 1);
  });
});

describe('the payment column map', () => {
  const columnsOf = async (table: string) =>
    (
      await sql<{
        column_name: string;
      }>`SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ${table}`.execute(hub.store.db)
    ).rows
      .map((r) => r.column_name)
      .sort();

  it('names every column of payments (a migration that adds one without the map fails here)', async () => {
    assert.deepEqual(Object.keys(PAYMENT_COLUMNS).sort(), await columnsOf('payments'));
  });

  it('names only columns of payment_attempts', async () => {
    const columns = new Set(await columnsOf('payment_attempts'));
    assert.ok(columns.size > 0);
    for (const c of Object.keys(ATTEMPT_COLUMNS)) assert.ok(columns.has(c), c);
  });
});
