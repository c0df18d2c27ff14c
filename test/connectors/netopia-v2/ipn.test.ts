import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { netopiaV2 } from '../../../src/connectors/netopia-v2/connector.js';
import { VERIFICATION_ERRORS } from '../../../src/connectors/netopia-v2/jwt.js';
import type { NotificationVerdict, VerifiedNotification } from '../../../src/connectors/types.js';
import { configWith, ipnBody, netopiaToken } from './support.js';

const config = configWith();

async function verify(body: string | Buffer): Promise<NotificationVerdict> {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body);
  return netopiaV2.verifyNotification(config, { body: bytes, headers: { 'verification-token': await netopiaToken(bytes) } });
}
async function verified(body: string): Promise<VerifiedNotification> {
  const v = await verify(body);
  assert.equal(v.ok, true, v.ok ? '' : v.reason);
  return v as VerifiedNotification;
}

describe('IPN body: order.orderID is the reference, payment.status says what happened', () => {
  it('reads a paid IPN into the seed-shaped processor_response', async () => {
    const body = JSON.stringify({
      order: { orderID: 'att_9', data: { cart: '17' } },
      payment: {
        amount: 200,
        currency: 'RON',
        ntpID: '1309088',
        status: 3,
        code: '00',
        message: 'Approved',
        token: 'MjMyMjqqdx3XTbYC78Ooid',
        data: { AuthCode: '24od', BIN: '990000', ISSUER: 'Netopia GB', ISSUER_COUNTRY: '642', RRN: 'hYnY8zpdcNo-', EXTRA: 'x' },
        binding: { token: 'secret-binding', expireMonth: 12, expireYear: 2030 },
        instrument: { panMasked: '9****5098', issuer: 'Netopia GB' },
      },
    });
    const v = await verified(body);
    assert.equal(v.reference, 'att_9');
    assert.deepEqual(v.outcome, { kind: 'captured', amount: 20000 });
    assert.deepEqual(v.expected, { amount: 20000, currency: 'RON' });
    assert.equal(v.dedupeKey, '1309088:3');
    assert.equal(v.processorReference, '1309088');
    assert.equal(
      JSON.stringify(v.summary.processor_response),
      JSON.stringify({
        error: { code: '00', message: 'Approved' },
        payment: {
          amount: 200,
          currency: 'RON',
          data: { AuthCode: '24od', BIN: '990000', ISSUER: 'Netopia GB', ISSUER_COUNTRY: '642', RRN: 'hYnY8zpdcNo-' },
          ntpID: '1309088',
          status: 3,
          token: 'MjMyMjqqdx3XTbYC78Ooid',
        },
      }),
    );
    assert.equal(v.summary.status, 3);
    assert.equal(v.summary.ntp_id, '1309088');
    assert.equal(v.summary.pan_masked, '9****5098');
    assert.equal(v.summary.action, 'paid');
    assert.ok(!JSON.stringify(v.summary).includes('secret-binding'));
  });

  it('keeps only the keys the IPN carried', async () => {
    const v = await verified(JSON.stringify({ order: { orderID: 'att_1' }, payment: { amount: 1.5, currency: 'EUR', ntpID: 77, status: 5 } }));
    assert.deepEqual(v.summary.processor_response, { payment: { amount: 1.5, currency: 'EUR', ntpID: 77, status: 5 } });
    assert.equal(v.summary.pan_masked, undefined);
    assert.equal(v.processorReference, '77');
    assert.equal(v.summary.action, 'confirmed');
  });

  it('a declined card (12, code 21 "Invalid CVV") fails the attempt with NETOPIA\'s code and words', async () => {
    const v = await verified(ipnBody({ status: 12, code: '21', message: 'Invalid CVV' }));
    assert.deepEqual(v.outcome, { kind: 'failed', code: '21', message: 'Invalid CVV' });
    assert.equal(v.dedupeKey, '1309088:12');
    assert.equal(v.summary.action, 'declined');
    assert.deepEqual(v.expected, { amount: 15990, currency: 'RON' });
  });

  it('an expired card reported as status 1 with code 19 is a decline, keyed apart from "new"', async () => {
    const v = await verified(ipnBody({ status: 1, code: '19', message: 'Expired card' }));
    assert.deepEqual(v.outcome, { kind: 'failed', code: '19', message: 'Expired card' });
    assert.equal(v.dedupeKey, '1309088:1:19');
    const plain = await verified(ipnBody({ status: 1, code: '00', message: '' }));
    assert.deepEqual(plain.outcome, { kind: 'informational' });
    assert.equal(plain.dedupeKey, '1309088:1');
  });

  it('a credit (8) carries the credited total so far: refunded, checked on currency only', async () => {
    const first = await verified(ipnBody({ status: 8, amount: 50 }));
    assert.deepEqual(first.outcome, { kind: 'refunded', totalRefunded: 5000 });
    assert.deepEqual(first.expected, { currency: 'RON' });
    assert.equal(first.dedupeKey, '1309088:8:5000');
    assert.equal(first.summary.action, 'credit');
    const second = await verified(ipnBody({ status: 8, amount: 159.9 }));
    assert.deepEqual(second.outcome, { kind: 'refunded', totalRefunded: 15990 });
    assert.equal(second.dedupeKey, '1309088:8:15990');
  });

  it('an accepted chargeback (10) is the whole amount going back', async () => {
    const v = await verified(ipnBody({ status: 10 }));
    assert.deepEqual(v.outcome, { kind: 'refunded', totalRefunded: 15990 });
    assert.deepEqual(v.expected, { currency: 'RON' });
  });

  it('an unknown status is recorded as informational', async () => {
    const v = await verified(ipnBody({ status: 99 }));
    assert.deepEqual(v.outcome, { kind: 'informational' });
    assert.equal(v.summary.action, 'status_99');
    assert.equal(v.dedupeKey, '1309088:99');
  });
});

