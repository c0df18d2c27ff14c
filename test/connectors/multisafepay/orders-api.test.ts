import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { multisafepay, type MultisafepayCredentials, type MultisafepaySettings } from '../../../src/connectors/multisafepay/connector.js';
import { localeFor, orderIdFor, referenceFor, secondsActive } from '../../../src/connectors/multisafepay/create-order.js';
import { toMspAmount } from '../../../src/connectors/multisafepay/order.js';
import type {
  AttemptReference,
  ConnectionConfig,
  InboundResponse,
  OperationReport,
  PaymentRedirectInput,
  RefundRequest,
} from '../../../src/connectors/types.js';
import { ValidationError } from '../../../src/core/validation.js';
import {
  CREATE_ORDER_EXAMPLE,
  CREATE_ORDER_RESPONSE,
  ERROR_1006,
  ERROR_1032,
  GET_ORDER_COMPLETED,
  REFUND_REQUEST_EXAMPLE,
  REFUND_RESPONSE,
} from './docs-examples.js';
import { Secret } from '../../../src/security/secret.js';

const API_KEY = '8HHhGgRWrA3O7NswjmgwyH7buPPCGnR5AkwAQyqI';
const config: ConnectionConfig<MultisafepayCredentials, MultisafepaySettings> = {
  credentials: { api_key: new Secret(API_KEY) },
  settings: { locale: 'en_US' },
  environment: 'sandbox',
  endpoint: multisafepay.defaultEndpoint('sandbox', 'http://unused'),
};

const now = new Date('2025-03-01T10:00:00Z');
const input = (over: Partial<PaymentRedirectInput> = {}): PaymentRedirectInput => ({
  reference: 'att_01jnbq7h0c8m6e2yk4f9t3wz5x',
  amount: 37485,
  currency: 'EUR',
  description: 'Test Order Description',
  billing: {
    first_name: 'Mario',
    last_name: 'Rossi',
    email: 'mario.rossi@example.it',
    phone: '+39 02 1234567',
    address: 'Via Roma 1',
    city: 'Milano',
    zip_code: '20121',
    country: 'it',
  },
  metadata: {},
  urls: {
    notify: 'https://hub.example.com/notify/multisafepay/con_1',
    return: 'https://hub.example.com/pay/pay_1/return',
    cancel: 'https://hub.example.com/pay/pay_1/cancel',
  },
  expiresAt: new Date('2025-03-08T10:00:00Z'),
  language: 'it',
  now,
  ...over,
});

const response = (status: number, body: string): InboundResponse => ({ status, headers: { 'content-type': 'application/json' }, body });

describe('MultiSafepay credentials and settings', () => {
  it('the website API key is required, and trimmed', () => {
    assert.equal(multisafepay.parseCredentials({ api_key: ` ${API_KEY}\n` }).api_key.reveal(), API_KEY);
    for (const raw of [{}, { api_key: '' }, { api_key: 'short' }, { api_key: 'has space inside the key 123' }, null]) {
      assert.throws(
        () => multisafepay.parseCredentials(raw),
        (e: unknown) => e instanceof ValidationError && e.errors[0]!.field === 'credentials.api_key',
      );
    }
    assert.deepEqual(multisafepay.publicCredentialFields({ api_key: new Secret(API_KEY) }), {}, 'the API key is a secret: nothing of it is shown back');
  });

  it('settings: locale (default en_US) and endpoint', () => {
    assert.deepEqual(multisafepay.parseSettings(undefined), { locale: 'en_US' });
    assert.deepEqual(multisafepay.parseSettings({ locale: 'nl_NL', endpoint: 'http://127.0.0.1:9/x' }), { locale: 'nl_NL', endpoint: 'http://127.0.0.1:9/x' });
    assert.throws(() => multisafepay.parseSettings({ locale: 'english' }), ValidationError);
    assert.throws(() => multisafepay.parseSettings({ endpoint: 'ftp://x' }), ValidationError);
  });

  it('endpoints: api.multisafepay.com (live), testapi.multisafepay.com (sandbox), the emulator', () => {
    assert.equal(multisafepay.defaultEndpoint('live', 'http://h'), 'https://api.multisafepay.com/v1/json');
    assert.equal(multisafepay.defaultEndpoint('sandbox', 'http://h'), 'https://testapi.multisafepay.com/v1/json');
    assert.equal(multisafepay.defaultEndpoint('emulator', 'http://127.0.0.1:8080'), 'http://127.0.0.1:8080/sandbox/multisafepay/v1/json');
  });

  it('currencies are those onpay.md lists for MultiSafepay', () => {
    assert.deepEqual([...multisafepay.capabilities.currencies], ['EUR', 'GBP']);
    assert.equal(multisafepay.capabilities.refunds, 'partial');
  });
});

