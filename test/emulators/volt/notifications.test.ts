import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { VerifiedNotification } from '../../../src/connectors/types.js';
import { VOLT_NOTIFICATION_ERRORS } from '../../../src/connectors/volt/notification.js';
import { uniqueReferenceFor } from '../../../src/connectors/volt/references.js';
import { volt } from '../../../src/connectors/volt/connector.js';
import { SANDBOX_BANKS } from '../../../emulators/volt/banks.js';
import { openTestStore } from '../../support/store.js';
import { eventually } from '../../support/eventually.js';
import type { Store } from '../../../src/store/store.js';
import {
  accessToken,
  api,
  connection,
  createAccount,
  FAST_RETRY,
  Merchant,
  openPayment,
  payOverHttp,
  startEmulator,
  type Account,
  type Emulator,
  type ReceivedNotification,
} from './harness.js';

const [FRENCH, GERMAN, ITALIAN, DUTCH] = SANDBOX_BANKS as [
  (typeof SANDBOX_BANKS)[0],
  (typeof SANDBOX_BANKS)[0],
  (typeof SANDBOX_BANKS)[0],
  (typeof SANDBOX_BANKS)[0],
];

let store: Store;
let emulator: Emulator;
let merchant: Merchant;
let account: Account;
let token: string;

before(async () => {
  store = await openTestStore();
  emulator = await startEmulator(store);
  merchant = await Merchant.start();
  account = await createAccount(emulator, { name: 'Ceramiche Rossi' });
  merchant.trust(emulator, account);
  token = await accessToken(emulator, account);
});

after(async () => {
  await emulator?.stop();
  await merchant?.close();
  await store?.close();
});

function verified(n: ReceivedNotification): VerifiedNotification {
  assert.equal(n.verdict.ok, true, n.verdict.ok ? '' : n.verdict.reason);
  return n.verdict as VerifiedNotification;
}

/** The notification about `paymentId` whose detailed status is `status`, once it has arrived. */
function arrival(paymentId: string, status: string): Promise<ReceivedNotification> {
  return merchant.waitFor(() => merchant.about(paymentId).find((n) => n.body.includes(`"detailedStatus":"${status}"`)), `${status} for ${paymentId}`);
}

async function log(paymentId: string) {
  return (await api(emulator, 'GET', `/notifications?payment=${paymentId}`, { token })).json as Array<{
    status: string;
    attempts: number;
    body: string;
    log: Array<{ attempt: number; httpStatus: number | null; outcome: string; timed: string }>;
  }>;
}

