import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openTestStore } from '../../support/store.js';
import type { Store } from '../../../src/store/store.js';
import {
  createAccount,
  eventually,
  FAST_RETRY,
  Merchant,
  order,
  orderView,
  payOverHttp,
  sealOrder,
  startEmulator,
  type Account,
  type Emulator,
  type OrderView,
  type ScriptedReply,
} from './harness.js';

const APPROVED = '9900004810225098';

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
  merchant.addKey(account.private_key);
});

after(async () => {
  await emulator?.stop();
  await merchant?.close();
  await store?.close();
});

/** Pays a fresh order with the merchant answering `replies` in turn; returns the purchase id and order id. */
async function payWithReplies(target: Emulator, replies: ScriptedReply[]): Promise<{ purchase: string; orderId: string; location: string }> {
  const v1Order = order(account, merchant);
  merchant.script(v1Order.id, replies);
  const paid = await payOverHttp(target, sealOrder(account, v1Order), APPROVED);
  assert.equal(paid.status, 303);
  return { purchase: paid.purchase, orderId: v1Order.id, location: paid.location };
}

async function settledDelivery(target: Emulator, purchase: string): Promise<OrderView['deliveries'][number]> {
  return eventually(
    async () => {
      const [delivery] = (await orderView(target, purchase)).deliveries;
      return delivery && delivery.status !== 'pending' ? delivery : undefined;
    },
    10_000,
    `the IPN of purchase ${purchase} to settle`,
  );
}

describe('NETOPIA v1 emulator: IPN delivery and retries (merchant reply, protocols/netopia.md §1.6)', () => {
  it('the first IPN is sent before the customer is redirected to the return URL with ?orderId=', async () => {
    const { purchase, orderId, location } = await payWithReplies(emulator, []);
    assert.equal(location, `${merchant.url}/return?shop=1&orderId=${encodeURIComponent(orderId)}`);
    assert.equal(merchant.ipnsFor(orderId).length, 1);
    const [delivery] = (await orderView(emulator, purchase)).deliveries;
    assert.equal(delivery?.status, 'delivered');
    assert.equal(delivery?.attempts, 1);
    assert.equal(delivery?.log[0]?.http_status, 200);
    assert.equal(delivery?.log[0]?.outcome, 'delivered');
    assert.match(delivery?.log[0]?.reply ?? '', new RegExp(delivery!.crc));
  });

  it('error_type 1 is a temporary error: retried with exponential backoff until acknowledged, same crc each time', async () => {
    const { purchase, orderId } = await payWithReplies(emulator, ['temporary', 'temporary', 'ok']);
    const delivery = await settledDelivery(emulator, purchase);
    assert.equal(delivery.status, 'delivered');
    assert.deepEqual(
      delivery.log.map((a) => a.outcome),
      ['retry', 'retry', 'delivered'],
    );
    assert.match(delivery.log[0]!.error ?? '', /error_type 1/);
    assert.match(delivery.log[0]!.reply ?? '', /database busy/);
    const received = merchant.ipnsFor(orderId);
    assert.equal(received.length, 3);
    assert.equal(new Set(received.map((r) => r.ipn.mobilpay.crc)).size, 1, 'a retry is the same notification');
    // Backoff: the second wait is twice the first (baseDelayMs × 2^n).
    const waits = delivery.log.slice(0, 2).map((a) => Date.parse(a.next_retry_at!) - Date.parse(a.started_at));
    assert.ok(waits[0]! >= FAST_RETRY.baseDelayMs && waits[1]! >= 2 * FAST_RETRY.baseDelayMs, `waits ${waits}`);
  });

  it('error_type 2 is a permanent error: the IPN is marked failed and never retried', async () => {
    const { purchase, orderId } = await payWithReplies(emulator, ['permanent']);
    const delivery = (await orderView(emulator, purchase)).deliveries[0]!;
    assert.equal(delivery.status, 'failed');
    assert.equal(delivery.next_attempt_at, null);
    assert.deepEqual(
      delivery.log.map((a) => a.outcome),
      ['failed'],
    );
    assert.match(delivery.log[0]!.error ?? '', /error_type 2, error_code 43/);
    assert.equal(merchant.ipnsFor(orderId).length, 1);
  });

  it('no reply within the timeout, HTTP 500 and unreadable replies are retried', async () => {
    const { purchase } = await payWithReplies(emulator, ['hang', 'http500', 'unreadable', 'ok']);
    const delivery = await settledDelivery(emulator, purchase);
    assert.equal(delivery.status, 'delivered');
    const [hang, http500, unreadable, ok] = delivery.log;
    assert.equal(hang?.outcome, 'retry');
    assert.equal(hang?.http_status, null);
    assert.match(hang?.error ?? '', /no reply within 1000 ms/);
    assert.equal(http500?.outcome, 'retry');
    assert.equal(http500?.http_status, 500);
    assert.equal(http500?.error, 'HTTP 500');
    assert.equal(unreadable?.outcome, 'retry');
    assert.equal(unreadable?.http_status, 200);
    assert.match(unreadable?.error ?? '', /unusable merchant reply/);
    assert.equal(ok?.outcome, 'delivered');
  });

  it('gives up after maxAttempts', async () => {
    const { purchase, orderId } = await payWithReplies(emulator, ['temporary', 'temporary', 'temporary', 'temporary']);
    const delivery = await settledDelivery(emulator, purchase);
    assert.equal(delivery.status, 'failed');
    assert.deepEqual(
      delivery.log.map((a) => a.outcome),
      ['retry', 'retry', 'retry', 'gave_up'],
    );
    assert.equal(merchant.ipnsFor(orderId).length, 4);
  });

  it('retries a confirm URL that refuses connections', async () => {
    const v1Order = order(account, merchant, { url: { confirm: 'http://127.0.0.1:9/confirm', return: `${merchant.url}/return` } });
    const { purchase } = await payOverHttp(emulator, sealOrder(account, v1Order), APPROVED);
    const delivery = await settledDelivery(emulator, purchase);
    assert.equal(delivery.status, 'failed');
    assert.ok(
      delivery.log.every((a) => a.http_status === null && a.error === 'ECONNREFUSED'),
      JSON.stringify(delivery.log),
    );
  });
});

