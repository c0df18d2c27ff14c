import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPublicKey, verify } from 'node:crypto';
import { openTestStore } from '../../support/store.js';
import type { Store } from '../../../src/store/store.js';
import {
  api,
  card,
  createAccount,
  eventually,
  FAST_RETRY,
  Merchant,
  newOrderId,
  orderView,
  startBody,
  startEmulator,
  type Account,
  type DeliveryView,
  type Emulator,
  type ScriptedReply,
} from './harness.js';

let store: Store;
let emulator: Emulator;
let merchant: Merchant;
let account: Account;

before(async () => {
  store = await openTestStore();
  // A timeout short enough for the hanging-merchant test, long enough for a merchant on a busy test machine.
  emulator = await startEmulator(store, { ...FAST_RETRY, timeoutMs: 1000, maxAttempts: 4 });
  merchant = await Merchant.start();
  account = await createAccount(emulator);
  merchant.trust(account.notify_public_key_pem, account.pos_signature);
});

after(async () => {
  await emulator?.stop();
  await merchant?.close();
  await store?.close();
});

/** Pays a fresh order with card data, the merchant answering `replies` in turn. */
async function pay(target: Emulator, replies: ScriptedReply[], pan = '9900004810225098'): Promise<{ orderId: string; ntpID: string }> {
  const orderId = newOrderId('ipn');
  merchant.script(orderId, replies);
  const answer = await api(target, '/payment/card/start', startBody(account, merchant, { orderId, card: card(pan), data: { cart: '42' } }), account.api_key);
  assert.equal(answer.status, 200, answer.text);
  return { orderId, ntpID: answer.json.payment.ntpID };
}

async function settledDelivery(target: Emulator, ntpID: string): Promise<DeliveryView> {
  return eventually(
    async () => {
      const [delivery] = (await orderView(target, ntpID, account.api_key)).deliveries;
      return delivery && delivery.status !== 'pending' ? delivery : undefined;
    },
    10_000,
    `the IPN of ntpID ${ntpID} to settle`,
  );
}

const b64url = (s: string) => Buffer.from(s, 'base64url');

describe('NETOPIA v2 emulator: the IPN on the wire (protocols/netopia.md §2.7)', () => {
  it("raw JSON body in NETOPIA's key order, User-Agent Zend_Http_Client, NO Content-Type, a Verification-token", async () => {
    const { orderId, ntpID } = await pay(emulator, []);
    const [ipn] = await merchant.waitForIpns(orderId, 1);
    assert.equal(ipn!.headers['content-type'], undefined);
    assert.equal(ipn!.headers['user-agent'], 'Zend_Http_Client');
    assert.equal(Number(ipn!.headers['content-length']), ipn!.raw.length);
    const body = ipn!.body;
    assert.deepEqual(Object.keys(body), ['order', 'payment']);
    assert.deepEqual(body.order, { orderID: orderId, data: { cart: '42' } });
    assert.deepEqual(Object.keys(body.payment), ['amount', 'currency', 'ntpID', 'status', 'code', 'message', 'token', 'data', 'binding', 'instrument']);
    assert.deepEqual(
      [body.payment.amount, body.payment.currency, body.payment.ntpID, body.payment.status, body.payment.code, body.payment.message],
      [25, 'RON', ntpID, 3, '00', 'Approved'],
    );
    assert.deepEqual(Object.keys(body.payment.data), ['AuthCode', 'BIN', 'ISSUER', 'ISSUER_COUNTRY', 'RRN']);
    assert.deepEqual([body.payment.data.BIN, body.payment.data.ISSUER, body.payment.data.ISSUER_COUNTRY], ['990000', 'Netopia GB', '642']);
    assert.deepEqual(body.payment.instrument, { panMasked: '9****5098' });
    assert.equal(body.payment.binding.token, body.payment.token);
  });

  it('the JWT is RS512 {alg, typ: JWT}, iss "NETOPIA Payments", aud = the POS signature, iat in seconds, sub = base64(SHA-512(raw body)), verifiable with GET /platform-key.pem', async () => {
    const { orderId } = await pay(emulator, []);
    const [ipn] = await merchant.waitForIpns(orderId, 1);
    assert.equal(ipn!.verified.ok, true, JSON.stringify(ipn!.verified));
    const token = String(ipn!.headers['verification-token']);
    const [header, claims, signature] = token.split('.');
    assert.deepEqual(JSON.parse(b64url(header!).toString()), { alg: 'RS512', typ: 'JWT' });
    const payload = JSON.parse(b64url(claims!).toString());
    assert.equal(payload.iss, 'NETOPIA Payments');
    assert.equal(payload.aud, account.pos_signature);
    assert.ok(Number.isInteger(payload.iat) && Math.abs(payload.iat - Date.now() / 1000) < 60, `iat ${payload.iat} is seconds`);
    const sub = createHash('sha512').update(ipn!.raw).digest('base64');
    assert.equal(payload.sub, sub);
    // 64 bytes in the standard alphabet, padded: 86 characters and "==".
    assert.match(payload.sub, /^[A-Za-z0-9+/]{86}==$/);
    // Independently of jose: RSASSA-PKCS1-v1_5 with SHA-512 over "header.claims", with the published key.
    const published = await (await fetch(`${emulator.base}/platform-key.pem`)).text();
    assert.ok(verify('sha512', Buffer.from(`${header}.${claims}`), createPublicKey(published), b64url(signature!)));
  });

  it('a decline IPN carries status 12 and the decline code and message', async () => {
    const { orderId } = await pay(emulator, [], '9900518572831942');
    const [ipn] = await merchant.waitForIpns(orderId, 1);
    assert.deepEqual([ipn!.body.payment.status, ipn!.body.payment.code, ipn!.body.payment.message], [12, '20', 'Insufficient funds']);
    assert.equal(ipn!.body.payment.token, undefined);
    assert.equal(ipn!.verified.ok, true);
  });
});

