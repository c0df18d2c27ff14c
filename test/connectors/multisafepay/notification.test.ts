import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { notificationSignature, signNotification, verifyAuthHeader } from '../../../src/connectors/multisafepay/auth-header.js';
import { multisafepay, MSP_NOTIFY_ERRORS, type MultisafepayCredentials, type MultisafepaySettings } from '../../../src/connectors/multisafepay/connector.js';
import type { ConnectionConfig, InboundNotification, NotificationVerdict } from '../../../src/connectors/types.js';
import { WEBHOOK_API_KEY, WEBHOOK_AUTH, WEBHOOK_PAYLOAD, WEBHOOK_SIGNATURE, WEBHOOK_TIMESTAMP } from './docs-examples.js';
import { Secret } from '../../../src/security/secret.js';

const config = (apiKey = WEBHOOK_API_KEY): ConnectionConfig<MultisafepayCredentials, MultisafepaySettings> => ({
  credentials: { api_key: new Secret(apiKey) },
  settings: { locale: 'en_US' },
  environment: 'sandbox',
  endpoint: 'https://testapi.multisafepay.com/v1/json',
});

const nowSeconds = () => Math.floor(Date.now() / 1000);

function notification(body: string | Buffer, auth: string | string[] | undefined, contentType = 'application/json'): InboundNotification {
  return {
    body: Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8'),
    contentType,
    headers: { 'content-type': contentType, ...(auth === undefined ? {} : { auth }) },
  };
}

function rejected(verdict: NotificationVerdict): { code: number; reason: string } {
  assert.equal(verdict.ok, false, 'the notification must be rejected');
  return verdict as { code: number; reason: string };
}

describe('MultiSafepay webhook: "Validate the request" (docs example, step by step)', () => {
  it('step 1-2: the Auth header base64-decodes to "<timestamp>:<HMAC signature>"', () => {
    assert.equal(Buffer.from(WEBHOOK_AUTH, 'base64').toString('utf8'), `${WEBHOOK_TIMESTAMP}:${WEBHOOK_SIGNATURE}`);
  });

  it('step 3-4: SHA512 HMAC of "timestamp:payload" keyed with the API key is the documented signature', () => {
    assert.equal(notificationSignature(WEBHOOK_API_KEY, String(WEBHOOK_TIMESTAMP), WEBHOOK_PAYLOAD), WEBHOOK_SIGNATURE);
    assert.equal(signNotification(WEBHOOK_API_KEY, WEBHOOK_PAYLOAD, WEBHOOK_TIMESTAMP), WEBHOOK_AUTH);
  });

  it('the documented request verifies at its own time', () => {
    const at = new Date((WEBHOOK_TIMESTAMP + 5) * 1000);
    assert.deepEqual(verifyAuthHeader(WEBHOOK_AUTH, Buffer.from(WEBHOOK_PAYLOAD), WEBHOOK_API_KEY, at), { ok: true, timestamp: WEBHOOK_TIMESTAMP });
  });

  it('the API key is trimmed first, as the PHP SDK does', () => {
    const at = new Date(WEBHOOK_TIMESTAMP * 1000);
    assert.equal(verifyAuthHeader(WEBHOOK_AUTH, Buffer.from(WEBHOOK_PAYLOAD), ` ${WEBHOOK_API_KEY}\n`, at).ok, true);
  });

  it('the HMAC is over the raw bytes: re-serialising the JSON (the payload has one stray space) breaks it', () => {
    const reserialised = JSON.stringify(JSON.parse(WEBHOOK_PAYLOAD));
    const check = verifyAuthHeader(WEBHOOK_AUTH, Buffer.from(reserialised), WEBHOOK_API_KEY, new Date(WEBHOOK_TIMESTAMP * 1000));
    assert.equal(check.ok, false);
  });
});

describe('MultiSafepay webhook: "check whether the timestamp is recent" (600 s, as the PHP SDK)', () => {
  const body = Buffer.from(WEBHOOK_PAYLOAD);
  it('accepts 600 s after the timestamp, refuses 601 s after', () => {
    assert.equal(verifyAuthHeader(WEBHOOK_AUTH, body, WEBHOOK_API_KEY, new Date((WEBHOOK_TIMESTAMP + 600) * 1000)).ok, true);
    const late = verifyAuthHeader(WEBHOOK_AUTH, body, WEBHOOK_API_KEY, new Date((WEBHOOK_TIMESTAMP + 601) * 1000));
    assert.equal(late.ok === false && late.reason, 'stale');
  });

  it('refuses a timestamp more than 60 s ahead of the clock', () => {
    assert.equal(verifyAuthHeader(WEBHOOK_AUTH, body, WEBHOOK_API_KEY, new Date((WEBHOOK_TIMESTAMP - 60) * 1000)).ok, true);
    const early = verifyAuthHeader(WEBHOOK_AUTH, body, WEBHOOK_API_KEY, new Date((WEBHOOK_TIMESTAMP - 61) * 1000));
    assert.equal(early.ok === false && early.reason, 'future');
  });

  it('the documented 2022 notification replayed today is refused as stale', () => {
    const { code, reason } = rejected(multisafepay.verifyNotification(config(), notification(WEBHOOK_PAYLOAD, WEBHOOK_AUTH)));
    assert.equal(code, MSP_NOTIFY_ERRORS.stale);
    assert.match(reason, /more than 600 s old/);
  });
});

