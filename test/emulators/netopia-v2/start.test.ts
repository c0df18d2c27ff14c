import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { openTestStore } from '../../support/store.js';
import type { Store } from '../../../src/store/store.js';
import { api, createAccount, Merchant, newOrderId, startBody, startEmulator, type Account, type Emulator } from './harness.js';

let store: Store;
let emulator: Emulator;
let merchant: Merchant;
let account: Account;
let other: Account;

before(async () => {
  store = await openTestStore();
  emulator = await startEmulator(store);
  merchant = await Merchant.start();
  account = await createAccount(emulator, { name: 'Ceainăria Test' });
  other = await createAccount(emulator, { name: 'Other shop' });
  merchant.trust(account.notify_public_key_pem, account.pos_signature);
});

after(async () => {
  await emulator?.stop();
  await merchant?.close();
  await store?.close();
});

const start = (body: unknown, key: string | undefined = account.api_key) => api(emulator, '/payment/card/start', body, key);

describe('NETOPIA v2 emulator: sandbox accounts (API key + POS signature) and the platform key', () => {
  it('POST /accounts hands out an API key and a POS signature XXXX-XXXX-XXXX-XXXX-XXXX', () => {
    assert.match(account.pos_signature, /^[A-Z0-9]{4}(-[A-Z0-9]{4}){4}$/);
    assert.match(account.api_key, /^[A-Za-z0-9_-]{40,}$/);
    assert.equal(account.name, 'Ceainăria Test');
    assert.notEqual(account.api_key, other.api_key);
    assert.notEqual(account.pos_signature, other.pos_signature);
  });

  it('one platform key for all accounts, published at GET /platform-key.pem as an RSA-2048 SPKI PEM', async () => {
    const response = await fetch(`${emulator.base}/platform-key.pem`);
    assert.equal(response.status, 200);
    const pem = await response.text();
    assert.match(pem, /^-----BEGIN PUBLIC KEY-----/);
    assert.equal(pem, account.notify_public_key_pem);
    assert.equal(pem, other.notify_public_key_pem);
    const key = createPublicKey(pem);
    assert.equal(key.asymmetricKeyType, 'rsa');
    assert.equal(key.asymmetricKeyDetails?.modulusLength, 2048);
  });

  it('the platform key survives a restart: it is generated once and stored', async () => {
    const second = await startEmulator(store);
    try {
      const pem = await (await fetch(`${second.base}/platform-key.pem`)).text();
      assert.equal(pem, account.notify_public_key_pem);
    } finally {
      await second.stop();
    }
  });
});

describe('NETOPIA v2 emulator: "Authorization: <API key>" — the raw key, no Bearer (§2.2)', () => {
  for (const [name, header] of [
    ['no Authorization header', undefined],
    ['an unknown key', 'z-2vhwpEKiI7WSe1OjU9BR-vaMgoEVEDDbaToPXkVmXKDojL3afQ4uxItEw='],
    ['the right key behind "Bearer "', 'Bearer KEY'],
  ] as const) {
    it(`${name} → HTTP 401 with the gateway's flat {code, message}`, async () => {
      const auth = header === 'Bearer KEY' ? `Bearer ${account.api_key}` : header;
      const answer = await api(emulator, '/payment/card/start', startBody(account, merchant), auth);
      assert.equal(answer.status, 401, answer.text);
      assert.equal(answer.json.code, '401');
      assert.equal(typeof answer.json.message, 'string');
      assert.equal(answer.json.error, undefined);
    });
  }

  it("a POS signature that is not the key's own account → 400 naming order.posSignature", async () => {
    const answer = await start(startBody(other, merchant));
    assert.equal(answer.status, 400, answer.text);
    assert.equal(answer.json.error.code, '48');
    assert.deepEqual(
      answer.json.error.details.map((d: { field: string }) => d.field),
      ['order.posSignature'],
    );
  });
});

