import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { apiClient, startTestHub, type TestHub } from '../support/hub.js';
import { sandboxCredentials } from '../support/netopia-v1.js';
import { createPaymentOnce, preparePayment, writePayment, type CreatePaymentInput } from '../../src/services/ledger/index.js';
import { ValidationError } from '../../src/core/validation.js';

/**
 * The payments created in one event-loop turn are written by one statement (group commit). Each must come out
 * exactly as if it had been written alone: same rows, same events and deliveries, same Idempotency-Key rules,
 * the same refusal for a connection disabled meanwhile; and a payment that breaks the batch fails alone.
 * The calls below are made in one turn on purpose (no await between them), as requests of one turn are.
 */

let hub: TestHub;
let merchantId: string;
let otherMerchantId: string;
const billing = { first_name: 'Ana', last_name: 'Pop', email: 'ana@example.ro' };
const input = (over: Partial<CreatePaymentInput> = {}): CreatePaymentInput => ({
  connection: 'netopia',
  order_id: 'B-1',
  amount: 2599,
  currency: 'RON',
  description: 'Abonament',
  billing,
  ...over,
});

/** The transaction that wrote each row (rows written by one statement share it). */
async function writers(ids: string[]): Promise<Set<string>> {
  const rows = await sql<{ xmin: string }>`SELECT xmin::text AS xmin FROM payments WHERE id = ANY(${ids}::text[])`.execute(hub.store.db);
  return new Set(rows.rows.map((r) => r.xmin));
}

/** Everything one payment wrote, without what differs from one payment to the next (ids, times, sealed data). */
async function footprint(paymentId: string) {
  const db = hub.store.db;
  const payment = await db.selectFrom('payments').selectAll().where('id', '=', paymentId).executeTakeFirstOrThrow();
  const attempts = await db.selectFrom('payment_attempts').selectAll().where('payment_id', '=', paymentId).execute();
  const events = await db.selectFrom('events').selectAll().where('payment_id', '=', paymentId).execute();
  const deliveries = await db
    .selectFrom('webhook_deliveries')
    .selectAll()
    .where('event_id', 'in', events.map((e) => e.id).concat('-'))
    .execute();
  const { id: _p, order_id: _o, created_at: pc, updated_at: pu, ...paymentRest } = payment;
  return {
    payment: { ...paymentRest, updatedIsCreated: new Date(pc).getTime() === new Date(pu).getTime() },
    attempts: attempts.map(({ id: _a, payment_id, created_at, updated_at, redirect, ...rest }) => ({
      ...rest,
      ofThisPayment: payment_id === paymentId,
      updatedIsCreated: new Date(created_at).getTime() === new Date(updated_at).getTime(),
      redirectKind: (redirect as { method?: string } | null)?.method,
    })),
    events: events.map((e) => {
      const payload = JSON.parse(e.payload);
      return {
        type: e.type,
        merchant: e.merchant_id,
        payloadId: payload.id === e.id,
        payloadTime: payload.timestamp === new Date(e.created_at).toISOString(),
        data: { ...payload.data, id: payload.data.id === paymentId, order_id: undefined, created_at: undefined, updated_at: undefined, payment_url: undefined },
      };
    }),
    deliveries: deliveries.map((d) => ({
      endpoint: d.endpoint_id,
      status: d.status,
      attempts: d.attempts,
      idPrefix: d.id.slice(0, 14) === `whd_${d.event_id.slice(4, 14)}`,
      dueAtEvent: new Date(d.next_attempt_at).getTime() === new Date(events.find((e) => e.id === d.event_id)!.created_at).getTime(),
    })),
  };
}

