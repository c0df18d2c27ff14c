import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { MAX_WEBHOOK_ENDPOINTS_PER_MERCHANT } from '../../src/services/webhooks.js';
import { MAX_IN_FLIGHT_PER_ENDPOINT, MAX_IN_FLIGHT_PER_MERCHANT } from '../../src/services/webhook-pool.js';
import { apiClient, eventually, startTestHub, type TestHub } from '../support/hub.js';
import { startWebhookListener } from '../support/webhook-listener.js';
import { startSlowListener } from '../support/slow-listener.js';
import { sandboxCredentials } from '../support/netopia-v1.js';

/**
 * Webhook deliveries are shared fairly: one merchant's slow (or many) receivers cannot hold up another merchant's
 * deliveries, nor the janitors; caps bound what one endpoint and one merchant have in flight and how many
 * endpoints a merchant may have; a disabled endpoint gets nothing more.
 */

let hub: TestHub;
let slow: Awaited<ReturnType<typeof startSlowListener>>;

async function newMerchant(name: string) {
  const merchant = await apiClient(hub.url, hub.adminKey)('POST', '/v1/merchants', { name });
  assert.equal(merchant.status, 201);
  const api = apiClient(hub.url, merchant.body.api_key);
  assert.equal(
    (await api('POST', '/v1/connections', { code: 'netopia', provider: 'netopia-v1', environment: 'sandbox', credentials: sandboxCredentials() })).status,
    201,
  );
  let n = 0;
  const pay = async (extra: Record<string, unknown> = {}) => {
    const p = await api('POST', '/v1/payments', {
      connection: 'netopia',
      order_id: `${name}-${++n}`,
      amount: 100,
      currency: 'RON',
      description: 'Test',
      billing: { first_name: 'A', last_name: 'B', email: 'a@b.ro' },
      ...extra,
    });
    assert.equal(p.status, 201, JSON.stringify(p.body));
    return p.body as { id: string };
  };
  return { id: merchant.body.id as string, api, pay };
}

before(async () => {
  // The real delivery timeout (10 s) and a receiver that answers after 60 s; retries come back almost at once.
  hub = await startTestHub({ emulators: false, webhookRetryScale: 0.0002, outboundAllow: '127.0.0.1' });
  slow = await startSlowListener(60_000);
});
after(async () => {
  // Ending the held requests first lets the hub's deliveries in flight finish at once.
  await slow?.close();
  await hub?.close();
});

describe("one merchant cannot stall everyone's webhooks", () => {
  it("40 endpoints of one merchant that answer after 60 s delay neither another merchant's delivery nor the janitors by more than a few seconds", async () => {
    const hostile = await newMerchant('Slow');
    for (let i = 0; i < 40; i++) {
      const we = await hostile.api('POST', '/v1/webhook-endpoints', { url: slow.url(`/slow/${i}`), events: ['payment.created'] });
      assert.equal(we.status, 201);
    }
    // 80 deliveries to receivers that hold every request open.
    await hostile.pay();
    await hostile.pay();
    await eventually(() => slow.openNow >= MAX_IN_FLIGHT_PER_MERCHANT, 10_000, "the slow merchant's deliveries in flight");

    const victim = await newMerchant('Victim');
    const listener = await startWebhookListener();
    try {
      const we = await victim.api('POST', '/v1/webhook-endpoints', { url: listener.url, events: ['payment.created', 'payment.expired'] });
      listener.setSecret(we.body.secret);
      const started = Date.now();
      const p = await victim.pay();
      await eventually(
        () => listener.received.find((w) => w.event.type === 'payment.created' && w.event.data.id === p.id),
        5_000,
        "the other merchant's webhook",
      );
      const latency = Date.now() - started;
      assert.ok(latency < 3_000, `the other merchant's webhook took ${latency} ms`);

      // The janitors keep their pace too: a payment expires (and says so) while the slow deliveries are still held.
      const expiresAt = Date.now() + 1_500;
      const expiring = await victim.pay({ expires_at: new Date(expiresAt).toISOString() });
      await eventually(
        () => listener.received.find((w) => w.event.type === 'payment.expired' && w.event.data.id === expiring.id),
        6_000,
        "the expiry janitor's payment.expired",
      );
      assert.ok(Date.now() - expiresAt < 4_000, `expired ${Date.now() - expiresAt} ms late`);

      assert.ok(slow.openNow > 0, 'the slow deliveries were still being held (the scenario happened)');
      assert.ok(slow.maxOpenTotal <= MAX_IN_FLIGHT_PER_MERCHANT, `the slow merchant had ${slow.maxOpenTotal} deliveries in flight at once`);
    } finally {
      await listener.close();
    }
  });

  it(`never has more than ${MAX_IN_FLIGHT_PER_ENDPOINT} deliveries in flight to one endpoint`, async () => {
    const busy = await newMerchant('OneEndpoint');
    await busy.api('POST', '/v1/webhook-endpoints', { url: slow.url('/single'), events: ['payment.created'] });
    for (let i = 0; i < MAX_IN_FLIGHT_PER_ENDPOINT + 4; i++) await busy.pay();
    await eventually(() => slow.maxOpenAt('/single') >= MAX_IN_FLIGHT_PER_ENDPOINT, 10_000, "the endpoint's cap reached");
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(slow.maxOpenAt('/single'), MAX_IN_FLIGHT_PER_ENDPOINT);
  });
});

