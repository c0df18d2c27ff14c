import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { volt } from '../../../src/connectors/volt/connector.js';
import { tokenRefreshAt, voltAmount } from '../../../src/connectors/volt/api.js';
import { MoneyError } from '../../../src/core/money.js';
import { ValidationError } from '../../../src/core/validation.js';
import { attemptCode, legacyUniqueReferenceFor, uniqueReferenceFor } from '../../../src/connectors/volt/references.js';
import type { AttemptReference, InboundResponse, OperationError, PaymentRedirectInput, RefundRequest } from '../../../src/connectors/types.js';
import { config } from './fixtures.js';

const NOW = new Date('2024-05-01T10:00:00Z');
const json = (status: number, body: unknown): InboundResponse => ({
  status,
  headers: { 'content-type': 'application/json' },
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

const input: PaymentRedirectInput = {
  reference: 'att_01jd8w6f0q7c2mbm3x4y5z6a7b',
  amount: 12345,
  currency: 'EUR',
  description: 'Invoice 42',
  billing: { first_name: 'Ana', last_name: 'Pop', email: 'Ana.Pop@Example.com' },
  metadata: {},
  merchantOrderId: 'INV-2026/042',
  urls: { notify: 'https://hub.example/notify/volt/con_1', return: 'https://hub.example/pay/pay_1/return', cancel: 'https://hub.example/pay/pay_1/cancel' },
  now: NOW,
};

describe('Volt authentication: OAuth2 password grant, POST /oauth form-urlencoded', () => {
  it('sends grant_type=password, client_id, client_secret, username, password', () => {
    const req = volt.authenticate!.request(config());
    assert.equal(req.method, 'POST');
    assert.equal(req.url, 'https://api.sandbox.volt.io/oauth');
    assert.equal(req.headers['content-type'], 'application/x-www-form-urlencoded;charset=UTF-8');
    assert.deepEqual(Object.fromEntries(new URLSearchParams(req.body)), {
      grant_type: 'password',
      client_id: '6b288347-5d6f-4596-b620-72dc7a88de86',
      client_secret: 'caaf7b1b-1024-4212-a55f-041007917ba8',
      username: 'd0d6a7bd-780a-498a-95e4-402ec1b89c44@volt.io',
      password: 'secretpassword',
    });
  });

  it('{access_token, token_type: bearer, expires_in: 3600} → refresh 300 s before expiry', () => {
    const token = volt.authenticate!.response(
      config(),
      json(200, { access_token: 'abc.def', token_type: 'bearer', expires_in: 3600, refresh_token: 'r' }),
      NOW,
    );
    assert.deepEqual(token, { token: 'abc.def', refreshAt: new Date('2024-05-01T10:55:00Z') });
  });

  it('refresh math: a tenth of the lifetime early, at most five minutes; five minutes assumed when absent', () => {
    const at = (expiresIn: unknown) => (tokenRefreshAt(NOW, expiresIn).getTime() - NOW.getTime()) / 1000;
    assert.equal(at(86_400), 86_100);
    assert.equal(at(3600), 3300);
    assert.equal(at(600), 540);
    assert.equal(at(60), 54);
    assert.equal(at(1), 1);
    assert.equal(at(undefined), 270);
    assert.equal(at(-5), 270);
    assert.equal(at('3600'), 270);
  });

  it('auth errors {code, message} are refusals, not retried', () => {
    const e = volt.authenticate!.response(config(), json(401, { code: 401, message: 'Invalid username and password combination' }), NOW);
    assert.deepEqual(e, {
      kind: 'error',
      failure: 'refused',
      code: 'invalid_credentials',
      message: 'Volt refused the API user credentials (HTTP 401): Invalid username and password combination',
    });
    const bad = volt.authenticate!.response(config(), json(400, { code: 400, message: 'Invalid grant_type parameter or parameter missing' }), NOW);
    assert.equal('kind' in bad && bad.failure, 'refused');
    assert.equal('kind' in bad && bad.code, 'volt_400');
  });

  it('server trouble (unknown) and rate limits (unreachable) are not refusals; a 200 without a token is not usable', () => {
    for (const status of [500, 502, 503, 429]) {
      const e = volt.authenticate!.response(config(), json(status, '<html>busy</html>'), NOW);
      assert.equal('kind' in e && e.failure, status === 429 ? 'unreachable' : 'unknown', String(status));
    }
    const e = volt.authenticate!.response(config(), json(200, { token_type: 'bearer' }), NOW);
    assert.equal('kind' in e && e.code, 'invalid_response');
  });
});

describe('Volt start: POST /v2/payments with the bearer token', () => {
  it('the request body', () => {
    const req = volt.start!.request(config(), input, 'tok123');
    assert.equal(req.url, 'https://api.sandbox.volt.io/v2/payments');
    assert.equal(req.headers.authorization, 'Bearer tok123');
    assert.equal(req.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(req.body!), {
      currencyCode: 'EUR',
      amount: 12345,
      type: 'OTHER',
      uniqueReference: `INV2026042${attemptCode(input.reference)}`,
      merchantInternalReference: input.reference,
      shopper: { reference: 'ana.pop@example.com', email: 'Ana.Pop@Example.com', firstName: 'Ana', lastName: 'Pop' },
      notificationUrl: 'https://hub.example/notify/volt/con_1',
      paymentSuccessUrl: 'https://hub.example/pay/pay_1/return',
      paymentFailureUrl: 'https://hub.example/pay/pay_1/return',
      paymentPendingUrl: 'https://hub.example/pay/pay_1/return',
      paymentCancelUrl: 'https://hub.example/pay/pay_1/cancel',
    });
    assert.match(JSON.parse(req.body!).uniqueReference, /^[A-Za-z0-9]{1,18}$/);
  });

  it("uniqueReference shows the merchant's order id, never the attempt id; each attempt of a payment has its own", () => {
    const unique = (i: PaymentRedirectInput) => JSON.parse(volt.start!.request(config(), i, 't').body!).uniqueReference as string;
    assert.match(unique(input), /^INV2026042[A-Z2-7]{8}$/);
    assert.doesNotMatch(unique(input), /att/i);
    assert.notEqual(unique({ ...input, reference: 'att_01jd8w6f0q7c2mbm3x4y5z6a7c' }), unique(input));
    // An order id with nothing Volt takes leaves the attempt's code alone; a long one is cut to fit 18.
    assert.equal(unique({ ...input, merchantOrderId: '#/-' }), attemptCode(input.reference));
    assert.equal(unique({ ...input, merchantOrderId: undefined }), attemptCode(input.reference));
    assert.equal(unique({ ...input, merchantOrderId: 'Ordine-0123456789-lunga' }), `Ordine0123${attemptCode(input.reference)}`);
  });

  it('the payment type is a connection setting (GOODS)', () => {
    assert.equal(JSON.parse(volt.start!.request(config({ settings: { payment_type: 'GOODS' } }), input, 't').body!).type, 'GOODS');
  });

  it("201 {id, checkoutUrl} → the payer is sent to checkoutUrl; Volt's id is the processor reference", () => {
    const result = volt.start!.response(
      config(),
      input,
      json(201, { id: '93b85f3c-76eb-4316-b1ae-f3370ddc59bc', checkoutUrl: 'https://checkout.volt.io/93b85f3c-76eb-4316-b1ae-f3370ddc59bc?auth=eyJ0eXAi' }),
    );
    assert.deepEqual(result, {
      kind: 'redirect',
      redirect: { method: 'GET', url: 'https://checkout.volt.io/93b85f3c-76eb-4316-b1ae-f3370ddc59bc?auth=eyJ0eXAi', fields: {} },
      processorReference: '93b85f3c-76eb-4316-b1ae-f3370ddc59bc',
    });
  });

  it('{exception: {code, message, errorList}} is a refusal with every property named', () => {
    const result = volt.start!.response(
      config(),
      input,
      json(400, {
        exception: {
          code: 400,
          message: 'Validation exception',
          errorList: [
            { property: 'shopper.email', message: 'This value is not a valid email address.' },
            { property: 'amount', message: 'Too large' },
          ],
        },
      }),
    );
    assert.deepEqual(result, {
      kind: 'error',
      failure: 'refused',
      code: 'volt_400',
      message: 'Volt refused the payment (HTTP 400): Validation exception: shopper.email: This value is not a valid email address.; amount: Too large',
    });
  });

  it('a 5xx may have been carried out (unknown), a 429 was not (unreachable); a 201 without checkoutUrl is not usable (unknown)', () => {
    assert.equal((volt.start!.response(config(), input, json(503, '')) as OperationError).failure, 'unknown');
    assert.equal((volt.start!.response(config(), input, json(429, '')) as OperationError).failure, 'unreachable');
    assert.equal((volt.start!.response(config(), input, json(401, { exception: { code: 401, message: 'expired' } })) as { code: string }).code, 'unauthorized');
    assert.deepEqual(
      [volt.start!.response(config(), input, json(201, { id: 'x' })) as OperationError].map((e) => [e.failure, e.code]),
      [['unknown', 'invalid_response']],
    );
    assert.equal(
      (volt.start!.response(config(), input, json(201, { id: 'x', checkoutUrl: 'javascript:alert(1)' })) as { code: string }).code,
      'invalid_response',
    );
  });
});

describe('Volt amounts: integers "in 1/100 units (pence, cents etc)"', () => {
  it('EUR minor units go as they are', () => {
    assert.equal(voltAmount(1, 'EUR'), 1);
    assert.equal(voltAmount(10050, 'EUR'), 10050);
  });
  it('currencies without two decimals cannot be sent (JPY, KWD), nor zero or fractional amounts', () => {
    assert.throws(() => voltAmount(1000, 'JPY'), MoneyError);
    assert.throws(() => voltAmount(1000, 'KWD'), MoneyError);
    assert.throws(() => voltAmount(0, 'EUR'), MoneyError);
    assert.throws(() => voltAmount(1.5, 'EUR'), MoneyError);
  });
  it('the capabilities offer EUR only, with refunds', () => {
    assert.deepEqual(volt.capabilities.currencies, ['EUR']);
    assert.equal(volt.capabilities.refunds, 'partial');
  });
});

describe('Volt status check: GET /payments/{id}', () => {
  const attempt: AttemptReference = {
    reference: input.reference,
    processorReference: '662384a0-9734-4556-a8bd-3f1e774e2a3c',
    amount: 12345,
    currency: 'EUR',
    merchantOrderId: 'INV-2026/042',
  };
  const documented = {
    id: '662384a0-9734-4556-a8bd-3f1e774e2a3c',
    active: true,
    createdAt: '2019-08-24T14:15:22Z',
    currency: { id: 'EUR', name: 'Euro', decimal: 2, active: true },
    amount: 12345,
    type: 'OTHER',
    uniqueReference: uniqueReferenceFor(input.reference, 'INV-2026/042'),
    merchantInternalReference: input.reference,
    bank: {
      id: '662384a0-9734-4556-a8bd-3f1e774e2a3c',
      name: 'Barclays Bank',
      country: { id: 'GB', name: 'United Kingdom' },
      officialName: 'Barclays Bank Plc',
    },
    status: 'COMPLETED',
    statusUpdates: [
      { createdAt: '2023-02-16T09:42:37+00:00', newStatus: 'NEW_PAYMENT' },
      { createdAt: '2023-02-16T09:44:01+00:00', newStatus: 'COMPLETED' },
    ],
  };

  it('the request', () => {
    assert.deepEqual(volt.statusCheck!.request(config(), attempt, 'tok'), {
      method: 'GET',
      url: 'https://api.sandbox.volt.io/payments/662384a0-9734-4556-a8bd-3f1e774e2a3c',
      headers: { accept: 'application/json', authorization: 'Bearer tok' },
    });
    const lost = volt.statusCheck!.request(config(), { ...attempt, processorReference: null }, 'tok');
    // Without Volt's id, the uniqueReference is made again from the attempt id and the payment's order id.
    assert.equal(lost.url, `https://api.sandbox.volt.io/payments?uniqueReference=INV2026042${attemptCode(input.reference)}`);
  });

  it("the documented answer: COMPLETED, paid by Barclays Bank, shares the notification's dedupe key", () => {
    assert.deepEqual(volt.statusCheck!.response(config(), attempt, json(200, documented)), {
      outcome: { kind: 'captured', amount: 12345 },
      dedupeKey: '662384a0-9734-4556-a8bd-3f1e774e2a3c:COMPLETED',
      processorReference: '662384a0-9734-4556-a8bd-3f1e774e2a3c',
      summary: {
        action: 'completed',
        processor_status: 'COMPLETED',
        payment_method: 'Barclays Bank',
        processor_time: '2023-02-16T09:44:01.000Z',
        volt_payment_id: '662384a0-9734-4556-a8bd-3f1e774e2a3c',
        amount: 12345,
      },
    });
  });

  it('the flat failure statuses fail the attempt; NEW_PAYMENT says nothing yet', () => {
    const at = (status: string) =>
      (volt.statusCheck!.response(config(), attempt, json(200, { ...documented, status, bank: null })) as { outcome: unknown }).outcome;
    assert.deepEqual(at('REFUSED_BY_BANK'), { kind: 'failed', code: 'REFUSED_BY_BANK', message: "The payment was refused by the shopper's bank" });
    assert.deepEqual(at('NEW_PAYMENT'), { kind: 'informational' });
    assert.deepEqual(at('DELAYED_AT_BANK'), { kind: 'pending_review' });
  });

  it('the list answer (found by uniqueReference) works the same', () => {
    const report = volt.statusCheck!.response(config(), { ...attempt, processorReference: null }, json(200, [documented]));
    assert.equal((report as { dedupeKey: string }).dedupeKey, '662384a0-9734-4556-a8bd-3f1e774e2a3c:COMPLETED');
    assert.equal((volt.statusCheck!.response(config(), { ...attempt, processorReference: null }, json(200, [])) as { code: string }).code, 'not_found');
  });

  it("of a list, only this attempt's payment counts: its code at the end, its attempt id echoed", () => {
    const lost = { ...attempt, processorReference: null };
    const other = { ...documented, id: 'aaaaaaaa-9734-4556-a8bd-3f1e774e2a3c', uniqueReference: uniqueReferenceFor('att_other', 'INV-2026/042') };
    const echoOther = { ...documented, id: 'bbbbbbbb-9734-4556-a8bd-3f1e774e2a3c', merchantInternalReference: 'att_other' };
    const found = volt.statusCheck!.response(config(), lost, json(200, [other, echoOther, documented])) as { processorReference: string };
    assert.equal(found.processorReference, documented.id);
    assert.equal((volt.statusCheck!.response(config(), lost, json(200, [other, echoOther])) as { code: string }).code, 'not_found');
  });

  it('a payment opened before the order id was shown (the earlier 18-character uniqueReference) is still this attempt', () => {
    const legacy = { ...documented, uniqueReference: legacyUniqueReferenceFor(input.reference) };
    assert.equal((volt.statusCheck!.response(config(), attempt, json(200, legacy)) as { dedupeKey: string }).dedupeKey, `${documented.id}:COMPLETED`);
  });

  it('another payment, another amount or currency is a mismatch, never a report', () => {
    const code = (body: object) => (volt.statusCheck!.response(config(), attempt, json(200, body)) as { code?: string }).code;
    assert.equal(code({ ...documented, amount: 99 }), 'mismatch');
    assert.equal(code({ ...documented, currency: { id: 'GBP' } }), 'mismatch');
    assert.equal(code({ ...documented, uniqueReference: 'OTHER' }), 'mismatch');
    assert.equal(code({ ...documented, uniqueReference: uniqueReferenceFor('att_other', 'INV-2026/042') }), 'mismatch');
    assert.equal(code({ ...documented, merchantInternalReference: 'att_other' }), 'mismatch');
    assert.equal(code({ ...documented, id: 'another-id' }), 'mismatch');
    assert.equal(
      (volt.statusCheck!.response(config(), attempt, json(404, { exception: { code: 404, message: 'Payment not found' } })) as { code: string }).code,
      'not_found',
    );
  });
});

describe('Volt refund: POST /payments/{id}/request-refund {amount, externalReference}', () => {
  const refund: RefundRequest = {
    reference: input.reference,
    processorReference: '662384a0-9734-4556-a8bd-3f1e774e2a3c',
    amount: 12345,
    currency: 'EUR',
    refundId: 'rfd_01',
    refundAmount: 2345,
    refundedBefore: 1000,
    now: NOW,
  };

  it("the request: this refund's amount, the total after it in externalReference, an idempotency key", () => {
    const req = volt.refund!.request(config(), refund, 'tok');
    assert.equal(req.url, 'https://api.sandbox.volt.io/payments/662384a0-9734-4556-a8bd-3f1e774e2a3c/request-refund');
    assert.match(req.headers['idempotency-key']!, /^[0-9a-f-]{36}$/);
    const body = JSON.parse(req.body!);
    assert.equal(body.amount, 2345);
    assert.match(body.externalReference, /^T3345R[A-Z2-7]{16}$/);
  });

  it('{id} → requested (Volt confirms by notification); a repeat of the same idempotency key is the same refund', () => {
    const report = volt.refund!.response(config(), refund, json(201, { id: '026cefa0-a174-4ca3-a1e6-533a129d9c32' }));
    assert.deepEqual((report as { outcome: unknown }).outcome, { kind: 'informational' });
    assert.equal((report as { summary: Record<string, unknown> }).summary.volt_refund_id, '026cefa0-a174-4ca3-a1e6-533a129d9c32');
    const repeat = volt.refund!.response(
      config(),
      refund,
      json(403, { exception: { code: 403, message: 'A resource has already been created with this idempotency key.' } }),
    );
    assert.equal((repeat as { dedupeKey: string }).dedupeKey, (report as { dedupeKey: string }).dedupeKey);
  });

  it('refusals ("Payouts are not enabled", 422) are not retried', () => {
    const e = volt.refund!.response(config(), refund, json(403, { exception: { code: 403, message: 'Payouts are not enabled for your account' } }));
    assert.deepEqual(e, {
      kind: 'error',
      failure: 'refused',
      code: 'volt_403',
      message: 'Volt refused the refund (HTTP 403): Payouts are not enabled for your account',
    });
  });
});

describe('Volt connection: credentials and settings', () => {
  it('all five credentials are required; secrets are redacted', () => {
    assert.throws(
      () => volt.parseCredentials({ client_id: 'a' }),
      (e: unknown) =>
        e instanceof ValidationError &&
        e.errors.map((f) => f.field).join() === 'credentials.client_secret,credentials.username,credentials.password,credentials.notification_secret',
    );
    const c = config().credentials;
    assert.equal(JSON.stringify(c).includes('secretpassword'), false);
    assert.deepEqual(volt.publicCredentialFields(c), {
      client_id: '6b288347-5d6f-4596-b620-72dc7a88de86',
      username: 'd0d6a7bd-780a-498a-95e4-402ec1b89c44@volt.io',
    });
  });
  it('settings: defaults, and field errors', () => {
    assert.deepEqual(volt.parseSettings(undefined), { payment_type: 'OTHER', notification_max_age_seconds: 3600 });
    assert.throws(
      () => volt.parseSettings({ payment_type: 'CARD', notification_max_age_seconds: 5, endpoint: 'ftp://x' }),
      (e: unknown) => e instanceof ValidationError && e.errors.length === 3,
    );
  });
  it('endpoints: live, sandbox, the emulator', () => {
    assert.equal(volt.defaultEndpoint('live', ''), 'https://api.volt.io');
    assert.equal(volt.defaultEndpoint('sandbox', ''), 'https://api.sandbox.volt.io');
    assert.equal(volt.defaultEndpoint('emulator', 'http://127.0.0.1:8080/'), 'http://127.0.0.1:8080/sandbox/volt');
  });
});
