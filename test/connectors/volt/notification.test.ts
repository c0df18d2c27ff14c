import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { volt } from '../../../src/connectors/volt/connector.js';
import { VOLT_NOTIFICATION_ERRORS, verifyVoltNotification } from '../../../src/connectors/volt/notification.js';
import { attemptCode, legacyUniqueReferenceFor, refundExternalReference, uniqueReferenceFor } from '../../../src/connectors/volt/references.js';
import type { NotificationVerdict, VerifiedNotification } from '../../../src/connectors/types.js';
import { config, DOCS_NOW, DOCS_TIMED, signed } from './fixtures.js';

const ATTEMPT = 'att_01jd8w6f0q7c2mbm3x4y5z6a7b';
const PAYMENT = '292d48f6-90f3-450b-93eb-0b480b8b70dd';

function verify(body: string | object, options: Parameters<typeof signed>[1] = {}, at = DOCS_NOW): NotificationVerdict {
  return verifyVoltNotification(config(), signed(typeof body === 'string' ? body : JSON.stringify(body), options), at);
}

function ok(verdict: NotificationVerdict): VerifiedNotification {
  assert.equal(verdict.ok, true, verdict.ok ? '' : verdict.reason);
  return verdict as VerifiedNotification;
}

/** A payment notification as Volt sends it for a payment the hub opened. */
function paymentBody(status: string, detailedStatus: string | undefined, extra: Record<string, unknown> = {}) {
  return {
    payment: PAYMENT,
    reference: uniqueReferenceFor(ATTEMPT, 'SHOP-1001'),
    merchantInternalReference: ATTEMPT,
    amount: 1000,
    status,
    ...(detailedStatus ? { detailedStatus } : {}),
    ...extra,
  };
}

describe('Volt payment notifications: "payment is Volt\'s id, reference is the uniqueReference you specified"', () => {
  it('COMPLETED / COMPLETED is the payment: captured for the amount, in minor units', () => {
    const v = ok(verify(paymentBody('COMPLETED', 'COMPLETED')));
    assert.equal(v.reference, ATTEMPT);
    assert.deepEqual(v.outcome, { kind: 'captured', amount: 1000 });
    assert.deepEqual(v.expected, { amount: 1000, currency: 'EUR' });
    assert.equal(v.processorReference, PAYMENT);
    assert.equal(v.dedupeKey, `${PAYMENT}:COMPLETED`);
    assert.deepEqual(v.summary, {
      action: 'completed',
      processor_status: 'COMPLETED',
      status: 'COMPLETED',
      detailed_status: 'COMPLETED',
      payment_method: 'OPEN BANKING',
      processor_time: '2021-09-13T09:24:24.000Z',
      volt_payment_id: PAYMENT,
      unique_reference: uniqueReferenceFor(ATTEMPT, 'SHOP-1001'),
      amount: 1000,
    });
  });

  it('"If the payment was refused by the shopper\'s bank": FAILED / REFUSED_BY_BANK fails the attempt with that code', () => {
    const v = ok(verify(paymentBody('FAILED', 'REFUSED_BY_BANK')));
    assert.deepEqual(v.outcome, { kind: 'failed', code: 'REFUSED_BY_BANK', message: "The payment was refused by the shopper's bank" });
    assert.equal(v.summary.processor_status, 'REFUSED_BY_BANK');
    assert.equal(v.dedupeKey, `${PAYMENT}:REFUSED_BY_BANK`);
  });

  it('PENDING / BANK_REDIRECT (the documented real-data example) is informational: the payer is at the bank', () => {
    assert.deepEqual(ok(verify(paymentBody('PENDING', 'BANK_REDIRECT'))).outcome, { kind: 'informational' });
    assert.deepEqual(ok(verify(paymentBody('PENDING', 'DELAYED_AT_BANK'))).outcome, { kind: 'pending_review' });
  });

  it('the bank named in the notification is the payment method; without one it is OPEN BANKING', () => {
    const escaped = JSON.stringify(paymentBody('COMPLETED', 'COMPLETED', { groupName: 'Société Générale' })).replace(/é/g, '\\u00e9');
    assert.match(escaped, /Soci\\u00e9t\\u00e9/);
    assert.equal(ok(verify(escaped)).summary.payment_method, 'Société Générale');
    assert.equal(ok(verify(paymentBody('COMPLETED', 'COMPLETED', { bank: { name: 'Barclays Bank' } }))).summary.payment_method, 'Barclays Bank');
  });

  it('the hub reference travels in merchantInternalReference and must be the one the uniqueReference was derived from', () => {
    const v = verify(paymentBody('COMPLETED', 'COMPLETED', { reference: 'SOMEOTHERREF' }));
    assert.equal(v.ok, false);
    assert.equal(!v.ok && v.code, VOLT_NOTIFICATION_ERRORS.unknownReference);
  });

  it('Volt\'s own example (merchantInternalReference "Order for a trip to Greece…", reference Invoice-12345) is not a hub payment', () => {
    const v = verify({
      payment: PAYMENT,
      reference: 'Invoice-12345',
      merchantInternalReference: 'Order for a trip to Greece 20-27.08.2023',
      amount: 1000,
      status: 'COMPLETED',
      detailedStatus: 'COMPLETED',
    });
    assert.equal(v.ok, false);
  });

  it('the attempt is matched by the code at the end of reference, whatever the order id part holds', () => {
    const code = attemptCode(ATTEMPT);
    const other = 'att_01jd8w6f0q7c2mbm3x4y5z6a7c';
    // The code alone (an order id with no letters or digits), or after an order id made of the code itself.
    assert.equal(ok(verify(paymentBody('COMPLETED', 'COMPLETED', { reference: code }))).reference, ATTEMPT);
    assert.equal(ok(verify(paymentBody('COMPLETED', 'COMPLETED', { reference: uniqueReferenceFor(ATTEMPT, `${code}X`) }))).reference, ATTEMPT);
    // This attempt's code inside the order part of another attempt's reference is not this attempt.
    const v = verify(paymentBody('COMPLETED', 'COMPLETED', { reference: uniqueReferenceFor(other, code) }));
    assert.equal(!v.ok && v.code, VOLT_NOTIFICATION_ERRORS.unknownReference);
  });

  it('a payment opened before the order id was shown (the earlier 18-character reference) is still matched', () => {
    assert.equal(ok(verify(paymentBody('COMPLETED', 'COMPLETED', { reference: legacyUniqueReferenceFor(ATTEMPT) }))).reference, ATTEMPT);
  });

  it('without merchantInternalReference no attempt can be named (the code is a digest): rejected, never guessed', () => {
    const v = verify({
      payment: PAYMENT,
      reference: uniqueReferenceFor(ATTEMPT, 'SHOP-1001'),
      amount: 8888,
      status: 'PENDING',
      detailedStatus: 'BANK_REDIRECT',
    });
    assert.equal(!v.ok && v.code, VOLT_NOTIFICATION_ERRORS.unknownReference);
  });

  it('an unknown status word is recorded without changing anything (never a 400 Volt would retry)', () => {
    assert.deepEqual(ok(verify(paymentBody('SOMETHING_NEW', 'BRAND_NEW'))).outcome, { kind: 'informational' });
  });

  it('an amount that is not whole minor units is refused', () => {
    for (const amount of [10.5, -1, '1000', null]) assert.equal(verify(paymentBody('COMPLETED', 'COMPLETED', { amount })).ok, false, String(amount));
  });
});

