import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { multisafepay } from '../../../src/connectors/multisafepay/connector.js';
import type { ConnectionConfig, OperationReport, PaymentRedirectInput } from '../../../src/connectors/types.js';
import type { Store } from '../../../src/store/store.js';
import { openTestStore } from '../../support/store.js';
import { api, createAccount, createOrder, Merchant, newOrderId, orderBody, startEmulator, type Emulator } from './harness.js';
import { Secret } from '../../../src/security/secret.js';

let store: Store;
let emulator: Emulator;
let merchant: Merchant;
let apiKey: string;
let otherKey: string;

before(async () => {
  store = await openTestStore();
  emulator = await startEmulator(store);
  merchant = await Merchant.start();
  apiKey = (await createAccount(emulator, 'Bar Centrale')).api_key;
  otherKey = (await createAccount(emulator, 'Another shop')).api_key;
  merchant.addKey(apiKey);
});

after(async () => {
  await merchant?.close();
  await emulator?.stop();
  await store?.close();
});

const INVALID_KEY = { success: false, data: {}, error_code: 1032, error_info: 'Invalid API key' };

describe('MultiSafepay emulator: test accounts', () => {
  it('POST /accounts hands out a website API key (40 letters and digits), different each time', async () => {
    const a = await createAccount(emulator);
    const b = await createAccount(emulator);
    assert.match(a.api_key, /^[A-Za-z0-9]{40}$/);
    assert.notEqual(a.api_key, b.api_key);
  });

  it('the connector opens emulator accounts at its accountPath and reads the API key from them', async () => {
    assert.equal(multisafepay.emulator!.accountPath, '/sandbox/multisafepay/accounts');
    const response = await fetch(emulator.base.replace(/\/sandbox\/multisafepay$/, '') + multisafepay.emulator!.accountPath, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"name":"via connector"}',
    });
    assert.equal(response.status, 201);
    const credentials = multisafepay.emulator!.credentialsFrom(await response.json());
    assert.deepEqual(Object.keys(credentials), ['api_key']);
    assert.doesNotThrow(() => multisafepay.parseCredentials(credentials));
  });
});