describe('NETOPIA v1 emulator: the retry queue is durable', () => {
  it('a new emulator instance over the same database resumes the pending retries of a stopped one', async () => {
    // A database of its own, so that no other emulator's worker can deliver the retry.
    const own = await openTestStore();
    try {
      // Long enough that the first instance is surely stopped (and the second started) before the retry is due.
      const first = await startEmulator(own, { ...FAST_RETRY, baseDelayMs: 3000 });
      let purchase: string;
      let orderId: string;
      try {
        const seller = await createAccount(first);
        merchant.addKey(seller.private_key);
        const sent = order(seller, merchant);
        merchant.script(sent.id, ['temporary']);
        orderId = sent.id;
        ({ purchase } = await payOverHttp(first, sealOrder(seller, sent), APPROVED));
      } finally {
        await first.stop();
      }
      const second = await startEmulator(own, FAST_RETRY);
      try {
        const pending = (await orderView(second, purchase)).deliveries[0]!;
        assert.equal(pending.attempts, 1);
        const delivery = await settledDelivery(second, purchase);
        assert.equal(delivery.status, 'delivered');
        assert.deepEqual(
          delivery.log.map((a) => a.outcome),
          ['retry', 'delivered'],
        );
        assert.equal(merchant.ipnsFor(orderId).length, 2);
      } finally {
        await second.stop();
      }
    } finally {
      await own.close();
    }
  });

  it('two emulator processes sharing one database send each due retry once (SKIP LOCKED claims)', async () => {
    const own = await openTestStore();
    const a = await startEmulator(own, FAST_RETRY);
    const b = await startEmulator(own, FAST_RETRY);
    try {
      const seller = await createAccount(a);
      merchant.addKey(seller.private_key);
      const orders = Array.from({ length: 6 }, () => order(seller, merchant));
      const purchases: string[] = [];
      for (const [i, sent] of orders.entries()) {
        merchant.script(sent.id, ['temporary']);
        purchases.push((await payOverHttp(i % 2 === 0 ? a : b, sealOrder(seller, sent), APPROVED)).purchase);
      }
      for (const purchase of purchases) {
        const delivery = await settledDelivery(b, purchase);
        assert.equal(delivery.status, 'delivered');
        assert.deepEqual(
          delivery.log.map((x) => x.outcome),
          ['retry', 'delivered'],
        );
      }
      for (const sent of orders) assert.equal(merchant.ipnsFor(sent.id).length, 2, sent.id);
    } finally {
      await a.stop();
      await b.stop();
      await own.close();
    }
  });
});