describe('IPN body format (E_VERIFICATION_FAILED_PAYLOAD_FORMAT, permanent)', () => {
  const cases: Array<[string, string | Buffer]> = [
    ['not JSON', 'status=3'],
    ['not UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d])],
    ['an array', '[]'],
    ['no order', JSON.stringify({ payment: { amount: 1, currency: 'RON', ntpID: '1', status: 3 } })],
    ['an empty orderID', ipnBody({}, '')],
    ['no payment', JSON.stringify({ order: { orderID: 'a' } })],
    ['a status that is not an integer', ipnBody({ status: '3' })],
    ['no ntpID', ipnBody({ ntpID: undefined })],
    ['an unknown currency', ipnBody({ currency: 'XXX' })],
    ['no amount', ipnBody({ amount: undefined })],
    ['a float-sum amount', ipnBody({ amount: 0.1 + 0.2 })],
    ['three decimals in RON', ipnBody({ amount: 1.005 })],
    ['a negative amount', ipnBody({ amount: -1 })],
    ['an exponent amount', ipnBody({ amount: 1e21 })],
  ];
  for (const [what, body] of cases) {
    it(`refuses a body with ${what}`, async () => {
      const v = await verify(body);
      assert.equal(v.ok, false);
      if (!v.ok) {
        assert.equal(v.code, VERIFICATION_ERRORS.payloadFormat, v.reason);
        assert.equal(v.permanent, true);
      }
    });
  }
});

describe('the merchant reply: HTTP 200 JSON {errorType, errorCode, errorMessage}', () => {
  it('errorType 0, errorCode null when recorded (declines included)', () => {
    const r = netopiaV2.replyToNotification({ kind: 'recorded' });
    assert.equal(r.statusCode, 200);
    assert.match(r.contentType, /^application\/json/);
    assert.equal(r.body, '{"errorType":0,"errorCode":null,"errorMessage":""}');
  });

  it('errorType 1 (temporary) and 2 (permanent) with a numeric errorCode', () => {
    assert.equal(
      netopiaV2.replyToNotification({ kind: 'temporary_error', code: 0x300000f9, message: 'retry' }).body,
      `{"errorType":1,"errorCode":${0x300000f9},"errorMessage":"retry"}`,
    );
    const permanent = JSON.parse(netopiaV2.replyToNotification({ kind: 'permanent_error', code: VERIFICATION_ERRORS.signature, message: 'bad "sig"' }).body);
    assert.deepEqual(permanent, { errorType: 2, errorCode: 0x10000102, errorMessage: 'bad "sig"' });
  });
});
