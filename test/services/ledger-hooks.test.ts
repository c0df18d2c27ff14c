import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { apiClient, startTestHub, type TestHub } from '../support/hub.js';
import { sandboxCredentials } from '../support/netopia-v1.js';
import { createPaymentOnce, expireDuePayments, recordOperationReport, type LedgerCause, type LedgerHook } from '../../src/services/ledger/index.js';
import { paymentStepHook } from '../../src/services/payment-steps.js';
import type { Payment } from '../../src/store/schema.js';

/**
 * Surfaces hear of ledger changes through hooks, inside the ledger's transaction: a hook that wants a change
 * sees it before and after, and what it does commits with the change or not at all; a change no hook wants keeps
 * the fast path (no transaction).
 */

let hub: TestHub;
let merchantId: string;
let connectionId: string;
const billing = { first_name: 'Ana', last_name: 'Pop', email: 'ana@example.ro' };

interface Call {
  before: Payment;
  after: Payment;
  cause: LedgerCause;
}

/** A hook that wants the causes `wanted` names, records its calls, and throws when told to. */
function recordingHook(wanted: (cause: LedgerCause) => boolean) {
  const calls: Call[] = [];
  const asked: LedgerCause[] = [];
  const askedAbout: Payment[] = [];
  const hook: LedgerHook & { calls: Call[]; asked: LedgerCause[]; askedAbout: Payment[]; fail?: Error } = {
    name: 'test',
    calls,
    asked,
    askedAbout,
    wants: (cause, payment) => {
      asked.push(cause);
      askedAbout.push(payment);
      return wanted(cause);
    },
    async onPaymentChanged(trx, before, after, cause) {
      // What the hook reads through the ledger's transaction is the change, not yet committed.
      const seen = await trx.selectFrom('payments').select('status').where('id', '=', after.id).executeTakeFirstOrThrow();
      assert.equal(seen.status, after.status);
      if (hook.fail) throw hook.fail;
      calls.push({ before, after, cause });
    },
  };
  return hook;
}

const hooks = () => hub.ctx.ledgerHooks as LedgerHook[];
let transactions = 0;

async function newPayment(extra: Record<string, unknown> = {}) {
  const created = await createPaymentOnce(hub.ctx, merchantId, {
    connection: 'netopia',
    order_id: 'H-1',
    amount: 1500,
    currency: 'RON',
    description: 'Hook test',
    billing,
    ...extra,
  });
  const body = created.body as { id: string; attempts: Array<{ id: string }> };
  return { paymentId: body.id, attemptId: body.attempts[0]!.id };
}

const captured = (attemptId: string, key = `cap:${attemptId}`, summary: Record<string, unknown> = {}) =>
  recordOperationReport(hub.ctx, { id: connectionId, provider: 'netopia-v1' }, { id: attemptId, currency: 'RON' }, 'status_check', '{"status":"paid"}', {
    outcome: { kind: 'captured', amount: 1500 },
    dedupeKey: key,
    summary: { action: 'paid', ...summary },
  });

const statusOf = async (paymentId: string) =>
  (await hub.store.db.selectFrom('payments').select('status').where('id', '=', paymentId).executeTakeFirstOrThrow()).status;
const eventsOf = async (paymentId: string) =>
  (await hub.store.db.selectFrom('events').select('type').where('payment_id', '=', paymentId).orderBy('id').execute()).map((e) => e.type);

before(async () => {
  hub = await startTestHub({ emulators: false });
  await hub.worker.stop();
  const admin = apiClient(hub.url, hub.adminKey);
  const m = await admin('POST', '/v1/merchants', { name: 'Hooks SRL' });
  merchantId = m.body.id;
  const c = await apiClient(hub.url, m.body.api_key)('POST', '/v1/connections', {
    code: 'netopia',
    provider: 'netopia-v1',
    environment: 'sandbox',
    credentials: sandboxCredentials(),
  });
  assert.equal(c.status, 201);
  connectionId = c.body.id;
  // Counts the transactions the ledger opens (the fast path opens none).
  const db = hub.ctx.db;
  const open = db.transaction.bind(db);
  db.transaction = () => {
    transactions++;
    return open();
  };
});
after(() => hub?.close());
beforeEach(() => {
  // Only the hooks the hub registered at start-up (the payment steps', the invoices').
  hooks().splice(2);
  transactions = 0;
});

