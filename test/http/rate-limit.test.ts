import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { apiClient, startTestHub, type TestHub } from '../support/hub.js';
import { crcOf, postIpn, sandboxCredentials } from '../support/netopia-v1.js';

let hub: TestHub;
let alice: ReturnType<typeof apiClient>;
let bob: ReturnType<typeof apiClient>;
let notifyUrl: string;

before(async () => {
  // 2 requests/s per key (20 per 10 s window); 1 notification/s per source (10 per window).
  hub = await startTestHub({ emulators: false, rateLimit: 2, notifyRateLimit: 1 });
  const admin = apiClient(hub.url, hub.adminKey);
  alice = apiClient(hub.url, (await admin('POST', '/v1/merchants', { name: 'Alice' })).body.api_key);
  bob = apiClient(hub.url, (await admin('POST', '/v1/merchants', { name: 'Bob' })).body.api_key);
  notifyUrl = (await alice('POST', '/v1/connections', { code: 'n', provider: 'netopia-v1', environment: 'sandbox', credentials: sandboxCredentials() })).body
    .notification_url;
});
after(() => hub?.close());

describe('rate limiting per API key', () => {
  it('answers 429 problems with Retry-After once a key exceeds its budget, without touching other keys', async () => {
    const statuses: number[] = [];
    let limited: { status: number; headers: Headers; body: any } | undefined;
    for (let i = 0; i < 25; i++) {
      const r = await alice('GET', '/v1/payments');
      statuses.push(r.status);
      if (r.status === 429) limited = r;
    }
    assert.ok(statuses.filter((s) => s === 200).length >= 15, statuses.join(','));
    assert.ok(limited, 'some requests were limited');
    assert.match(limited.headers.get('content-type') ?? '', /application\/problem\+json/);
    assert.equal(limited.body.status, 429);
    assert.ok(Number(limited.headers.get('retry-after')) > 0);
    assert.equal((await bob('GET', '/v1/payments')).status, 200, 'another key has its own budget');
  });
});

describe('rate limiting per source on notification endpoints', () => {
  it('asks the processor to retry later (error_type 1), never a 429 page', async () => {
    const replies = [];
    for (let i = 0; i < 14; i++) replies.push(await postIpn(notifyUrl, 'env_key=AAAA&data=AAAA'));
    assert.ok(replies.every((r) => r.status === 200));
    const types = replies.map((r) => crcOf(r.text).errorType);
    assert.equal(types[0], 2, 'within the budget: the normal protocol answer');
    assert.equal(types[types.length - 1], 1, 'over the budget: temporary error');
  });
});
