import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RETRY_SCHEDULE_MS, retryDelayMs, signWebhook } from '../../src/services/webhooks.js';
import { apiClient, eventually, startTestHub, type TestHub } from '../support/hub.js';
import { startWebhookListener, verifyStandardWebhook } from '../support/webhook-listener.js';
import { sandboxCredentials } from '../support/netopia-v1.js';

describe('"exponential backoff over at least 24 h"', () => {
  it('retries 7 times over more than a day, then gives up', () => {
    const total = RETRY_SCHEDULE_MS.reduce((a, b) => a + b, 0);
    assert.ok(total >= 24 * 3600_000, `${total / 3600_000} h`);
    for (let i = 1; i < RETRY_SCHEDULE_MS.length; i++) assert.ok(RETRY_SCHEDULE_MS[i]! >= RETRY_SCHEDULE_MS[i - 1]!);
    assert.equal(retryDelayMs(1), 5_000);
    assert.equal(retryDelayMs(RETRY_SCHEDULE_MS.length + 1), null);
  });
});

describe('Standard Webhooks signatures', () => {
  it('signs id.timestamp.body with the base64-decoded whsec_ secret (spec example)', () => {
    // The example from the Standard Webhooks specification.
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const sig = signWebhook(secret, 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}');
    assert.equal(sig, 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
    assert.ok(verifyStandardWebhook(secret, 'msg_p5jXN8AQM9LWM0D4loKWxJek', '1614265330', '{"test": 2432232314}', sig));
  });
});

let hub: TestHub;
let api: ReturnType<typeof apiClient>;

before(async () => {
  hub = await startTestHub({ emulators: false, webhookRetryScale: 0.00005, outboundAllow: '127.0.0.1' });
  const merchant = await apiClient(hub.url, hub.adminKey)('POST', '/v1/merchants', { name: 'Hooks SRL' });
  api = apiClient(hub.url, merchant.body.api_key);
  await api('POST', '/v1/connections', { code: 'netopia', provider: 'netopia-v1', environment: 'sandbox', credentials: sandboxCredentials() });
});
after(() => hub?.close());

const createPayment = (order: string) =>
  api('POST', '/v1/payments', {
    connection: 'netopia',
    order_id: order,
    amount: 100,
    currency: 'RON',
    description: 'Test',
    billing: { first_name: 'A', last_name: 'B', email: 'a@b.ro' },
  });

describe('delivery with retries, a delivery log, and manual redelivery', () => {
  it('retries a failing endpoint with the same webhook-id until it answers 2xx, logging every attempt', async () => {
    const listener = await startWebhookListener({ respond: (n) => (n <= 2 ? 503 : 200) });
    try {
      const we = await api('POST', '/v1/webhook-endpoints', { url: listener.url, events: ['payment.created'] });
      listener.setSecret(we.body.secret);
      const p = await createPayment('RETRY-1');
      const delivered = await eventually(() => listener.received.find((w) => w.event.data.id === p.body.id), 15_000, 'delivery');
      assert.ok(delivered.validSignature);
      assert.equal(delivered.event.type, 'payment.created');
      // The listener records the request before its answer reaches the hub, which then stores the outcome.
      const d = await eventually(
        async () => {
          const log = await api('GET', `/v1/webhook-endpoints/${we.body.id}/deliveries`);
          const row = log.body.data.find((x: { event_id: string }) => x.event_id === delivered.id);
          return row?.status === 'succeeded' ? row : undefined;
        },
        10_000,
        'the delivery stored as succeeded',
      );
      assert.equal(d.attempts, 3);
      const detail = await api('GET', `/v1/webhook-deliveries/${d.id}`);
      assert.deepEqual(
        detail.body.attempt_log.map((a: { status_code: number }) => a.status_code),
        [503, 503, 200],
      );
      assert.ok(detail.body.attempt_log.every((a: { duration_ms: number }) => a.duration_ms >= 0));

      const re = await api('POST', `/v1/webhook-deliveries/${d.id}/redeliver`);
      assert.equal(re.status, 202);
      await eventually(() => listener.received.filter((w) => w.id === delivered.id).length === 2, 10_000, 'redelivery');
      const again = listener.received.filter((w) => w.id === delivered.id);
      assert.equal(again[1]!.body, again[0]!.body, 'same bytes on redelivery');
      assert.ok(again[1]!.validSignature);
      await api('PATCH', `/v1/webhook-endpoints/${we.body.id}`, { status: 'disabled' });
    } finally {
      await listener.close();
    }
  });

  it('gives up after the schedule and marks the delivery failed; an unreachable endpoint is an error, not a crash', async () => {
    const we = await api('POST', '/v1/webhook-endpoints', { url: 'http://127.0.0.1:1/nothing', events: ['payment.created'] });
    await createPayment('DEAD-1');
    const failed = await eventually(
      async () => {
        const log = await api('GET', `/v1/webhook-endpoints/${we.body.id}/deliveries`);
        return log.body.data.find((d: { status: string }) => d.status === 'failed');
      },
      30_000,
      'failure after the retry schedule',
    );
    assert.equal(failed.attempts, RETRY_SCHEDULE_MS.length + 1);
    assert.ok(failed.last_error);
    await api('PATCH', `/v1/webhook-endpoints/${we.body.id}`, { status: 'disabled' });
  });

  it('rotating the secret: deliveries carry a signature with each secret for the overlap, then only the new one', async () => {
    const listener = await startWebhookListener();
    try {
      const we = await api('POST', '/v1/webhook-endpoints', { url: listener.url, events: ['payment.created'] });
      const old = we.body.secret as string;
      const r = await api('POST', `/v1/webhook-endpoints/${we.body.id}/rotate-secret`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const fresh = r.body.secret as string;
      assert.match(fresh, /^whsec_/);
      assert.notEqual(fresh, old);
      assert.ok(Math.abs(Date.parse(r.body.previous_secret_expires_at) - Date.now() - 24 * 3_600_000) < 60_000, 'the old secret for 24 hours more');
      assert.equal((await api('GET', `/v1/webhook-endpoints/${we.body.id}`)).body.secret, undefined, 'never shown again');
      const verifies = (secret: string, w: { id: string; timestamp: string; body: string; signature: string }) =>
        verifyStandardWebhook(secret, w.id, w.timestamp, w.body, w.signature);
      const p = await createPayment('ROTATE-1');
      const during = await eventually(() => listener.received.find((w) => w.event.data.id === p.body.id), 15_000, 'a delivery in the overlap');
      assert.ok(verifies(fresh, during) && verifies(old, during), 'both secrets verify in the overlap');
      // The overlap over, the previous secret signs nothing any more.
      await hub.ctx.db
        .updateTable('webhook_endpoints')
        .set({ previous_secret_expires_at: new Date(Date.now() - 1000) })
        .where('id', '=', we.body.id)
        .execute();
      const q = await createPayment('ROTATE-2');
      const afterwards = await eventually(() => listener.received.find((w) => w.event.data.id === q.body.id), 15_000, 'a delivery after the overlap');
      assert.ok(verifies(fresh, afterwards));
      assert.ok(!verifies(old, afterwards), 'the old secret no longer verifies');
      assert.equal(afterwards.signature.split(' ').length, 1);
    } finally {
      await listener.close();
    }
  });

  it('only subscribed, active endpoints receive events', async () => {
    const listener = await startWebhookListener();
    try {
      const we = await api('POST', '/v1/webhook-endpoints', { url: listener.url, events: ['payment.paid'] });
      listener.setSecret(we.body.secret);
      await createPayment('NOT-SUBSCRIBED');
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(listener.calls, 0);
      const bad = await api('POST', '/v1/webhook-endpoints', { url: 'ftp://x', events: ['payment.nope'] });
      assert.equal(bad.status, 422);
      assert.deepEqual(bad.body.errors.map((e: { field: string }) => e.field).sort(), ['events.0', 'url']);
    } finally {
      await listener.close();
    }
  });
});