describe('Volt emulator notifications: signed as Volt signs them, verified by the connector', () => {
  it('authorised at the bank: COMPLETED reaches the merchant before the payer is back, with the documented headers', async () => {
    const created = await openPayment(emulator, account, merchant, token, { amount: 2500 });
    const paid = await payOverHttp(created.checkoutUrl, GERMAN.id, 'authorise');
    assert.equal(paid.status, 303);
    const completed = merchant.about(created.id).find((n) => n.body.includes('"detailedStatus":"COMPLETED"'));
    assert.ok(completed, 'the first attempt is made before the redirect');
    assert.equal(completed.headers['user-agent'], 'Volt/2.0');
    assert.match(String(completed.headers['x-volt-timed']), /^\d{10}$/);
    assert.match(String(completed.headers['x-volt-signed']), /^[0-9a-f]{64}$/);
    assert.equal(completed.headers['content-type'], 'application/json');
    assert.equal(completed.replied, 200);
    const v = verified(completed);
    assert.equal(v.reference, created.reference);
    assert.deepEqual(v.outcome, { kind: 'captured', amount: 2500 });
    assert.equal(v.processorReference, created.id);
    assert.equal(v.summary.payment_method, 'Sandbox Sparkasse');
    assert.deepEqual(JSON.parse(completed.body), {
      payment: created.id,
      reference: uniqueReferenceFor(created.reference),
      merchantInternalReference: created.reference,
      amount: 2500,
      status: 'COMPLETED',
      detailedStatus: 'COMPLETED',
      groupName: 'Sandbox Sparkasse',
    });

    // "We will always send a parameter called volt in the query string": base64 of {id, uniqueReference, status}.
    const back = new URL(paid.location);
    assert.equal(`${back.origin}${back.pathname}`, `${merchant.url}/return`);
    assert.equal(back.searchParams.get('order'), created.reference);
    assert.deepEqual(JSON.parse(Buffer.from(back.searchParams.get('volt')!, 'base64').toString('utf8')), {
      id: created.id,
      uniqueReference: uniqueReferenceFor(created.reference),
      status: 'COMPLETED',
    });

    const pending = verified(await arrival(created.id, 'BANK_REDIRECT'));
    assert.deepEqual(pending.outcome, { kind: 'informational' });
  });

  it('accented bank names are sent \\u-escaped, and the escaped bytes are what is signed', async () => {
    const created = await openPayment(emulator, account, merchant, token);
    await payOverHttp(created.checkoutUrl, FRENCH.id, 'authorise');
    const n = await arrival(created.id, 'COMPLETED');
    assert.match(n.body, /"groupName":"Banque D\\u00e9mo Soci\\u00e9t\\u00e9"/);
    assert.equal(verified(n).summary.payment_method, 'Banque Démo Société');
  });

  it('refused by the bank: FAILED / REFUSED_BY_BANK, and the payer goes to the failure URL', async () => {
    const created = await openPayment(emulator, account, merchant, token);
    const paid = await payOverHttp(created.checkoutUrl, ITALIAN.id, 'refuse');
    const v = verified(await arrival(created.id, 'REFUSED_BY_BANK'));
    assert.deepEqual(v.outcome, { kind: 'failed', code: 'REFUSED_BY_BANK', message: "The payment was refused by the shopper's bank" });
    assert.equal(JSON.parse(Buffer.from(new URL(paid.location).searchParams.get('volt')!, 'base64').toString()).status, 'FAILED');
    assert.ok(paid.location.startsWith(`${merchant.url}/return?`));
  });

  it('cancelled at the bank or on the checkout: CANCELLED_BY_USER, to the cancel URL', async () => {
    const atBank = await openPayment(emulator, account, merchant, token);
    const paid = await payOverHttp(atBank.checkoutUrl, DUTCH.id, 'cancel');
    assert.ok(paid.location.startsWith(`${merchant.url}/cancelled?`));
    assert.deepEqual(verified(await arrival(atBank.id, 'CANCELLED_BY_USER')).outcome, {
      kind: 'failed',
      code: 'CANCELLED_BY_USER',
      message: 'The shopper cancelled the payment',
    });

    const onCheckout = await openPayment(emulator, account, merchant, token);
    const url = new URL(onCheckout.checkoutUrl);
    const res = await fetch(`${url.origin}${url.pathname}/cancel`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `auth=${url.searchParams.get('auth')}`,
    });
    assert.equal(res.status, 303);
    await arrival(onCheckout.id, 'CANCELLED_BY_USER');
  });

  it('left at the bank, or never finished before the checkout expires: ABANDONED_BY_USER', async () => {
    const left = await openPayment(emulator, account, merchant, token);
    await payOverHttp(left.checkoutUrl, GERMAN.id, 'abandon');
    assert.deepEqual(verified(await arrival(left.id, 'ABANDONED_BY_USER')).outcome, {
      kind: 'failed',
      code: 'ABANDONED_BY_USER',
      message: 'The shopper abandoned the payment',
    });

    const quick = await startEmulator(store, { checkoutTtlMs: 150 });
    try {
      const forgotten = await openPayment(quick, account, merchant, token);
      const n = await arrival(forgotten.id, 'ABANDONED_BY_USER');
      assert.equal(verified(n).reference, forgotten.reference);
      assert.equal((await api(quick, 'GET', `/payments/${forgotten.id}`, { token })).json.status, 'ABANDONED_BY_USER');
      const late = await fetch(forgotten.checkoutUrl);
      assert.equal(late.status, 409, 'the checkout of an abandoned payment is closed');
    } finally {
      await quick.stop();
    }
  });

  it('a refund is confirmed by a refund_confirmed notification carrying the total the hub asked for', async () => {
    const created = await openPayment(emulator, account, merchant, token, { amount: 1000 });
    await payOverHttp(created.checkoutUrl, GERMAN.id, 'authorise');
    const config = connection(emulator, account);
    const refund = {
      reference: created.reference,
      processorReference: created.id,
      amount: 1000,
      currency: 'EUR',
      refundId: `rfd_${created.reference}`,
      refundAmount: 250,
      refundedBefore: 100,
      now: new Date(),
    };
    const request = volt.refund!.request(config, refund, token);
    assert.equal((await fetch(request.url, { method: 'POST', headers: request.headers, body: request.body })).status, 201);
    const n = await merchant.waitFor(() => merchant.about(created.id).find((r) => r.body.includes('REFUND_CONFIRMED')), 'the refund notification');
    assert.equal(n.headers['x-volt-type'], 'refund_confirmed');
    const v = verified(n);
    assert.deepEqual(v.outcome, { kind: 'refunded', totalRefunded: 350 });
    assert.deepEqual(v.expected, { currency: 'EUR' });
    assert.equal(v.reference, created.reference);
  });

  it("Fuzebox's test notification ({}) is verified by the connector and answered 200", async () => {
    const res = await api(emulator, 'POST', '/notifications/test', { token, body: { url: merchant.notifyUrl(account) } });
    assert.equal(res.status, 200);
    assert.equal(res.json.delivered, true);
    assert.equal(res.json.httpStatus, 200);
    const test = merchant.received.find((n) => n.body === '{}')!;
    assert.equal(!test.verdict.ok && test.verdict.code, VOLT_NOTIFICATION_ERRORS.testNotification);
  });
});