describe('MultiSafepay "Create order" (POST /orders, type paymentlink)', () => {
  it('is the documented payment page request with type paymentlink, customer and seconds_active', () => {
    const request = multisafepay.start!.request(config, input());
    assert.equal(request.method, 'POST');
    assert.equal(request.url, 'https://testapi.multisafepay.com/v1/json/orders');
    assert.equal(request.headers.api_key, API_KEY);
    assert.equal(request.headers['content-type'], 'application/json');
    const body = JSON.parse(request.body!);
    // Every field of the documented example, in the same meaning.
    for (const key of Object.keys(CREATE_ORDER_EXAMPLE)) assert.ok(key in body, `${key} is sent`);
    assert.deepEqual(Object.keys(body.payment_options).sort(), [...Object.keys(CREATE_ORDER_EXAMPLE.payment_options), 'close_window'].sort());
    assert.deepEqual(body, {
      type: 'paymentlink',
      order_id: 'att_01jnbq7h0c8m6e2yk4f9t3wz5x',
      currency: 'EUR',
      amount: 37485,
      description: 'Test Order Description',
      payment_options: {
        notification_url: 'https://hub.example.com/notify/multisafepay/con_1',
        notification_method: 'POST',
        redirect_url: 'https://hub.example.com/pay/pay_1/return',
        cancel_url: 'https://hub.example.com/pay/pay_1/cancel',
        close_window: false,
      },
      customer: {
        locale: 'it_IT',
        first_name: 'Mario',
        last_name: 'Rossi',
        email: 'mario.rossi@example.it',
        phone: '+39 02 1234567',
        address1: 'Via Roma 1',
        zip_code: '20121',
        city: 'Milano',
        country: 'IT',
      },
      seconds_active: 7 * 86_400,
    });
  });

  it('without a cancel URL the customer returns to the return URL; without an expiry MultiSafepay keeps its 30 days', () => {
    const body = JSON.parse(multisafepay.start!.request(config, input({ urls: { notify: 'https://h/n', return: 'https://h/r' }, expiresAt: undefined })).body!);
    assert.equal(body.payment_options.cancel_url, 'https://h/r');
    assert.equal('seconds_active' in body, false);
    assert.equal('days_active' in body, false);
  });

  it('seconds_active: whole seconds up to the deadline, within 1 … 31 536 000', () => {
    assert.equal(secondsActive(new Date(now.getTime() + 1500), now), 2);
    assert.equal(secondsActive(new Date(now.getTime() - 5000), now), 1);
    assert.equal(secondsActive(new Date(now.getTime() + 400 * 86_400_000), now), 31_536_000);
  });

  it('locale from the customer language, else the connection setting', () => {
    assert.equal(localeFor('it', 'en_US'), 'it_IT');
    assert.equal(localeFor('NL', 'en_US'), 'nl_NL');
    assert.equal(localeFor(undefined, 'de_DE'), 'de_DE');
    assert.equal(localeFor('xx', 'en_GB'), 'en_GB');
  });

  it('description is cut to 200 characters; an email above 64 characters is left out', () => {
    const body = JSON.parse(
      multisafepay.start!.request(
        config,
        input({ description: 'é'.repeat(250), billing: { first_name: 'A', last_name: 'B', email: `${'a'.repeat(60)}@example.com` } }),
      ).body!,
    );
    assert.equal(Array.from(body.description).length, 200);
    assert.equal('email' in body.customer, false);
  });

  it('amount is the minor units MultiSafepay wants: 10 EUR = 1000, 10 GBP = 1000, 10 JPY = 10', () => {
    assert.equal(toMspAmount(1000, 'EUR'), 1000);
    assert.equal(toMspAmount(1000, 'GBP'), 1000);
    assert.equal(toMspAmount(10, 'JPY'), 10);
    assert.throws(() => toMspAmount(10.5, 'EUR'));
    assert.throws(() => toMspAmount(10, 'XYZ'));
  });

  it('order_id: the attempt id; a reference over 50 characters maps to a stable id and travels in var1', () => {
    assert.equal(orderIdFor('att_01jnbq7h0c8m6e2yk4f9t3wz5x'), 'att_01jnbq7h0c8m6e2yk4f9t3wz5x');
    const long = 'x'.repeat(80);
    const id = orderIdFor(long);
    assert.equal(id.length <= 50, true);
    assert.equal(orderIdFor(long), id);
    const body = JSON.parse(multisafepay.start!.request(config, input({ reference: long })).body!);
    assert.equal(body.order_id, id);
    assert.equal(body.var1, long);
    assert.equal(referenceFor(id, long), long);
    assert.equal(referenceFor(id, 'someone else'), id, 'var1 counts only when it hashes to the order id');
  });

  it("the merchant's own order reference travels in var2 (the order_id stays the attempt id), cut to 100 characters", () => {
    const body = JSON.parse(multisafepay.start!.request(config, input({ merchantOrderId: ' SHOP-1042 ' })).body!);
    assert.equal(body.var2, 'SHOP-1042');
    assert.notEqual(body.order_id, 'SHOP-1042');
    assert.equal(JSON.parse(multisafepay.start!.request(config, input()).body!).var2, undefined);
    const long = JSON.parse(multisafepay.start!.request(config, input({ merchantOrderId: '\u{1F600}'.repeat(60) })).body!);
    assert.equal(long.var2, '\u{1F600}'.repeat(50));
    const blank = JSON.parse(multisafepay.start!.request(config, input({ merchantOrderId: 'SHOP-7', description: ' ' })).body!);
    assert.equal(blank.description, 'Order SHOP-7');
  });

  it('the documented response sends the customer to payment_url', () => {
    const result = multisafepay.start!.response(config, input(), response(200, CREATE_ORDER_RESPONSE));
    assert.deepEqual(result, {
      kind: 'redirect',
      redirect: { method: 'GET', url: 'https://testpayv2.multisafepay.com/connect/82Az5nicWa3Xb3qsNuuYcAHshvO43HjUmyv/?lang=nl_NL', fields: {} },
      processorReference: 'redirect-order-0001',
    });
  });

  it('error 1032 "Invalid API key" and 1006 are refusals; 429 was not processed; a 5xx or an unreadable 2xx may have been', () => {
    assert.deepEqual(multisafepay.start!.response(config, input(), response(401, ERROR_1032)), {
      kind: 'error',
      failure: 'refused',
      code: 'multisafepay_1032',
      message: 'MultiSafepay error 1032: Invalid API key',
    });
    assert.deepEqual(multisafepay.start!.response(config, input(), response(400, ERROR_1006)), {
      kind: 'error',
      failure: 'refused',
      code: 'multisafepay_1006',
      message: 'MultiSafepay error 1006: Invalid transaction ID',
    });
    const outage = multisafepay.start!.response(config, input(), response(503, '<html>Service Unavailable</html>'));
    assert.deepEqual(outage.kind === 'error' && [outage.failure, outage.code], ['unknown', 'http_503']);
    const throttled = multisafepay.start!.response(config, input(), response(429, '{"success":false,"error_code":1000,"error_info":"Too many requests"}'));
    assert.equal(throttled.kind === 'error' && throttled.failure, 'unreachable');
    const garbage = multisafepay.start!.response(config, input(), response(200, '{"success":true,"data":{}}'));
    assert.deepEqual(garbage.kind === 'error' && [garbage.failure, garbage.code], ['unknown', 'invalid_response']);
  });
});

