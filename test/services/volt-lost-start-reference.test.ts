import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { apiClient, startTestHub, type TestHub } from '../support/hub.js';
import { payOverHttp } from '../emulators/volt/harness.js';
import { SANDBOX_BANKS } from '../../emulators/volt/banks.js';
import { attemptCode } from '../../src/connectors/volt/references.js';
import { reconcileAttempt } from '../../src/services/reconcile.js';

/**
 * Volt's uniqueReference is made of the merchant's order id and the attempt's code. When the hub never read
 * Volt's answer to the start (no Volt payment id on the attempt), the status check must make the same reference
 * again to find the payment in Volt's list: the reconciler passes the payment's order id along with the attempt.
 */

let hub: TestHub;
let api: ReturnType<typeof apiClient>;

before(async () => {
  hub = await startTestHub({ emulators: true });
  const merchant = await apiClient(hub.url, hub.adminKey)('POST', '/v1/merchants', { name: 'Bottega Volt' });
  api = apiClient(hub.url, merchant.body.api_key);
  const c = await api('POST', '/v1/connections', { code: 'volt', provider: 'volt', environment: 'emulator' });
  assert.equal(c.status, 201, JSON.stringify(c.body));
});
after(() => hub?.close());

describe('a Volt attempt without Volt’s payment id', () => {
  it('is found by the status check through the uniqueReference made of its order id and its code', async () => {
    const order = 'ORD-2026/77-A';
    const r = await api('POST', '/v1/payments', {
      connection: 'volt',
      order_id: order,
      amount: 2590,
      currency: 'EUR',
      description: 'Tea set',
      billing: { first_name: 'Ioana', last_name: 'Rossi', email: 'ioana@example.com' },
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const id = r.body.id as string;

    const opened = await fetch(`${hub.url}/pay/${id}`, { redirect: 'manual' });
    assert.equal(opened.status, 303, await opened.text());
    const checkoutUrl = opened.headers.get('location')!;
    const [attempt] = (await api('GET', `/v1/payments/${id}`)).body.attempts as Array<{ id: string }>;

    const emu = await sql<{
      unique_reference: string;
    }>`SELECT unique_reference FROM emu_volt_payments WHERE merchant_internal_reference = ${attempt!.id}`.execute(hub.store.db);
    assert.deepEqual(
      emu.rows.map((row) => row.unique_reference),
      [`ORD202677A${attemptCode(attempt!.id)}`],
    );

    // As if Volt's answer to the start had been lost, and its notification too: only the list can tell.
    await sql`UPDATE payment_attempts SET processor_reference = NULL WHERE id = ${attempt!.id}`.execute(hub.store.db);
    await sql`UPDATE emu_volt_payments SET notification_url = 'http://127.0.0.1:9/lost' WHERE merchant_internal_reference = ${attempt!.id}`.execute(
      hub.store.db,
    );
    const paid = await payOverHttp(checkoutUrl, SANDBOX_BANKS[0]!.id, 'authorise');
    assert.equal(paid.status, 303);
    assert.equal((await api('GET', `/v1/payments/${id}`)).body.status, 'pending');

    assert.equal(await reconcileAttempt(hub.ctx, attempt!.id), true);
    const after = (await api('GET', `/v1/payments/${id}`)).body;
    assert.equal(after.status, 'paid', JSON.stringify(after.notifications));
    const checked = await sql<{
      source: string;
      outcome: string | null;
    }>`SELECT source, outcome FROM notifications WHERE attempt_id = ${attempt!.id} AND status = 'applied' AND source = 'status_check'`.execute(hub.store.db);
    assert.deepEqual(checked.rows, [{ source: 'status_check', outcome: 'captured' }]);
  });
});