describe('NETOPIA v2 emulator: hosted payment page (no card data) → error.code "101" + payment.paymentURL', () => {
  it('answers 101, status 1, an ntpID and the hosted page URL, with the amount in major units', async () => {
    const body = startBody(account, merchant, { amount: 159.9 });
    const answer = await start(body);
    assert.equal(answer.status, 200, answer.text);
    assert.match(answer.contentType, /^application\/json/);
    assert.deepEqual(answer.json.customerAction, {});
    assert.equal(answer.json.error.code, '101');
    assert.equal(answer.json.payment.status, 1);
    assert.equal(answer.json.payment.amount, 159.9);
    assert.equal(answer.json.payment.currency, 'RON');
    assert.match(answer.json.payment.ntpID, /^\d+$/);
    assert.ok(answer.json.payment.paymentURL.startsWith(`${emulator.base}/ui/card/`));
    const page = await fetch(answer.json.payment.paymentURL);
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /<label for="card_number">Număr card<\/label>/);
    assert.match(html, /159\.90 RON/);
    assert.match(html, /Ceainăria Test/);
  });

  it('instrument fields sent empty, as PHP samples do, still mean the hosted page', async () => {
    const body = startBody(account, merchant);
    body.payment.instrument = { type: 'card', account: '', expMonth: 0, expYear: 0, secretCode: '', token: '' };
    const answer = await start(body);
    assert.equal(answer.json.error.code, '101', answer.text);
  });
});

