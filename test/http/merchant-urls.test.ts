import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { apiClient, startTestHub, type TestHub } from '../support/hub.js';
import { sandboxCredentials } from '../support/netopia-v1.js';

/**
 * Merchant-given URLs the payment page links to (`return_url`, `metadata.canceled_url`) are http(s) only: refused
 * otherwise at creation, and never rendered as a link even when a stored row holds one.
 */

let hub: TestHub;
let alice: ReturnType<typeof apiClient>;

const billing = { first_name: 'Ana', last_name: 'Pop', email: 'ana@example.ro' };
const paymentBody = (over: Record<string, unknown> = {}) => ({
  connection: 'netopia',
  order_id: 'U-1',
  amount: 2599,
  currency: 'RON',
  description: 'Abonament',
  billing,
  ...over,
});

before(async () => {
  hub = await startTestHub({ emulators: false });
  const admin = apiClient(hub.url, hub.adminKey);
  alice = apiClient(hub.url, (await admin('POST', '/v1/merchants', { name: 'Alice SRL' })).body.api_key);
  const c = await alice('POST', '/v1/connections', { code: 'netopia', provider: 'netopia-v1', environment: 'sandbox', credentials: sandboxCredentials() });
  assert.equal(c.status, 201);
});
after(() => hub?.close());

/** The payment page of a payment that did not go through (canceled), as HTML. */
async function canceledPage(id: string, stored: { return_url?: string | null; metadata?: Record<string, unknown> }): Promise<string> {
  await hub.store.db
    .updateTable('payments')
    .set({
      status: 'canceled',
      ...(stored.return_url !== undefined ? { return_url: stored.return_url } : {}),
      ...(stored.metadata ? { metadata: JSON.stringify(stored.metadata) as never } : {}),
    })
    .where('id', '=', id)
    .execute();
  const r = await fetch(`${hub.url}/pay/${id}`);
  assert.equal(r.status, 200);
  return r.text();
}

describe('merchant URLs on the payment page are http(s) only', () => {
  it('refuses a metadata.canceled_url that is not an http(s) URL with a field error', async () => {
    for (const bad of [
      'javascript:alert(document.domain)',
      'JavaScript:alert(1)',
      'data:text/html,<script>alert(1)</script>',
      'vbscript:x',
      '//shop.example/back',
      'shop.example/back',
      42,
      true,
    ]) {
      const r = await alice('POST', '/v1/payments', paymentBody({ metadata: { canceled_url: bad } }));
      assert.equal(r.status, 422, `${JSON.stringify(bad)}: ${JSON.stringify(r.body)}`);
      assert.match(r.headers.get('content-type') ?? '', /application\/problem\+json/);
      assert.deepEqual(
        r.body.errors.map((e: { field: string }) => e.field),
        ['metadata.canceled_url'],
      );
    }
    const ok = await alice('POST', '/v1/payments', paymentBody({ metadata: { canceled_url: 'https://shop.example/canceled' } }));
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
  });

  it('links a stored http(s) canceled_url, and never a stored javascript: one', async () => {
    const good = await alice('POST', '/v1/payments', paymentBody({ order_id: 'U-2', metadata: { canceled_url: 'https://shop.example/canceled' } }));
    assert.equal(good.status, 201);
    assert.match(await canceledPage(good.body.id, {}), /href="https:\/\/shop\.example\/canceled\?payment_id=/);

    // A row written before the check (or by hand): the page passes over it and falls back to the return URL.
    const old = await alice('POST', '/v1/payments', paymentBody({ order_id: 'U-3', return_url: 'https://shop.example/thanks' }));
    assert.equal(old.status, 201);
    const page = await canceledPage(old.body.id, { metadata: { canceled_url: 'javascript:alert(document.domain)' } });
    assert.doesNotMatch(page, /javascript/i);
    assert.match(page, /href="https:\/\/shop\.example\/thanks\?payment_id=/);

    // No http(s) address at all: no link.
    const none = await alice('POST', '/v1/payments', paymentBody({ order_id: 'U-4' }));
    const bare = await canceledPage(none.body.id, { return_url: 'javascript:alert(1)', metadata: { canceled_url: ' javascript:alert(2)' } });
    assert.doesNotMatch(bare, /javascript/i);
    assert.doesNotMatch(bare, /Back to the shop/);
  });
});