describe('MultiSafepay emulator: authentication with the website API key (header or query parameter)', () => {
  it('the api_key header and the ?api_key= query parameter both work', async () => {
    assert.equal((await createOrder(emulator, apiKey, orderBody(merchant))).payment_url.startsWith(`${emulator.base}/connect/`), true);
    const response = await fetch(`${emulator.api}/orders?api_key=${apiKey}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(orderBody(merchant)),
    });
    assert.equal(response.status, 200);
    assert.equal(((await response.json()) as { success: boolean }).success, true);
  });

  it('a wrong, missing or other-format key gets error 1032 "Invalid API key" with HTTP 401', async () => {
    for (const key of ['x'.repeat(40), undefined, '', `${apiKey}x`]) {
      const answer = await api(emulator, 'POST', '/orders', key, orderBody(merchant));
      assert.equal(answer.status, 401);
      assert.deepEqual(answer.json, INVALID_KEY);
    }
    const get = await api(emulator, 'GET', '/orders/anything', 'wrong-key-000000000000000000000000000000');
    assert.deepEqual([get.status, get.json], [401, INVALID_KEY]);
  });
});

describe('MultiSafepay emulator: "Create order" (POST /orders)', () => {
  it('accepts the documented payment page example verbatim and answers {order_id, payment_url, session_id}', async () => {
    const body = {
      type: 'redirect',
      order_id: newOrderId('my-order-id'),
      currency: 'EUR',
      amount: 37485,
      description: 'Test Order Description',
      payment_options: {
        notification_method: 'POST',
        notification_url: 'https://www.example.com/webhooks/payment',
        redirect_url: 'https://www.example.com/order/success',
        cancel_url: 'https://www.example.com/order/failed',
      },
    };
    const answer = await api(emulator, 'POST', '/orders', apiKey, body);
    assert.equal(answer.status, 200);
    assert.equal(answer.json.success, true);
    assert.deepEqual(Object.keys(answer.json.data).sort(), ['order_id', 'payment_url', 'session_id']);
    assert.equal(answer.json.data.order_id, body.order_id);
    assert.match(answer.json.data.session_id, /^[A-Za-z0-9]{35}$/);
    assert.equal(answer.json.data.payment_url, `${emulator.base}/connect/${answer.json.data.session_id}/?lang=en_US`);
  });

  const invalid: Array<[string, (b: Record<string, any>) => void, number]> = [
    ['an amount in decimals (1001 Invalid amount)', (b) => (b.amount = 25.5), 1001],
    ['a zero amount (1001)', (b) => (b.amount = 0), 1001],
    ['an unknown currency (1002 Invalid currency)', (b) => (b.currency = 'EURO'), 1002],
    ['no order_id (1016 Missing data)', (b) => delete b.order_id, 1016],
    ['an order_id over 50 characters (1006)', (b) => (b.order_id = 'x'.repeat(51)), 1006],
    ['no description (1008 Invalid description)', (b) => delete b.description, 1008],
    ['a description over 200 characters (1008)', (b) => (b.description = 'd'.repeat(201)), 1008],
    ['var1 over 100 characters (1010 Invalid variable)', (b) => (b.var1 = 'v'.repeat(101)), 1010],
    ['a three-letter country (1018 Invalid country code)', (b) => (b.customer.country = 'ITA'), 1018],
    ['a gateway this website does not offer (1023 Gateway unavailable)', (b) => (b.gateway = 'IDEAL'), 1023],
    ['a direct order (1000)', (b) => (b.type = 'direct'), 1000],
    ['seconds_active beyond a year (1016)', (b) => (b.seconds_active = 31_536_001), 1016],
    ['a notification_url that is no URL (1016)', (b) => (b.payment_options.notification_url = 'not a url'), 1016],
  ];
  for (const [what, change, code] of invalid) {
    it(`refuses ${what}`, async () => {
      const body = orderBody(merchant);
      change(body);
      const answer = await api(emulator, 'POST', '/orders', apiKey, body);
      assert.equal(answer.status, 400);
      assert.equal(answer.json.success, false);
      assert.deepEqual(answer.json.data, {});
      assert.equal(answer.json.error_code, code);
      assert.equal(typeof answer.json.error_info, 'string');
    });
  }

  it('refuses an order_id used before on the same website (1006), not on another website', async () => {
    const body = orderBody(merchant);
    await createOrder(emulator, apiKey, body);
    const again = await api(emulator, 'POST', '/orders', apiKey, body);
    assert.deepEqual([again.status, again.json], [400, { success: false, data: {}, error_code: 1006, error_info: 'Invalid transaction ID' }]);
    assert.equal((await api(emulator, 'POST', '/orders', otherKey, body)).status, 200);
  });

  it('answers malformed JSON, a non-object body and an unknown path in its own envelope, never a 500', async () => {
    for (const body of ['{"order_id":', '[1,2]', '"text"', 'null']) {
      const answer = await api(emulator, 'POST', '/orders', apiKey, body);
      assert.equal(answer.status, 400, body);
      assert.equal(answer.json.success, false);
      assert.equal(answer.json.error_code, 1016);
    }
    const unknown = await api(emulator, 'GET', '/nothing/here', apiKey);
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.success, false);
  });
});

describe('MultiSafepay emulator: "Get order" (GET /orders/{order_id})', () => {
  it('answers the order object: initialized, amounts in minor units, customer and payment options as sent', async () => {
    const body = orderBody(merchant, { var1: 'att_ref', amount: 1234, currency: 'GBP' });
    await createOrder(emulator, apiKey, body);
    const answer = await api(emulator, 'GET', `/orders/${body.order_id}`, apiKey);
    assert.equal(answer.status, 200);
    const data = answer.json.data;
    assert.equal(data.order_id, body.order_id);
    assert.equal(data.status, 'initialized');
    assert.equal(data.financial_status, 'initialized');
    assert.equal(data.amount, 1234);
    assert.equal(data.currency, 'GBP');
    assert.equal(data.amount_refunded, 0);
    assert.equal(data.var1, 'att_ref');
    assert.equal(typeof data.transaction_id, 'number');
    assert.match(data.created, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
    assert.deepEqual([data.customer.locale, data.customer.first_name, data.customer.email], ['it_IT', 'Mario', 'mario@example.it']);
    assert.equal(data.payment_details.type, null);
  });

  it("an unknown order, or another website's order, is 1006 with HTTP 404", async () => {
    const body = orderBody(merchant);
    await createOrder(emulator, apiKey, body);
    for (const [key, id] of [
      [apiKey, 'no-such-order'],
      [otherKey, body.order_id],
    ] as const) {
      const answer = await api(emulator, 'GET', `/orders/${id}`, key);
      assert.deepEqual([answer.status, answer.json], [404, { success: false, data: {}, error_code: 1006, error_info: 'Invalid transaction ID' }]);
    }
  });
});

describe('MultiSafepay emulator: the connector against it', () => {
  const config = (): ConnectionConfig<{ api_key: Secret<string> }, { locale: string }> => ({
    credentials: { api_key: new Secret(apiKey) },
    settings: { locale: 'en_US' },
    environment: 'emulator',
    endpoint: multisafepay.defaultEndpoint('emulator', emulator.base.replace(/\/sandbox\/multisafepay$/, '')),
  });
  const input = (): PaymentRedirectInput => ({
    reference: newOrderId('att'),
    amount: 4990,
    currency: 'EUR',
    description: 'Abbonamento mensile',
    billing: { first_name: 'Giulia', last_name: 'Bianchi', email: 'giulia@example.it', country: 'IT' },
    metadata: {},
    urls: { notify: merchant.webhookUrl, return: `${merchant.url}/return` },
    expiresAt: new Date(Date.now() + 3600_000),
    language: 'it',
    now: new Date(),
  });

  async function send(request: { method: string; url: string; headers: Record<string, string>; body?: string }) {
    const response = await fetch(request.url, { method: request.method, headers: request.headers, body: request.body });
    return { status: response.status, headers: {}, body: await response.text() };
  }

  it('start → a payment link; statusCheck → initialized (informational), then the link is known', async () => {
    const i = input();
    const started = multisafepay.start!.response(config(), i, await send(multisafepay.start!.request(config(), i)));
    assert.equal(started.kind, 'redirect');
    if (started.kind !== 'redirect') return;
    assert.equal(started.redirect.method, 'GET');
    assert.match(started.redirect.url, new RegExp(`^${emulator.base}/connect/[A-Za-z0-9]{35}/\\?lang=it_IT$`));
    assert.equal(started.processorReference, i.reference);
    const attempt = { reference: i.reference, processorReference: started.processorReference!, amount: i.amount, currency: i.currency };
    const report = multisafepay.statusCheck!.response(config(), attempt, await send(multisafepay.statusCheck!.request(config(), attempt))) as OperationReport;
    assert.deepEqual(report.outcome, { kind: 'informational' });
    assert.equal(report.summary.processor_status, 'initialized');
    const seconds = (await api(emulator, 'GET', `/orders/${i.reference}`, apiKey)).json.data;
    assert.equal(seconds.status, 'initialized');
  });

  it('a connection with a wrong key gets the 1032 refusal', async () => {
    const bad = { ...config(), credentials: { api_key: new Secret('Q'.repeat(40)) } };
    const result = multisafepay.start!.response(bad, input(), await send(multisafepay.start!.request(bad, input())));
    assert.deepEqual(result, { kind: 'error', failure: 'refused', code: 'multisafepay_1032', message: 'MultiSafepay error 1032: Invalid API key' });
  });
});
