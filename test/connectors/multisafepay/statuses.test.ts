import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseMspJson } from '../../../src/connectors/multisafepay/json.js';
import { readOrder } from '../../../src/connectors/multisafepay/order.js';
import { dedupeKeyOf, ORDER_STATUS_OUTCOMES, ORDER_STATUSES, outcomeOf } from '../../../src/connectors/multisafepay/statuses.js';
import { OUTCOME_KINDS } from '../../../src/core/transitions.js';
import { GET_ORDER_FAILED_3DS, GET_ORDER_REFUNDED_VISA } from './docs-examples.js';

const order = (status: string, extra: Record<string, unknown> = {}) =>
  readOrder({ order_id: 'o-1', status, currency: 'EUR', amount: 2500, transaction_id: 42, ...extra });

describe('MultiSafepay order statuses → the ledger (every status of the table)', () => {
  it('the table covers the OpenAPI Status enum and the statuses page', () => {
    for (const s of [
      'initialized',
      'completed',
      'declined',
      'expired',
      'cancelled',
      'void',
      'uncleared',
      'reserved',
      'shipped',
      'refunded',
      'chargeback',
      'partial_refunded',
    ]) {
      assert.ok(ORDER_STATUSES.includes(s), s);
    }
    for (const kind of Object.values(ORDER_STATUS_OUTCOMES)) assert.ok(OUTCOME_KINDS.includes(kind));
  });

  for (const [status, kind] of Object.entries(ORDER_STATUS_OUTCOMES)) {
    it(`${status} → ${kind}`, () => {
      const financial = status === 'shipped' ? 'completed' : status === 'void' ? 'cancelled' : status;
      const o = order(status, { financial_status: financial, amount_refunded: status === 'partial_refunded' ? 1000 : 0 });
      assert.equal(outcomeOf(o).kind, kind);
    });
  }

  it('completed is a capture of the order amount', () => {
    assert.deepEqual(outcomeOf(order('completed')), { kind: 'captured', amount: 2500 });
  });

  it('shipped follows the funds: shipped/uncleared is still under review, shipped/completed is paid', () => {
    assert.deepEqual(outcomeOf(order('shipped', { financial_status: 'uncleared' })), { kind: 'pending_review' });
    assert.deepEqual(outcomeOf(order('shipped', { financial_status: 'completed' })), { kind: 'captured', amount: 2500 });
  });

  it('void follows the transaction: void/cancelled is a cancelled order, void/void (turned down after review) a failed attempt', () => {
    assert.deepEqual(outcomeOf(order('void', { financial_status: 'cancelled' })), { kind: 'canceled' });
    assert.deepEqual(outcomeOf(order('void', { financial_status: 'void', reason: 'Declined after manual review' })), {
      kind: 'failed',
      code: 'void',
      message: 'Declined after manual review',
    });
  });

  it('declined carries the reason; expired says the link ran out', () => {
    assert.deepEqual(outcomeOf(order('declined', { reason: 'Insufficient funds', payment_details: { response_code: '51' } })), {
      kind: 'failed',
      code: '51',
      message: 'Insufficient funds',
    });
    assert.deepEqual(outcomeOf(order('expired')), { kind: 'failed', code: 'expired', message: 'The payment link expired before it was paid' });
  });

  it('refunds: partial_refunded by amount_refunded, refunded in full, a chargeback takes everything back', () => {
    assert.deepEqual(outcomeOf(order('partial_refunded', { amount_refunded: 700 })), { kind: 'refunded', totalRefunded: 700 });
    assert.deepEqual(outcomeOf(order('partial_refunded')), { kind: 'informational' }, 'no amount_refunded: nothing to record');
    assert.deepEqual(outcomeOf(order('refunded', { amount_refunded: 2500 })), { kind: 'refunded', totalRefunded: 2500 });
    assert.deepEqual(outcomeOf(order('refunded')), { kind: 'refunded', totalRefunded: 2500 });
    assert.deepEqual(outcomeOf(order('chargeback', { amount_refunded: 0 })), { kind: 'refunded', totalRefunded: 2500 });
  });

  it('a status MultiSafepay adds later is recorded, never guessed', () => {
    assert.deepEqual(outcomeOf(order('something_new')), { kind: 'informational' });
  });

  it('the documented refunded Visa order (getOrder3DS) and failed 3-D Secure order (getOrderFailed3DS)', () => {
    const refunded = readOrder((parseMspJson(GET_ORDER_REFUNDED_VISA) as { data: unknown }).data);
    assert.deepEqual(outcomeOf(refunded), { kind: 'refunded', totalRefunded: 200 });
    assert.equal(refunded.payment_type, 'VISA');
    assert.equal(refunded.last4, '1111');
    const failed = readOrder((parseMspJson(GET_ORDER_FAILED_3DS) as { data: unknown }).data);
    assert.deepEqual(outcomeOf(failed), { kind: 'failed', code: '3001', message: '3DS Authentication Failed / Card authentication failed' });
    assert.equal(failed.transaction_id, '17123154123113');
  });

  it('dedupe keys: one per transaction and status, one per refund total', () => {
    const a = order('declined', { transaction_id: 1 });
    const b = order('declined', { transaction_id: 2 });
    assert.notEqual(dedupeKeyOf(a, outcomeOf(a)), dedupeKeyOf(b, outcomeOf(b)), 'two declined tries of a payment link are two facts');
    const r = order('partial_refunded', { amount_refunded: 700 });
    assert.equal(dedupeKeyOf(r, outcomeOf(r)), 'o-1:refunded:700');
  });

  it('JSON integers past 2^53 stay exact (quoted), everything else parses as JSON.parse does', () => {
    assert.deepEqual(parseMspJson('{"a":17472052901237122,"b":-12345678901234567,"c":1.5e300,"d":"17472052901237122x","e":[123456789012345]}'), {
      a: '17472052901237122',
      b: '-12345678901234567',
      c: 1.5e300,
      d: '17472052901237122x',
      e: [123456789012345],
    });
    assert.deepEqual(parseMspJson('{"s":"a\\"1234567890123456789","n":1234567890123456789}'), { s: 'a"1234567890123456789', n: '1234567890123456789' });
  });
});