describe('NETOPIA v2 emulator: validation — every wrong field in {error:{code,message,details:[{code,message,field}]}}, HTTP 400, never a 500', () => {
  it('lists each problem with its field', async () => {
    const body = startBody(account, merchant);
    delete body.order.orderID;
    body.order.amount = 0;
    body.order.currency = 'XXX';
    body.order.billing = { email: 'not-an-email', firstName: '', lastName: 'Pop', country: 'RO' };
    body.config.notifyUrl = '/relative/ipn';
    body.config.redirectUrl = 'ftp://example.com/back';
    body.config.language = 'rom';
    body.order.data = { ok: 'yes', count: 3 };
    const answer = await start(body);
    assert.equal(answer.status, 400, answer.text);
    assert.equal(answer.json.error.code, '48');
    const fields = answer.json.error.details.map((d: { field: string }) => d.field).sort();
    assert.deepEqual(fields, [
      'config.language',
      'config.notifyUrl',
      'config.redirectUrl',
      'order.amount',
      'order.billing.city',
      'order.billing.country',
      'order.billing.email',
      'order.billing.firstName',
      'order.currency',
      'order.data.count',
      'order.orderID',
    ]);
    for (const detail of answer.json.error.details) {
      assert.ok(detail.code === 'required' || detail.code === 'invalid');
      assert.equal(typeof detail.message, 'string');
    }
  });

  const amountCases: Array<[string, unknown]> = [
    ['zero', 0],
    ['negative', -5],
    ['more than two decimals', 10.005],
    ['0.1 + 0.2 (float noise is not rounded away)', 0.1 + 0.2],
    ['a string', '25.00'],
    ['too large', 1e21],
  ];
  for (const [name, amount] of amountCases) {
    it(`order.amount ${name} → 400 on order.amount`, async () => {
      const answer = await start(startBody(account, merchant, { amount }));
      assert.equal(answer.status, 400, answer.text);
      assert.deepEqual(
        answer.json.error.details.map((d: { field: string }) => d.field),
        ['order.amount'],
      );
    });
  }

  it('amounts convert exactly: 0.3, 1234.56 and 200 come back as the same numbers', async () => {
    for (const amount of [0.3, 1234.56, 200]) {
      const answer = await start(startBody(account, merchant, { amount }));
      assert.equal(answer.status, 200, answer.text);
      assert.equal(answer.json.payment.amount, amount);
    }
  });

  it('card data, when some is sent, must be complete and well formed', async () => {
    const body = startBody(account, merchant, { card: { account: '9900 0048', expMonth: 13, expYear: 30, secretCode: '1' } });
    delete body.payment.instrument.secretCode;
    const answer = await start(body);
    assert.equal(answer.status, 400, answer.text);
    assert.deepEqual(answer.json.error.details.map((d: { field: string }) => d.field).sort(), [
      'payment.instrument.account',
      'payment.instrument.expMonth',
      'payment.instrument.secretCode',
    ]);
  });

  it('bodies that are not a start request at all', async () => {
    for (const body of ['{"order":', 'null', '[]', '"text"', '{}']) {
      const answer = await start(body);
      assert.equal(answer.status, 400, `${body}: ${answer.text}`);
      assert.equal(answer.json.error.code, '48');
    }
    const form = await fetch(`${emulator.base}/payment/card/start`, {
      method: 'POST',
      headers: { authorization: account.api_key, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'order=1',
    });
    assert.equal(form.status, 400);
    assert.equal(((await form.json()) as any).error.code, '48');
  });

  it('text JSON can carry but no database can store (NUL, half a surrogate pair) is a field error, not a crash', async () => {
    for (const patch of [
      (b: any) => (b.order.orderID = 'a\u0000b'),
      (b: any) => (b.order.billing.city = '\ud800'),
      (b: any) => (b.order.data = { 'k\u0000': 'v' }),
    ]) {
      const body = startBody(account, merchant);
      patch(body);
      const answer = await start(body);
      assert.equal(answer.status, 400, answer.text);
      assert.equal(answer.json.error.code, '48');
    }
    const account2 = await fetch(`${emulator.base}/accounts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'a\u0000' }),
    });
    assert.equal(account2.status, 400);
  });

  it("a body over 1 MiB → 413 in NETOPIA's shape; an unknown API path → 404 in NETOPIA's shape", async () => {
    const big = await start(JSON.stringify({ pad: 'x'.repeat(1024 * 1024 + 10) }));
    assert.equal(big.status, 413);
    assert.equal(big.json.error.code, '48');
    const missing = await api(emulator, '/payment/card/finish', {}, account.api_key);
    assert.equal(missing.status, 404);
    assert.equal(missing.json.error.code, '48');
  });
});

describe('NETOPIA v2 emulator: reusing an orderID — same price → the open order or "56 Order closed", other price → "99"', () => {
  it('an order still waiting on its page answers 101 again with the same ntpID and paymentURL', async () => {
    const body = startBody(account, merchant);
    const first = await start(body);
    const again = await start(body);
    assert.equal(again.status, 200, again.text);
    assert.equal(again.json.error.code, '101');
    assert.equal(again.json.payment.ntpID, first.json.payment.ntpID);
    assert.equal(again.json.payment.paymentURL, first.json.payment.paymentURL);
  });

  it('another amount or currency for the same orderID → 99 "There is another order with a different price"', async () => {
    const orderId = newOrderId();
    const first = await start(startBody(account, merchant, { orderId, amount: 25 }));
    for (const changed of [{ amount: 26 }, { currency: 'EUR' }]) {
      const answer = await start(startBody(account, merchant, { orderId, ...changed }));
      assert.equal(answer.status, 400, answer.text);
      assert.equal(answer.json.error.code, '99');
      assert.equal(answer.json.payment.ntpID, first.json.payment.ntpID);
      assert.equal(answer.json.payment.amount, 25);
    }
  });

  it('orderIDs belong to a POS: another account may use the same orderID', async () => {
    const orderId = newOrderId();
    const mine = await start(startBody(account, merchant, { orderId }));
    const theirs = await start(startBody(other, merchant, { orderId }), other.api_key);
    assert.equal(theirs.json.error.code, '101', theirs.text);
    assert.notEqual(theirs.json.payment.ntpID, mine.json.payment.ntpID);
  });
});