describe('Volt refund notifications: "refund, payment, status REFUND_CONFIRMED | REFUND_FAILED, amount, currency, externalReference"', () => {
  const refundBody = (status: string, extra: Record<string, unknown> = {}) => ({
    refund: '026cefa0-a174-4ca3-a1e6-533a129d9c32',
    payment: PAYMENT,
    status,
    error: '',
    amount: 300,
    currency: 'EUR',
    externalReference: refundExternalReference('rfd_1', 700),
    merchantInternalReference: ATTEMPT,
    timestamp: '2022-05-12T12:41:12+00:00',
    ...extra,
  });

  it('REFUND_CONFIRMED: the refunded total the hub put in externalReference (this refund is 300 of a 700 total)', () => {
    const v = ok(verify(refundBody('REFUND_CONFIRMED'), { headers: { 'x-volt-type': 'refund_confirmed' } }));
    assert.deepEqual(v.outcome, { kind: 'refunded', totalRefunded: 700 });
    assert.deepEqual(v.expected, { currency: 'EUR' });
    assert.equal(v.dedupeKey, '026cefa0-a174-4ca3-a1e6-533a129d9c32:REFUND_CONFIRMED');
    assert.equal(v.summary.processor_status, 'REFUND_CONFIRMED');
    assert.equal(v.summary.processor_time, '2022-05-12T12:41:12.000Z');
    assert.equal(v.summary.refund_amount, 300);
  });

  it('a refund made in Fuzebox (externalReference null) is recorded only: its total is unknown', () => {
    assert.deepEqual(ok(verify(refundBody('REFUND_CONFIRMED', { externalReference: null }))).outcome, { kind: 'informational' });
  });

  it("REFUND_FAILED is a failed operation, with Volt's error", () => {
    const v = ok(verify(refundBody('REFUND_FAILED', { error: 'Insufficient funds' })));
    assert.deepEqual(v.outcome, { kind: 'operation_failed', code: 'REFUND_FAILED', message: 'Insufficient funds' });
  });
});