describe("NETOPIA v2 emulator: the merchant's reply {errorType, errorCode, errorMessage} and retries", () => {
  it('errorType 0 with HTTP 200 is delivered at the first attempt', async () => {
    const { ntpID } = await pay(emulator, []);
    const delivery = await settledDelivery(emulator, ntpID);
    assert.deepEqual([delivery.status, delivery.attempts, delivery.log[0]?.http_status, delivery.log[0]?.outcome], ['delivered', 1, 200, 'delivered']);
  });

  it("no errorType but errorCode 0 (netopia-card's README reply) also counts as delivered", async () => {
    const { ntpID } = await pay(emulator, ['legacy-ok']);
    const delivery = await settledDelivery(emulator, ntpID);
    assert.deepEqual([delivery.status, delivery.attempts], ['delivered', 1]);
  });

  const retried: Array<[string, ScriptedReply, RegExp]> = [
    ['errorType 1 (temporary)', 'temporary', /errorType 1/],
    ['HTTP 500', 'http500', /HTTP 500/],
    ['an unreadable reply', 'unreadable', /not a JSON object/],
    ['no reply within the deadline', 'hang', /no reply within 1000 ms/],
  ];
  for (const [name, reply, error] of retried) {
    it(`${name} → retried with backoff until acknowledged; the same body every time, a valid token each time`, async () => {
      const { orderId, ntpID } = await pay(emulator, [reply, reply, 'ok']);
      const delivery = await settledDelivery(emulator, ntpID);
      assert.equal(delivery.status, 'delivered');
      assert.deepEqual(
        delivery.log.map((a) => a.outcome),
        ['retry', 'retry', 'delivered'],
      );
      assert.match(delivery.log[0]!.error ?? '', error);
      assert.ok(delivery.log[0]!.next_retry_at, 'a retry time is logged');
      const received = merchant.ipnsFor(orderId);
      if (reply !== 'hang') assert.equal(received.length, 3);
      assert.equal(new Set(received.map((r) => r.raw.toString('hex'))).size, 1);
      assert.ok(received.every((r) => r.verified.ok));
    });
  }

  it('errorType 2 (permanent) stops at once, recorded as failed, even with another HTTP status', async () => {
    const { orderId, ntpID } = await pay(emulator, ['permanent', 'ok']);
    const delivery = await settledDelivery(emulator, ntpID);
    assert.equal(delivery.status, 'failed');
    assert.equal(delivery.attempts, 1);
    assert.match(delivery.log[0]!.error ?? '', /errorType 2/);
    assert.match(delivery.log[0]!.reply ?? '', /signature mismatch/);
    assert.equal(delivery.log[0]!.http_status, 400);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(merchant.ipnsFor(orderId).length, 1);
  });

  it('gives up after maxAttempts (4 here), recorded as gave_up', async () => {
    const { ntpID } = await pay(emulator, ['temporary', 'temporary', 'temporary', 'temporary', 'ok']);
    const delivery = await settledDelivery(emulator, ntpID);
    assert.equal(delivery.status, 'failed');
    assert.deepEqual(
      delivery.log.map((a) => a.outcome),
      ['retry', 'retry', 'retry', 'gave_up'],
    );
  });
});

describe('NETOPIA v2 emulator: the IPN queue is durable and shared', () => {
  it('a retry pending when the emulator stops is sent by the next one started on the same database', async () => {
    // The first instance polls too rarely to retry: only its successor can deliver.
    const first = await startEmulator(store, { baseDelayMs: 200, pollMs: 600_000, timeoutMs: 1000, maxAttempts: 5 });
    const { orderId, ntpID } = await pay(first, ['temporary']);
    await eventually(
      async () => ((await orderView(first, ntpID, account.api_key)).deliveries[0]?.attempts === 1 ? true : undefined),
      10_000,
      'the first attempt',
    );
    await first.stop();
    const second = await startEmulator(store, FAST_RETRY);
    try {
      const delivery = await settledDelivery(second, ntpID);
      assert.deepEqual(
        delivery.log.map((a) => a.outcome),
        ['retry', 'delivered'],
      );
      assert.equal(merchant.ipnsFor(orderId).length, 2);
    } finally {
      await second.stop();
    }
  });

  it('two emulator processes on one database share the retries: every IPN is retried exactly once (FOR UPDATE SKIP LOCKED)', async () => {
    const peer = await startEmulator(store, FAST_RETRY);
    try {
      const paid = await Promise.all(Array.from({ length: 8 }, (_, i) => pay(i % 2 ? peer : emulator, ['temporary'])));
      for (const { orderId, ntpID } of paid) {
        const delivery = await settledDelivery(emulator, ntpID);
        assert.deepEqual(
          delivery.log.map((a) => a.attempt),
          [1, 2],
        );
        assert.equal(merchant.ipnsFor(orderId).length, 2);
      }
    } finally {
      await peer.stop();
    }
  });
});