describe('ledger hooks', () => {
  it('the hub registers the payment steps and invoices hooks at start-up', () => {
    assert.deepEqual(
      hooks().map((h) => h.name),
      ['payment-steps', 'invoices'],
    );
  });

  it('a change no hook wants is applied on the fast path: no transaction, and no hook is called', async () => {
    const hook = recordingHook(() => false);
    hooks().push(hook);
    const { paymentId, attemptId } = await newPayment();
    transactions = 0;
    assert.equal((await captured(attemptId)).status, 'applied');
    assert.equal(transactions, 0);
    assert.deepEqual(hook.asked, [{ kind: 'outcome', outcome: 'captured', summary: { action: 'paid' } }]);
    // Asked with the payment's row as the fast path read it, before the change (no read of its own).
    assert.deepEqual(
      hook.askedAbout.map((p) => [p.id, p.status, p.surface]),
      [[paymentId, 'pending', null]],
    );
    assert.equal(hook.calls.length, 0);
    assert.equal(await statusOf(paymentId), 'paid');
  });

  it('a change a hook wants takes the locked path and calls it once with the payment before and after', async () => {
    const hook = recordingHook((c) => c.kind === 'outcome' && c.outcome === 'captured');
    hooks().push(hook);
    const { paymentId, attemptId } = await newPayment();
    transactions = 0;
    assert.equal((await captured(attemptId)).status, 'applied');
    assert.equal(transactions, 1);
    assert.equal(hook.calls.length, 1);
    const [call] = hook.calls;
    assert.deepEqual([call!.before.id, call!.before.status, call!.after.status, call!.after.amount_captured], [paymentId, 'pending', 'paid', 1500]);
    // The same statement again is a duplicate: the ledger does not change, and the hook hears nothing.
    assert.equal((await captured(attemptId)).status, 'duplicate');
    assert.equal(hook.calls.length, 1);
    assert.deepEqual(await eventsOf(paymentId), ['payment.created', 'payment.paid']);
  });

  it('a hook that fails undoes the change with it: nothing is applied, no event is written', async () => {
    const hook = recordingHook(() => true);
    hook.fail = new Error('the surface could not keep up');
    hooks().push(hook);
    const { paymentId, attemptId } = await newPayment();
    await assert.rejects(captured(attemptId), /could not keep up/);
    assert.equal(await statusOf(paymentId), 'pending');
    assert.deepEqual(await eventsOf(paymentId), ['payment.created']);
    // Once the surface works again the processor's retry is applied (the failed try left no duplicate behind).
    hook.fail = undefined;
    assert.equal((await captured(attemptId)).status, 'applied');
    assert.equal(await statusOf(paymentId), 'paid');
    assert.equal(hook.calls.length, 1);
  });

  it('hub events reach the hooks that want them: an expiry, in the transaction that stores it', async () => {
    const hook = recordingHook((c) => c.kind === 'expire');
    hooks().push(hook);
    const { paymentId } = await newPayment({ expires_at: new Date(Date.now() + 300).toISOString() });
    await new Promise((r) => setTimeout(r, 400));
    assert.ok((await expireDuePayments(hub.ctx)) >= 1);
    const call = hook.calls.find((c) => c.after.id === paymentId);
    assert.ok(call, 'the hook heard of the expiry');
    assert.deepEqual([call.before.status, call.after.status, call.cause], ['pending', 'expired', { kind: 'expire' }]);
    assert.deepEqual(await eventsOf(paymentId), ['payment.created', 'payment.expired']);
  });

  it("the payment steps hook wants only a conversation's outcomes that carry the processor's status document", () => {
    const hook = paymentStepHook(hub.ctx);
    const outcome = (kind: string, summary: Record<string, unknown>): LedgerCause => ({ kind: 'outcome', outcome: kind, summary });
    const payment = { id: 'pay_x', status: 'pending', surface: null } as unknown as Payment;
    assert.equal(hook.wants(outcome('captured', { processor_response: { status: 3 } }), payment), true);
    assert.equal(hook.wants(outcome('failed', { processor_response: { status: 12 } }), payment), true);
    assert.equal(hook.wants(outcome('captured', {}), payment), false, 'no document: the fast path');
    assert.equal(hook.wants(outcome('captured', { processor_response: 'text' }), payment), false);
    assert.equal(hook.wants(outcome('pending_review', { processor_response: { status: 1 } }), payment), false, 'not a resolution the conversation hears of');
    assert.equal(hook.wants({ kind: 'expire' }, payment), false);
    assert.equal(hook.wants({ kind: 'cancel' }, payment), false);
  });
});