describe('MultiSafepay "Get order" (GET /orders/{order_id}) as the status check', () => {
  const attempt: AttemptReference = { reference: 'example_order_123456', processorReference: 'example_order_123456', amount: 1000, currency: 'EUR' };

  it('asks for the order by its id with the API key', () => {
    const request = multisafepay.statusCheck!.request(config, attempt);
    assert.deepEqual(request, {
      method: 'GET',
      url: 'https://testapi.multisafepay.com/v1/json/orders/example_order_123456',
      headers: { accept: 'application/json', api_key: API_KEY },
    });
  });

  it('the documented completed order is a capture; its PSP id beyond 2^53 is kept exactly', () => {
    const report = multisafepay.statusCheck!.response(config, attempt, response(200, GET_ORDER_COMPLETED)) as OperationReport;
    assert.deepEqual(report.outcome, { kind: 'captured', amount: 1000 });
    assert.equal(report.summary.transaction_id, '17472052901237122');
    assert.equal(report.summary.payment_method, 'IDEAL');
    assert.equal(report.summary.processor_time, '2025-05-14T08:50:32');
    assert.equal(report.dedupeKey, 'example_order_123456:17472052901237122:completed:completed');
  });

  it('an unknown order is error 1006', () => {
    const result = multisafepay.statusCheck!.response(config, attempt, response(404, ERROR_1006));
    assert.equal('kind' in result && result.kind === 'error' && result.code, 'multisafepay_1006');
  });
});