before(async () => {
  hub = await startTestHub({ emulators: false });
  // Deliveries stay as the write queued them (the worker would start sending them to these unreachable URLs).
  await hub.worker.stop();
  const admin = apiClient(hub.url, hub.adminKey);
  for (const name of ['Batch SRL', 'Alt SRL']) {
    const m = await admin('POST', '/v1/merchants', { name });
    const api = apiClient(hub.url, m.body.api_key);
    for (const code of ['netopia', 'spare']) {
      assert.equal(
        (await api('POST', '/v1/connections', { code, provider: 'netopia-v1', environment: 'sandbox', credentials: sandboxCredentials() })).status,
        201,
      );
    }
    assert.equal((await api('POST', '/v1/webhook-endpoints', { url: 'https://shop.example/hooks' })).status, 201);
    assert.equal((await api('POST', '/v1/webhook-endpoints', { url: 'https://erp.example/hooks', events: ['payment.created'] })).status, 201);
    assert.equal((await api('POST', '/v1/webhook-endpoints', { url: 'https://paid.example/hooks', events: ['payment.paid'] })).status, 201);
    if (name === 'Batch SRL') merchantId = m.body.id;
    else otherMerchantId = m.body.id;
  }
  // Remember the connections (a request that reads its connection reaches its write a turn later).
  for (const m of [merchantId, otherMerchantId])
    for (const connection of ['netopia', 'spare']) await createPaymentOnce(hub.ctx, m, input({ connection, order_id: 'WARM' }));
});
after(() => hub?.close());

