import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { netopiaV2 } from '../../../src/connectors/netopia-v2/connector.js';
import type { AttemptReference, OperationError, OperationReport, RefundRequest } from '../../../src/connectors/types.js';
import { POS, configWith, json } from './support.js';

const config = configWith();
const attempt: AttemptReference = { reference: 'att_77', processorReference: '1309088', amount: 15990, currency: 'RON' };
const status = (res: ReturnType<typeof json>, a = attempt) => netopiaV2.statusCheck!.response(config, a, res);
const asReport = (r: OperationReport | OperationError) => {
  assert.ok(!('kind' in r), `expected a report, got ${JSON.stringify(r)}`);
  return r as OperationReport;
};
const asError = (r: OperationReport | OperationError) => {
  assert.ok('kind' in r && r.kind === 'error', `expected an error, got ${JSON.stringify(r)}`);
  return r as OperationError;
};

describe('POST /operation/status {posID, ntpID, orderID}', () => {
  it('asks for the attempt by both ids, with the API key', () => {
    const req = netopiaV2.statusCheck!.request(config, attempt);
    assert.equal(req.url, 'https://secure.sandbox.netopia-payments.com/operation/status');
    assert.equal(req.headers.authorization, 'ntp-test-api-key-0001');
    assert.deepEqual(JSON.parse(req.body!), { posID: POS, ntpID: '1309088', orderID: 'att_77' });
    assert.deepEqual(JSON.parse(netopiaV2.statusCheck!.request(config, { ...attempt, processorReference: null }).body!), {
      posID: POS,
      ntpID: '',
      orderID: 'att_77',
    });
  });

  it('reads payment.status into a report keyed like the IPN saying the same', () => {
    const r = asReport(
      status(
        json(200, {
          error: { code: '00', message: 'Approved' },
          order: { orderID: 'att_77' },
          payment: { amount: 159.9, currency: 'RON', ntpID: '1309088', status: 3, data: { RRN: 'abc' }, instrument: { panMasked: '9****5098' } },
        }),
      ),
    );
    assert.deepEqual(r.outcome, { kind: 'captured', amount: 15990 });
    assert.equal(r.dedupeKey, '1309088:3');
    assert.equal(r.processorReference, '1309088');
    assert.deepEqual(r.summary.processor_response, {
      error: { code: '00', message: 'Approved' },
      payment: { amount: 159.9, currency: 'RON', data: { RRN: 'abc' }, ntpID: '1309088', status: 3 },
    });
    assert.equal(r.summary.pan_masked, '9****5098');
  });

  it('status 8: the amount is the credited total so far', () => {
    const r = asReport(status(json(200, { error: { code: '00', message: 'OK' }, payment: { amount: 50.5, currency: 'RON', ntpID: '1309088', status: 8 } })));
    assert.deepEqual(r.outcome, { kind: 'refunded', totalRefunded: 5050 });
    assert.equal(r.dedupeKey, '1309088:8:5050');
  });

  it('a credit total in another currency cannot be read; a capture falls back on the attempt amount', () => {
    asError(status(json(200, { payment: { amount: 250, currency: 'RON', ntpID: '1', status: 8 } }), { ...attempt, currency: 'EUR', amount: 5000 }));
    const r = asReport(status(json(200, { payment: { amount: 250, currency: 'RON', ntpID: '1', status: 3 } }), { ...attempt, currency: 'EUR', amount: 5000 }));
    assert.deepEqual(r.outcome, { kind: 'captured', amount: 5000 });
  });

  it('a declined order: failed with its code', () => {
    const r = asReport(
      status(json(200, { error: { code: '20', message: 'Insufficient funds' }, payment: { amount: 159.9, currency: 'RON', ntpID: '1309088', status: 12 } })),
    );
    assert.deepEqual(r.outcome, { kind: 'failed', code: '20', message: 'Insufficient funds' });
    assert.equal(r.dedupeKey, '1309088:12');
  });

  it('no payment in the answer (unknown order) is a refusal; a 5xx may have been carried out (unknown); 401 is a refusal', () => {
    const unknown = asError(status(json(404, { error: { code: '404', message: 'Order not found' } })));
    assert.deepEqual([unknown.failure, unknown.code], ['refused', '404']);
    assert.equal(asError(status(json(200, { error: { code: '00', message: 'OK' } }))).failure, 'refused');
    assert.equal(asError(status(json(504, ''))).failure, 'unknown');
    assert.equal(asError(status(json(401, { code: '401', message: 'Unauthorized' }))).failure, 'refused');
  });
});

describe('POST /operation/credit {ntpID, amount}', () => {
  const refund: RefundRequest = { ...attempt, refundId: 'ref_1', refundAmount: 5050, refundedBefore: 1000, now: new Date() };
  const credit = (res: ReturnType<typeof json>) => netopiaV2.refund!.response(config, refund, res);

  it('sends the refund in major units, exactly', () => {
    const req = netopiaV2.refund!.request(config, refund);
    assert.equal(req.url, 'https://secure.sandbox.netopia-payments.com/operation/credit');
    assert.equal(req.body, '{"ntpID":"1309088","amount":50.5}');
    assert.equal(netopiaV2.refund!.request(config, { ...refund, refundAmount: 30 }).body, '{"ntpID":"1309088","amount":0.3}');
  });

  it('accepted: refunded, the total being what was refunded before plus this refund', () => {
    const r = asReport(
      credit(json(200, { error: { code: '00', message: 'Approved' }, payment: { amount: 60.5, currency: 'RON', ntpID: '1309088', status: 8 } })),
    );
    assert.deepEqual(r.outcome, { kind: 'refunded', totalRefunded: 6050 });
    assert.equal(r.dedupeKey, '1309088:8:6050');
    assert.equal(r.summary.action, 'credit');
    assert.equal(r.summary.refund_id, 'ref_1');
    assert.deepEqual(r.summary.processor_response, {
      error: { code: '00', message: 'Approved' },
      payment: { amount: 60.5, currency: 'RON', ntpID: '1309088', status: 8 },
    });
    // A status-8 payment without an error object is an acceptance too.
    assert.deepEqual(asReport(credit(json(200, { payment: { ntpID: '1309088', status: 8 } }))).outcome, { kind: 'refunded', totalRefunded: 6050 });
  });

  it('refused (53 only a confirmed order, 54 more than authorized): a refusal', () => {
    const e = asError(credit(json(200, { error: { code: '54', message: 'Credit amount exceeds auth amount' }, payment: { ntpID: '1309088', status: 5 } })));
    assert.deepEqual(e, { kind: 'error', failure: 'refused', code: '54', message: 'Credit amount exceeds auth amount' });
    assert.equal(asError(credit(json(200, { error: { code: '53', message: 'x' } }))).code, '53');
  });

  it('an answer that says nothing is not taken for a refund, nor for a refusal: unknown, like a 5xx', () => {
    assert.equal(asError(credit(json(200, {}))).code, 'unrecognized_answer');
    assert.equal(asError(credit(json(200, { payment: { status: 5 } }))).failure, 'unknown');
    assert.equal(asError(credit(json(500, 'oops'))).failure, 'unknown');
  });
});