describe('MultiSafepay "Refund order" (POST /orders/{order_id}/refunds)', () => {
  const refund: RefundRequest = {
    reference: 'att_1',
    processorReference: 'att_1',
    amount: 1000,
    currency: 'EUR',
    refundId: 'ref_01jnbqa',
    refundAmount: 500,
    refundedBefore: 0,
    now,
  };

  it('sends currency, amount and description like the documented request, with our refund id as refund_order_id', () => {
    const request = multisafepay.refund!.request(config, refund);
    assert.equal(request.url, 'https://testapi.multisafepay.com/v1/json/orders/att_1/refunds');
    const body = JSON.parse(request.body!);
    for (const key of ['currency', 'amount', 'description', 'refund_order_id']) assert.ok(key in REFUND_REQUEST_EXAMPLE && key in body, key);
    assert.deepEqual(body, { currency: 'EUR', amount: 500, description: 'Refund ref_01jnbqa', refund_order_id: 'ref_01jnbqa' });
  });

  it('never sends an amount of 0 (which MultiSafepay takes as "refund everything")', () => {
    assert.throws(() => multisafepay.refund!.request(config, { ...refund, refundAmount: 0 }), RangeError);
  });

  it('the documented answer is the refund total so far: partial, then full', () => {
    const first = multisafepay.refund!.response(config, refund, response(200, REFUND_RESPONSE)) as OperationReport;
    assert.deepEqual(first.outcome, { kind: 'refunded', totalRefunded: 500 });
    assert.equal(first.summary.processor_status, 'partial_refunded');
    assert.equal(first.summary.refund_transaction_id, '6303074');
    assert.equal(first.dedupeKey, 'att_1:refunded:500');
    const second = multisafepay.refund!.response(config, { ...refund, refundedBefore: 500 }, response(200, REFUND_RESPONSE)) as OperationReport;
    assert.deepEqual(second.outcome, { kind: 'refunded', totalRefunded: 1000 });
    assert.equal(second.summary.processor_status, 'refunded');
  });

  it('a refusal (1034 "Cannot refund transaction") is an error', () => {
    const result = multisafepay.refund!.response(
      config,
      refund,
      response(400, '{"success":false,"data":{},"error_code":1034,"error_info":"Cannot refund transaction"}'),
    );
    assert.equal('kind' in result && result.kind === 'error' && result.failure === 'refused' && result.code, 'multisafepay_1034');
  });
});