describe('MultiSafepay webhook: a valid POST notification is read', () => {
  it('the docs payload, signed now, is an initialized iDEAL order: recorded as informational', () => {
    const verdict = multisafepay.verifyNotification(config(), notification(WEBHOOK_PAYLOAD, signNotification(WEBHOOK_API_KEY, WEBHOOK_PAYLOAD, nowSeconds())));
    assert.equal(verdict.ok, true);
    if (!verdict.ok) return;
    assert.equal(verdict.reference, 'my-order-id');
    assert.deepEqual(verdict.outcome, { kind: 'informational' });
    assert.deepEqual(verdict.expected, { amount: 1000, currency: 'EUR' });
    assert.equal(verdict.processorReference, 'my-order-id');
    assert.equal(verdict.dedupeKey, 'my-order-id:123456789:initialized:initialized');
    assert.equal(verdict.summary.processor_status, 'initialized');
    assert.equal(verdict.summary.financial_status, 'initialized');
    assert.equal(verdict.summary.action, 'initialized');
    assert.equal(verdict.summary.payment_method, 'IDEAL');
    assert.equal(verdict.summary.processor_time, '2022-01-03T15:08:02');
    assert.equal(verdict.summary.transaction_id, '123456789');
    assert.match(String(verdict.summary.notification_time), /^\d{4}-\d\d-\d\dT/);
  });

  it('a completed card payment is a capture of the order amount, with the brand as payment method', () => {
    const body = WEBHOOK_PAYLOAD.replace(/"status":"initialized","transaction_id"/, '"status":"completed","transaction_id"')
      .replace('"financial_status":"initialized"', '"financial_status":"completed"')
      .replace('"type":"IDEAL"},"payment_methods"', '"type":"MASTERCARD","last4":"0004"},"payment_methods"');
    const verdict = multisafepay.verifyNotification(config(), notification(body, signNotification(WEBHOOK_API_KEY, body, nowSeconds())));
    assert.equal(verdict.ok, true);
    if (!verdict.ok) return;
    assert.deepEqual(verdict.outcome, { kind: 'captured', amount: 1000 });
    assert.equal(verdict.summary.payment_method, 'MASTERCARD');
    assert.equal(verdict.summary.pan_masked, '****0004');
  });
});