describe('Volt emulator notifications: retried until a 2xx (5 s, 30 s, 3, 10, 15 min — scaled down here)', () => {
  it('two 500s, then the merchant answers: three attempts, each signed afresh', async () => {
    const created = await openPayment(emulator, account, merchant, token);
    merchant.script([created.id, '"detailedStatus":"REFUSED_BY_BANK"'], ['http500', 'http500']);
    await payOverHttp(created.checkoutUrl, DUTCH.id, 'refuse');
    const delivered = await merchant.waitFor(() => {
      const replies = merchant.about(created.id).filter((n) => n.body.includes('REFUSED_BY_BANK'));
      return replies.some((n) => n.replied === 200) ? replies : undefined;
    }, 'the third attempt');
    assert.deepEqual(
      delivered.map((n) => n.replied),
      [500, 500, 200],
    );
    for (const n of delivered) verified(n);
    // The merchant records the third attempt before its 200 reaches the emulator, which then stores the outcome.
    const refused = await eventually(
      async () => {
        const entry = (await log(created.id)).find((n) => n.body.includes('REFUSED_BY_BANK'));
        return entry?.status === 'delivered' ? entry : undefined;
      },
      10_000,
      'the third attempt stored as delivered',
    );
    assert.deepEqual(
      refused.log.map((a) => a.outcome),
      ['retry', 'retry', 'delivered'],
    );
    assert.deepEqual(
      refused.log.map((a) => a.httpStatus),
      [500, 500, 200],
    );
    // Each attempt carries its own X-Volt-Timed, and the signature that goes with it.
    assert.deepEqual(
      delivered.map((n) => n.headers['x-volt-timed']),
      refused.log.map((a) => a.timed),
    );
  });

  it('a merchant that never answers 2xx is given up after six attempts', async () => {
    const created = await openPayment(emulator, account, merchant, token);
    merchant.script([created.id, '"detailedStatus":"COMPLETED"'], Array(6).fill('http500'));
    await payOverHttp(created.checkoutUrl, DUTCH.id, 'authorise');
    const final = await merchant.waitFor(() => {
      const n = merchant.about(created.id).filter((r) => r.body.includes('"detailedStatus":"COMPLETED"'));
      return n.length >= 6 ? n : undefined;
    }, 'six attempts');
    assert.equal(final.length, 6);
    let record: Awaited<ReturnType<typeof log>>[number] | undefined;
    for (let i = 0; i < 100 && record?.status !== 'failed'; i++) {
      record = (await log(created.id)).find((n) => n.body.includes('"detailedStatus":"COMPLETED"'));
      if (record?.status !== 'failed') await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(record?.status, 'failed');
    assert.equal(record?.attempts, 6);
    assert.equal(record?.log.at(-1)?.outcome, 'gave_up');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(merchant.about(created.id).filter((r) => r.body.includes('"detailedStatus":"COMPLETED"')).length, 6, 'nothing after giving up');
  });

  it('the queue is durable: another emulator process on the same database delivers what the first could not', async () => {
    const first = await startEmulator(store, { notificationRetry: { ...FAST_RETRY, delaysMs: [400, 400, 400, 400, 400] } });
    const created = await openPayment(first, account, merchant, token);
    merchant.script([created.id, '"detailedStatus":"COMPLETED"'], ['http500']);
    await payOverHttp(created.checkoutUrl, GERMAN.id, 'authorise');
    await first.stop();
    const second = await startEmulator(store);
    try {
      const ok = await merchant.waitFor(
        () => merchant.about(created.id).find((n) => n.body.includes('"detailedStatus":"COMPLETED"') && n.replied === 200),
        'the retry from the second process',
      );
      verified(ok);
    } finally {
      await second.stop();
    }
  });
});
