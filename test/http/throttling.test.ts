import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { KyselyPlugin } from 'kysely';
import { apiClient, startTestHub, type TestHub } from '../support/hub.js';
import { parseTrustProxy, readConfig } from '../../src/config.js';

/**
 * Throttling runs before authentication (a request over its budget, or from an address that failed to authenticate
 * too often, never costs a key lookup), and per-address limits count the client behind a trusted proxy.
 * Distinct source addresses are real ones: Linux answers on all of 127.0.0.0/8, so a request can leave from
 * 127.0.0.2 or 127.0.0.3 to a hub listening on 127.0.0.1.
 */

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function send(url: string, options: { from?: string; key?: string; headers?: Record<string, string>; form?: Record<string, string> } = {}): Promise<Answer> {
  const body = options.form ? new URLSearchParams(options.form).toString() : undefined;
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: body === undefined ? 'GET' : 'POST',
        localAddress: options.from,
        agent: false,
        headers: {
          ...(options.key ? { authorization: `Bearer ${options.key}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
          ...options.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const madeUpKey = () => `sk_${randomBytes(24).toString('base64url')}`;

/** Counts the hub's key lookups (API keys in merchant_api_keys, OnPay keys in onpay_partners) as they go to the database. */
function keyLookupCounter() {
  const counter = {
    lookups: 0,
    onpayLookups: 0,
    plugin: {
      transformQuery(args) {
        const text = args.node.kind === 'SelectQueryNode' ? JSON.stringify(args.node) : '';
        if (text.includes('merchant_api_keys')) counter.lookups++;
        if (text.includes('onpay_partners')) counter.onpayLookups++;
        return args.node;
      },
      async transformResult(args) {
        return args.result;
      },
    } satisfies KyselyPlugin,
  };
  return counter;
}

describe('throttling before authentication', () => {
  let hub: TestHub;
  const counter = keyLookupCounter();
  let aliceKey: string;
  let bobKey: string;

  before(async () => {
    // 3 requests/s per key or OnPay address (30 per 10 s window); 20 failed authentications per address per 10 s.
    hub = await startTestHub({ emulators: false, rateLimit: 3, authFailureLimit: 20, wrapDb: (db) => db.withPlugin(counter.plugin) });
    const admin = apiClient(hub.url, hub.adminKey);
    aliceKey = (await admin('POST', '/v1/merchants', { name: 'Alice' })).body.api_key;
    bobKey = (await admin('POST', '/v1/merchants', { name: 'Bob' })).body.api_key;
  });
  after(() => hub?.close());

  it('30 made-up keys from one address cost 20 key lookups; the rest, and any key from that address, get 429 with Retry-After', async () => {
    const start = counter.lookups;
    const statuses: number[] = [];
    let limited: Answer | undefined;
    for (let i = 0; i < 30; i++) {
      const r = await send(`${hub.url}/v1/payments`, { from: '127.0.0.2', key: madeUpKey() });
      statuses.push(r.status);
      if (r.status === 429) limited = r;
    }
    assert.deepEqual(statuses.slice(0, 20), Array(20).fill(401), statuses.join(','));
    assert.deepEqual(statuses.slice(20), Array(10).fill(429), statuses.join(','));
    assert.equal(counter.lookups - start, 20, 'one lookup per failed authentication, none once the budget is spent');
    assert.ok(Number(limited!.headers['retry-after']) > 0, 'Retry-After says when to come back');
    assert.match(String(limited!.headers['content-type']), /application\/problem\+json/);
    assert.equal(JSON.parse(limited!.body).status, 429);

    // Until the window passes, that address is refused with any key, a valid one too, still without a lookup.
    const before = counter.lookups;
    assert.equal((await send(`${hub.url}/v1/payments`, { from: '127.0.0.2', key: aliceKey })).status, 429);
    assert.equal((await send(`${hub.url}/v1/merchants`, { from: '127.0.0.2', key: madeUpKey() })).status, 429, 'operator endpoints too');
    assert.equal(counter.lookups, before);

    // Another address is not affected.
    assert.equal((await send(`${hub.url}/v1/payments`, { from: '127.0.0.3', key: aliceKey })).status, 200);
  });

  it('a valid key over its rate limit is refused before its key is looked up', async () => {
    const start = counter.lookups;
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) statuses.push((await send(`${hub.url}/v1/payments`, { from: '127.0.0.4', key: bobKey })).status);
    assert.deepEqual(statuses.slice(0, 30), Array(30).fill(200), statuses.join(','));
    assert.deepEqual(statuses.slice(30), Array(10).fill(429), statuses.join(','));
    assert.equal(counter.lookups - start, 30, 'the 10 requests over the limit did no lookup');
  });

  it('made-up OnPay keys count too: past the budget (below the rate limit), OnPay JSON with 429 and no lookup', async () => {
    const start = counter.onpayLookups;
    const answers: Answer[] = [];
    for (let i = 0; i < 30; i++) answers.push(await send(`${hub.url}/test/api/get_payment_method/`, { from: '127.0.0.5', form: { key: madeUpKey() } }));
    assert.deepEqual(
      answers.map((a) => a.status),
      [...Array(20).fill(200), ...Array(10).fill(429)],
    );
    assert.deepEqual(JSON.parse(answers[0].body), { success: 'false', errors: 'invalid key' });
    assert.equal(JSON.parse(answers[29].body).success, 'false');
    assert.ok(Number(answers[29].headers['retry-after']) > 0);
    assert.equal(counter.onpayLookups - start, 20);
    // The native API from that address is refused as well (one budget per address), another address is not.
    assert.equal((await send(`${hub.url}/v1/payments`, { from: '127.0.0.5', key: aliceKey })).status, 429);
    assert.equal((await send(`${hub.url}/test/api/get_payment_method/`, { from: '127.0.0.6', form: { key: madeUpKey() } })).status, 200);
  });
});

describe('per-address limits behind a reverse proxy (INCASSO_TRUST_PROXY)', () => {
  let proxied: TestHub;
  let direct: TestHub;
  let key: string;

  before(async () => {
    // 1 request/s per address on pages (10 per 10 s window); 5 failed authentications per address per 10 s.
    proxied = await startTestHub({ emulators: false, rateLimit: 1, authFailureLimit: 5, trustProxy: ['127.0.0.1'] });
    direct = await startTestHub({ emulators: false, rateLimit: 1, authFailureLimit: 5 });
    key = (await apiClient(proxied.url, proxied.adminKey)('POST', '/v1/merchants', { name: 'Carol' })).body.api_key;
  });
  after(async () => {
    await proxied?.close();
    await direct?.close();
  });

  const viaProxy = (client: string) => ({ from: '127.0.0.1', headers: { 'x-forwarded-for': client } });

  it('two clients behind one trusted proxy get separate budgets on pages and failed authentications', async () => {
    const pages: number[] = [];
    for (let i = 0; i < 12; i++) pages.push((await send(`${proxied.url}/pay/pay_none`, viaProxy('203.0.113.10'))).status);
    assert.equal(pages.at(-1), 429, pages.join(','));
    assert.equal((await send(`${proxied.url}/pay/pay_none`, viaProxy('203.0.113.11'))).status, 404, 'the other client still has its budget');

    const auths: number[] = [];
    for (let i = 0; i < 7; i++) auths.push((await send(`${proxied.url}/v1/payments`, { ...viaProxy('203.0.113.20'), key: madeUpKey() })).status);
    assert.deepEqual(auths, [401, 401, 401, 401, 401, 429, 429]);
    assert.equal(
      (await send(`${proxied.url}/v1/payments`, { ...viaProxy('203.0.113.21'), key })).status,
      200,
      'a client behind the same proxy is not affected',
    );
  });

  it('a hop count (INCASSO_TRUST_PROXY=1) also gives each client behind the proxy its own budget', async () => {
    const hops = await startTestHub({ emulators: false, rateLimit: 1, authFailureLimit: 5, trustProxy: 1 });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 12; i++) statuses.push((await send(`${hops.url}/pay/pay_none`, viaProxy('203.0.113.30'))).status);
      assert.equal(statuses.at(-1), 429, statuses.join(','));
      assert.equal((await send(`${hops.url}/pay/pay_none`, viaProxy('203.0.113.31'))).status, 404, 'the other client still has its budget');
      // Only the nearest hop is trusted: a client's own X-Forwarded-For entries further left change nothing.
      const spoofed = await send(`${hops.url}/pay/pay_none`, { from: '127.0.0.1', headers: { 'x-forwarded-for': '198.51.100.1, 203.0.113.30' } });
      assert.equal(spoofed.status, 429);
    } finally {
      await hops.close();
    }
  });

  it('ignores X-Forwarded-For from an address that is not a trusted proxy', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      statuses.push((await send(`${proxied.url}/pay/pay_none`, { from: '127.0.0.2', headers: { 'x-forwarded-for': `198.51.100.${i + 1}` } })).status);
    }
    assert.equal(statuses.at(-1), 429, `a spoofed header gives no new budget: ${statuses.join(',')}`);
  });

  it('without INCASSO_TRUST_PROXY a spoofed X-Forwarded-For is ignored', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await send(`${direct.url}/pay/pay_none`, { headers: { 'x-forwarded-for': `198.51.100.${i + 1}` } })).status);
    assert.equal(statuses.at(-1), 429, statuses.join(','));
    assert.equal(statuses.filter((s) => s === 404).length, 10, statuses.join(','));
  });
});

describe('INCASSO_TRUST_PROXY', () => {
  it('reads a hop count or proxy addresses/CIDRs; unset or 0 trusts none; anything else stops the start', () => {
    assert.equal(readConfig({}).trustProxy, false);
    assert.equal(parseTrustProxy('0'), false);
    assert.equal(parseTrustProxy(' 1 '), 1);
    assert.deepEqual(readConfig({ INCASSO_TRUST_PROXY: '10.0.0.5, 10.1.0.0/16,::1,fd00::/8,loopback' }).trustProxy, [
      '10.0.0.5',
      '10.1.0.0/16',
      '::1',
      'fd00::/8',
      'loopback',
    ]);
    for (const bad of ['true', 'proxy.example', '10.0.0.0/33', '10.0.0.1/8/1', '::1/129', '999', '10.0.0.5;10.0.0.6']) {
      assert.throws(() => parseTrustProxy(bad), /INCASSO_TRUST_PROXY/, bad);
    }
  });
});