describe('MultiSafepay webhook: forged or damaged notifications are rejected and change nothing', () => {
  const signedNow = () => signNotification(WEBHOOK_API_KEY, WEBHOOK_PAYLOAD, nowSeconds());

  it('no Auth header', () => {
    assert.equal(rejected(multisafepay.verifyNotification(config(), notification(WEBHOOK_PAYLOAD, undefined))).code, MSP_NOTIFY_ERRORS.missingAuth);
  });

  it('an HMAC that does not match (one hex digit changed)', () => {
    const decoded = Buffer.from(signedNow(), 'base64').toString();
    const last = decoded.at(-1) === '0' ? '1' : '0';
    const forged = Buffer.from(decoded.slice(0, -1) + last).toString('base64');
    const { code, reason } = rejected(multisafepay.verifyNotification(config(), notification(WEBHOOK_PAYLOAD, forged)));
    assert.equal(code, MSP_NOTIFY_ERRORS.badAuth);
    assert.match(reason, /does not match/);
  });

  it("signed with another website's API key", () => {
    const other = signNotification('Zx9'.repeat(13) + 'Q', WEBHOOK_PAYLOAD, nowSeconds());
    assert.equal(rejected(multisafepay.verifyNotification(config(), notification(WEBHOOK_PAYLOAD, other))).code, MSP_NOTIFY_ERRORS.badAuth);
  });

  it('a body changed after signing (status initialized → completed)', () => {
    const changed = WEBHOOK_PAYLOAD.replace('"status":"initialized","transaction_id"', '"status":"completed","transaction_id"');
    assert.equal(rejected(multisafepay.verifyNotification(config(), notification(changed, signedNow()))).code, MSP_NOTIFY_ERRORS.badAuth);
  });

  it('an old timestamp re-signed by someone without the key cannot be made fresh', () => {
    const decoded = Buffer.from(WEBHOOK_AUTH, 'base64').toString();
    const moved = Buffer.from(decoded.replace(String(WEBHOOK_TIMESTAMP), String(nowSeconds()))).toString('base64');
    assert.equal(rejected(multisafepay.verifyNotification(config(), notification(WEBHOOK_PAYLOAD, moved))).code, MSP_NOTIFY_ERRORS.badAuth);
  });

  it('a valid signature older than 10 minutes', () => {
    const old = signNotification(WEBHOOK_API_KEY, WEBHOOK_PAYLOAD, nowSeconds() - 11 * 60);
    assert.equal(rejected(multisafepay.verifyNotification(config(), notification(WEBHOOK_PAYLOAD, old))).code, MSP_NOTIFY_ERRORS.stale);
  });

  it('a valid signature from the future', () => {
    const future = signNotification(WEBHOOK_API_KEY, WEBHOOK_PAYLOAD, nowSeconds() + 5 * 60);
    assert.equal(rejected(multisafepay.verifyNotification(config(), notification(WEBHOOK_PAYLOAD, future))).code, MSP_NOTIFY_ERRORS.stale);
  });

  it('a signed body that is not an order (no JSON, no order_id, a negative or fractional amount, refunds above the amount)', () => {
    for (const body of [
      'OK',
      '{"status":"completed"}',
      '{"order_id":"a","status":"completed","currency":"EUR","amount":-1}',
      '{"order_id":"a","status":"completed","currency":"EUR","amount":10.5}',
      '{"order_id":"a","status":"refunded","currency":"EUR","amount":100,"amount_refunded":101}',
      '{"order_id":"a","status":"completed","currency":"XXX","amount":100}',
    ]) {
      const verdict = multisafepay.verifyNotification(config(), notification(body, signNotification(WEBHOOK_API_KEY, body, nowSeconds())));
      assert.equal(rejected(verdict).code, MSP_NOTIFY_ERRORS.unreadable, body);
    }
  });

  it('two Auth headers, or one that is not base64 of "timestamp:hex"', () => {
    for (const auth of [
      [signedNow(), signedNow()],
      'not base64!',
      Buffer.from('1641218884').toString('base64'),
      Buffer.from(`abc:${WEBHOOK_SIGNATURE}`).toString('base64'),
      Buffer.from(`${nowSeconds()}:${WEBHOOK_SIGNATURE.slice(2)}`).toString('base64'),
    ]) {
      assert.equal(rejected(multisafepay.verifyNotification(config(), notification(WEBHOOK_PAYLOAD, auth))).code, MSP_NOTIFY_ERRORS.badAuth);
    }
  });

  it('never throws, whatever the bytes and headers (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 600 }),
        fc.option(fc.oneof(fc.string({ maxLength: 300 }), fc.base64String({ maxLength: 300 }), fc.array(fc.string(), { maxLength: 3 }))),
        (bytes, auth) => {
          const verdict = multisafepay.verifyNotification(config(), { body: Buffer.from(bytes), headers: auth === null ? {} : { auth } });
          assert.equal(typeof verdict.ok, 'boolean');
          assert.equal(verdict.ok, false);
        },
      ),
      { numRuns: Number(process.env.INCASSO_FUZZ_RUNS ?? 2000) },
    );
  });

  it('never throws on signed JSON of any shape (fast-check)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const body = JSON.stringify(value);
        const verdict = multisafepay.verifyNotification(config(), notification(body, signNotification(WEBHOOK_API_KEY, body, nowSeconds())));
        assert.equal(typeof verdict.ok, 'boolean');
      }),
      { numRuns: Number(process.env.INCASSO_FUZZ_RUNS ?? 2000) },
    );
  });
});

describe('MultiSafepay webhook: "Acknowledge the notification" (HTTP 200 with OK)', () => {
  it('recorded → 200 "OK"; errors → not 200 and no "OK" in the first 100 characters, so MultiSafepay resends', () => {
    assert.deepEqual(multisafepay.replyToNotification({ kind: 'recorded' }), { statusCode: 200, contentType: 'text/plain; charset=utf-8', body: 'OK' });
    for (const result of [
      { kind: 'temporary_error', code: 1, message: 'database is down: OK?' },
      { kind: 'permanent_error', code: 2, message: 'OK unknown order' },
    ] as const) {
      const reply = multisafepay.replyToNotification(result);
      assert.notEqual(reply.statusCode, 200);
      assert.equal(reply.body.slice(0, 100).includes('OK'), false);
    }
  });
});