describe('group commit: the payments of one turn in one statement', () => {
  it('writes them in one transaction, each with the rows, event, deliveries and stored key it would have alone', async () => {
    const alone = await createPaymentOnce(hub.ctx, merchantId, input({ order_id: 'ALONE' }), { key: 'alone-key', hash: 'h-alone' });
    const calls = Array.from({ length: 12 }, (_, i) => {
      const m = i % 3 === 2 ? otherMerchantId : merchantId;
      return createPaymentOnce(hub.ctx, m, input({ order_id: `TURN-${i}`, amount: 1000 + i }), i % 2 ? { key: `turn-key-${i}`, hash: `h-${i}` } : undefined);
    });
    const results = await Promise.all(calls);
    assert.deepEqual(
      results.map((r) => [r.status, r.replayed]),
      results.map(() => [201, false]),
    );
    const ids = results.map((r) => (r.body as { id: string }).id);
    assert.equal((await writers(ids)).size, 1, 'one statement wrote the whole turn');
    assert.notDeepEqual(await writers([(alone.body as { id: string }).id]), await writers(ids));

    const reference = await footprint((alone.body as { id: string }).id);
    for (const [i, id] of ids.entries()) {
      const f = await footprint(id);
      assert.equal(f.payment.amount, 1000 + i);
      assert.equal(f.payment.merchant_id, i % 3 === 2 ? otherMerchantId : merchantId);
      if (i % 3 !== 2) {
        assert.deepEqual(
          f.attempts.map((a) => a.amount),
          [1000 + i],
        );
        const asReference = {
          ...f,
          payment: { ...f.payment, amount: 2599 },
          attempts: f.attempts.map((a) => ({ ...a, amount: 2599 })),
          events: f.events.map((e) => ({ ...e, data: { ...e.data, amount: 2599 } })),
        };
        assert.deepEqual(asReference, reference);
      }
      assert.equal(f.events.length, 1);
      assert.equal(f.deliveries.length, 2, 'the catch-all and the payment.created endpoints, not the payment.paid one');
      assert.ok(f.deliveries.every((d) => d.idPrefix && d.dueAtEvent));
      // The stored response is what the caller got, so a retry replays it.
      if (i % 2) {
        const again = await createPaymentOnce(hub.ctx, f.payment.merchant_id, input({ order_id: `TURN-${i}`, amount: 1000 + i }), {
          key: `turn-key-${i}`,
          hash: `h-${i}`,
        });
        assert.deepEqual([again.replayed, again.body], [true, results[i]!.body]);
      }
    }
  });

  it('one Idempotency-Key twice in a turn: one payment, the copy replays it, a different request with it is refused', async () => {
    const body = input({ order_id: 'TWICE' });
    const outcomes = await Promise.allSettled([
      createPaymentOnce(hub.ctx, merchantId, body, { key: 'twice', hash: 'h-twice' }),
      createPaymentOnce(hub.ctx, merchantId, input({ order_id: 'OTHER-IN-TURN' })),
      createPaymentOnce(hub.ctx, merchantId, body, { key: 'twice', hash: 'h-twice' }),
      createPaymentOnce(hub.ctx, merchantId, input({ order_id: 'DIFFERENT' }), { key: 'twice', hash: 'h-different' }),
      createPaymentOnce(hub.ctx, otherMerchantId, body, { key: 'twice', hash: 'h-twice' }),
    ]);
    const [a, other, b, different, elsewhere] = outcomes;
    assert.equal(a.status, 'fulfilled', String((a as PromiseRejectedResult).reason?.stack));
    assert.equal(b.status, 'fulfilled');
    const first = (a as PromiseFulfilledResult<Awaited<ReturnType<typeof createPaymentOnce>>>).value;
    const second = (b as PromiseFulfilledResult<Awaited<ReturnType<typeof createPaymentOnce>>>).value;
    assert.deepEqual([first.replayed, second.replayed].sort(), [false, true]);
    assert.deepEqual(first.body, second.body);
    assert.equal(different.status, 'rejected');
    assert.match(String((different as PromiseRejectedResult).reason?.message), /already used with a different request/);
    assert.equal(other.status, 'fulfilled');
    assert.equal(elsewhere.status, 'fulfilled', "another merchant's key of the same name is its own");
    const stored = await hub.store.db.selectFrom('payments').select(['merchant_id']).where('order_id', '=', 'TWICE').execute();
    assert.deepEqual(stored.map((r) => r.merchant_id).sort(), [merchantId, otherMerchantId].sort());
    assert.equal((await hub.store.db.selectFrom('payments').select('id').where('order_id', '=', 'DIFFERENT').execute()).length, 0);
  });

  it('a connection disabled before the turn is written: its payments are refused and leave no trace, the others are written', async () => {
    await hub.store.db
      .updateTable('connections')
      .set({ status: 'disabled', updated_at: sql`clock_timestamp()` })
      .where('merchant_id', '=', merchantId)
      .where('code', '=', 'spare')
      .execute();
    const outcomes = await Promise.allSettled([
      createPaymentOnce(hub.ctx, merchantId, input({ connection: 'spare', order_id: 'GONE-1' }), { key: 'gone-1', hash: 'h' }),
      createPaymentOnce(hub.ctx, merchantId, input({ order_id: 'KEPT-1' }), { key: 'kept-1', hash: 'h' }),
      createPaymentOnce(hub.ctx, merchantId, input({ connection: 'spare', order_id: 'GONE-2' })),
      createPaymentOnce(hub.ctx, otherMerchantId, input({ connection: 'spare', order_id: 'KEPT-2' })),
    ]);
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ['rejected', 'fulfilled', 'rejected', 'fulfilled'],
    );
    for (const o of [outcomes[0], outcomes[2]]) {
      const reason = (o as PromiseRejectedResult).reason;
      assert.ok(reason instanceof ValidationError);
      assert.deepEqual(reason.errors, [{ field: 'connection', message: 'is disabled' }]);
    }
    const rows = await hub.store.db.selectFrom('payments').select('order_id').where('order_id', 'like', 'GONE-%').execute();
    assert.equal(rows.length, 0);
    assert.equal((await hub.store.db.selectFrom('idempotency_keys').select('key').where('key', '=', 'gone-1').execute()).length, 0, 'the key stays free');
    assert.equal((await hub.store.db.selectFrom('payments').select('id').where('order_id', 'in', ['KEPT-1', 'KEPT-2']).execute()).length, 2);
  });

  it('a payment that breaks the batch fails alone; the others of its turn are written', async () => {
    const existing = (await createPaymentOnce(hub.ctx, merchantId, input({ order_id: 'TAKEN' }))).body as { id: string };
    const prepared = await Promise.all([1, 2, 3, 4].map((i) => preparePayment(hub.ctx, hub.ctx.db, merchantId, input({ order_id: `FALLBACK-${i}` }))));
    prepared[1]!.payment.id = existing.id; // a primary key that is taken: the statement holding it fails
    const outcomes = await Promise.allSettled(prepared.map((p, i) => writePayment(hub.ctx, hub.ctx.db, p, { key: `fallback-${i}`, hash: 'h' })));
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ['fulfilled', 'rejected', 'fulfilled', 'fulfilled'],
    );
    const written = await hub.store.db.selectFrom('payments').select('order_id').where('order_id', 'like', 'FALLBACK-%').orderBy('order_id').execute();
    assert.deepEqual(
      written.map((r) => r.order_id),
      ['FALLBACK-1', 'FALLBACK-3', 'FALLBACK-4'],
    );
    const keys = await hub.store.db.selectFrom('idempotency_keys').select('key').where('key', 'like', 'fallback-%').orderBy('key').execute();
    assert.deepEqual(
      keys.map((k) => k.key),
      ['fallback-0', 'fallback-2', 'fallback-3'],
      'the failed one left its key free',
    );
  });
});