describe('Volt test notification: "body {} (empty as in a test notification)"', () => {
  it('the documented test notification (User-Agent Volt/1.0) is verified and answered with an empty 200, recording nothing', () => {
    const n = {
      body: Buffer.from('{}'),
      headers: { 'user-agent': 'Volt/1.0', 'x-volt-timed': DOCS_TIMED, 'x-volt-signed': 'ed22494369277d25cf8c2293d142e5fddb9cecbea1f54e28ac16db0bee3b8009' },
    };
    const v = verifyVoltNotification(config(), n, DOCS_NOW);
    assert.equal(v.ok, false);
    assert.equal(!v.ok && v.code, VOLT_NOTIFICATION_ERRORS.testNotification);
    assert.deepEqual(volt.replyToNotification({ kind: 'permanent_error', code: VOLT_NOTIFICATION_ERRORS.testNotification, message: 'test' }), {
      statusCode: 200,
      contentType: 'text/plain; charset=utf-8',
      body: '',
    });
  });
  it('an empty body counts as a test too, but only with a valid signature', () => {
    assert.equal((verify('') as { code?: number }).code, VOLT_NOTIFICATION_ERRORS.testNotification);
    const forged = verifyVoltNotification(config(), { ...signed(''), headers: { ...signed('').headers, 'x-volt-signed': '00'.repeat(32) } }, DOCS_NOW);
    assert.equal(!forged.ok && forged.code, VOLT_NOTIFICATION_ERRORS.badSignature);
  });
});

describe('Volt forged notifications are refused (and answered with an empty 400)', () => {
  const body = JSON.stringify(paymentBody('COMPLETED', 'COMPLETED'));
  const code = (v: NotificationVerdict) => (v.ok ? 'ok' : v.code);

  it("another application's notification secret", () =>
    assert.equal(code(verify(body, { secret: 'f1c0a3b2-other-account' })), VOLT_NOTIFICATION_ERRORS.badSignature));
  it('an old X-Volt-Timed', () => assert.equal(code(verify(body, {}, new Date(DOCS_NOW.getTime() + 2 * 3600_000))), VOLT_NOTIFICATION_ERRORS.stale));
  it('the window is the connection setting', () => {
    const strict = config({ settings: { notification_max_age_seconds: 60 } });
    assert.equal(code(verifyVoltNotification(strict, signed(body), new Date(DOCS_NOW.getTime() + 61_000))), VOLT_NOTIFICATION_ERRORS.stale);
  });
  it('the body changed', () => {
    const n = signed(body);
    assert.equal(
      code(verifyVoltNotification(config(), { ...n, body: Buffer.from(body.replace('COMPLETED', 'COMPLETEX')) }, DOCS_NOW)),
      VOLT_NOTIFICATION_ERRORS.badSignature,
    );
  });
  it('the version changed', () => {
    const n = signed(body, { version: '2.0' });
    assert.equal(
      code(verifyVoltNotification(config(), { ...n, headers: { ...n.headers, 'user-agent': 'Volt/2.1' } }, DOCS_NOW)),
      VOLT_NOTIFICATION_ERRORS.badSignature,
    );
  });
  it('no signature headers at all', () =>
    assert.equal(code(verifyVoltNotification(config(), { body: Buffer.from(body), headers: {} }, DOCS_NOW)), VOLT_NOTIFICATION_ERRORS.missingHeaders));
  it('replies: recorded → 200, refused → 400, temporary trouble → 503 (Volt retries)', () => {
    assert.equal(volt.replyToNotification({ kind: 'recorded' }).statusCode, 200);
    assert.equal(volt.replyToNotification({ kind: 'permanent_error', code: VOLT_NOTIFICATION_ERRORS.badSignature, message: 'x' }).statusCode, 400);
    assert.equal(volt.replyToNotification({ kind: 'temporary_error', code: 1, message: 'x' }).statusCode, 503);
    for (const kind of ['recorded', 'temporary_error', 'permanent_error'] as const)
      assert.equal(volt.replyToNotification(kind === 'recorded' ? { kind } : { kind, code: 1, message: 'm' }).body, '');
  });
});

describe('Volt verifyNotification never throws', () => {
  it('random bodies and headers, signed or not', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 512 }),
        fc.dictionary(
          fc.constantFrom('user-agent', 'x-volt-timed', 'x-volt-signed', 'content-type'),
          fc.oneof(fc.string(), fc.array(fc.string(), { maxLength: 3 })),
        ),
        fc.boolean(),
        (bytes, headers, sign) => {
          const body = Buffer.from(bytes);
          const n = sign ? { ...signed(body), headers: { ...signed(body).headers, ...headers } } : { body, headers };
          const v = volt.verifyNotification(config(), n);
          assert.equal(typeof v.ok, 'boolean');
        },
      ),
      { numRuns: 400 },
    );
  });
  it('random JSON objects, validly signed', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const v = verifyVoltNotification(config(), signed(JSON.stringify(value) ?? 'null'), DOCS_NOW);
        assert.equal(typeof v.ok, 'boolean');
      }),
      { numRuns: 300 },
    );
  });
});