describe('a cap on webhook endpoints per merchant', () => {
  it(`refuses an active endpoint beyond ${MAX_WEBHOOK_ENDPOINTS_PER_MERCHANT} with a 409 problem, also when re-enabling one`, async () => {
    const m = await newMerchant('Many');
    const ids: string[] = [];
    for (let i = 0; i < MAX_WEBHOOK_ENDPOINTS_PER_MERCHANT; i++) {
      const we = await m.api('POST', '/v1/webhook-endpoints', { url: `https://example.com/hooks/${i}`, events: ['payment.paid'] });
      assert.equal(we.status, 201);
      ids.push(we.body.id);
    }
    const refused = await m.api('POST', '/v1/webhook-endpoints', { url: 'https://example.com/hooks/one-more' });
    assert.equal(refused.status, 409);
    assert.match(refused.headers.get('content-type') ?? '', /application\/problem\+json/);
    assert.match(refused.body.detail, new RegExp(`at most ${MAX_WEBHOOK_ENDPOINTS_PER_MERCHANT} active webhook endpoints`));
    assert.equal((await m.api('GET', '/v1/webhook-endpoints')).body.data.length, MAX_WEBHOOK_ENDPOINTS_PER_MERCHANT);

    assert.equal((await m.api('PATCH', `/v1/webhook-endpoints/${ids[0]}`, { status: 'disabled' })).status, 200);
    assert.equal((await m.api('POST', '/v1/webhook-endpoints', { url: 'https://example.com/hooks/replacement' })).status, 201);
    const reenable = await m.api('PATCH', `/v1/webhook-endpoints/${ids[0]}`, { status: 'active' });
    assert.equal(reenable.status, 409);
    assert.equal((await m.api('GET', `/v1/webhook-endpoints/${ids[0]}`)).body.status, 'disabled');
  });
});

describe('a disabled webhook endpoint', () => {
  it('gets none of its pending deliveries or retries: they are marked canceled, and can be redelivered once it is active again', async () => {
    const m = await newMerchant('Disabler');
    let answer = 503;
    const listener = await startWebhookListener({ respond: () => answer });
    try {
      const we = await m.api('POST', '/v1/webhook-endpoints', { url: listener.url, events: ['payment.created'] });
      listener.setSecret(we.body.secret);
      await m.pay();
      await eventually(() => listener.calls >= 2, 10_000, 'a first attempt and a retry');
      assert.equal((await m.api('PATCH', `/v1/webhook-endpoints/${we.body.id}`, { status: 'disabled' })).status, 200);
      const delivery = await eventually(
        async () => {
          const log = await m.api('GET', `/v1/webhook-endpoints/${we.body.id}/deliveries`);
          return log.body.data[0]?.status === 'canceled' ? log.body.data[0] : undefined;
        },
        5_000,
        'the delivery canceled',
      );
      assert.equal(delivery.last_error, 'endpoint disabled');
      assert.equal(delivery.next_attempt_at, null);
      const calls = listener.calls;
      // The retry schedule (scaled) would have tried again within this time.
      await new Promise((r) => setTimeout(r, 2_500));
      assert.equal(listener.calls, calls, 'a disabled endpoint received a retry');

      // A retry written after the disabling (by a delivery that was in flight then) is canceled, not sent.
      await sql`UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = now(), locked_until = NULL WHERE id = ${delivery.id}`.execute(hub.ctx.db);
      hub.worker.wake();
      await eventually(
        async () => (await m.api('GET', `/v1/webhook-deliveries/${delivery.id}`)).body.status === 'canceled',
        5_000,
        'the straggling retry canceled',
      );
      assert.equal(listener.calls, calls, 'a disabled endpoint received a straggling retry');

      const refused = await m.api('POST', `/v1/webhook-deliveries/${delivery.id}/redeliver`);
      assert.equal(refused.status, 409, 'redelivering to a disabled endpoint is refused');

      answer = 200;
      assert.equal((await m.api('PATCH', `/v1/webhook-endpoints/${we.body.id}`, { status: 'active' })).status, 200);
      assert.equal((await m.api('POST', `/v1/webhook-deliveries/${delivery.id}/redeliver`)).status, 202);
      await eventually(() => listener.received.length === 1, 10_000, 'the redelivery after re-enabling');
      await eventually(async () => (await m.api('GET', `/v1/webhook-deliveries/${delivery.id}`)).body.status === 'succeeded', 5_000, 'the redelivery recorded');
    } finally {
      await listener.close();
    }
  });
});
