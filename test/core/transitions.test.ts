import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  ATTEMPT_STATUSES,
  ATTEMPT_TRANSITIONS,
  OUTCOME_KINDS,
  PAYMENT_STATUSES,
  PAYMENT_TRANSITIONS,
  blocksNewAttempt,
  effectiveStatus,
  transitionAttempt,
  transitionPayment,
  type PaymentState,
  type PaymentStatus,
  type ProcessorOutcome,
} from '../../src/core/transitions.js';

const AMOUNT = 1000;
const state = (status: PaymentStatus, extra: Partial<PaymentState> = {}): PaymentState => ({
  status,
  amount: AMOUNT,
  amount_authorized: 0,
  amount_captured: 0,
  amount_refunded: 0,
  paid_late: false,
  ...extra,
});
const sample: Record<ProcessorOutcome['kind'], ProcessorOutcome> = {
  pending_review: { kind: 'pending_review' },
  authorized: { kind: 'authorized', amount: AMOUNT },
  captured: { kind: 'captured', amount: AMOUNT },
  failed: { kind: 'failed', code: '35', message: 'declined' },
  canceled: { kind: 'canceled' },
  refunded: { kind: 'refunded', totalRefunded: 400 },
  operation_failed: { kind: 'operation_failed', code: '53', message: 'only CREDIT a confirmed order' },
  informational: { kind: 'informational' },
  unknown: { kind: 'unknown', code: 'timeout', message: 'the processor did not answer within 20 s' },
};
// A void (canceled) closes an authorization, so it ranks above it; a capture after it is still recorded (paid late).
const RANK: Record<PaymentStatus, number> = { pending: 0, expired: 0, processing: 1, authorized: 2, canceled: 3, paid: 4, partially_refunded: 5, refunded: 6 };

describe('the payment state machine is a complete table', () => {
  it('has an entry for every status × outcome and every hub event', () => {
    for (const s of PAYMENT_STATUSES) {
      for (const k of [...OUTCOME_KINDS, 'expire', 'cancel'] as const) assert.ok(PAYMENT_TRANSITIONS[s][k], `${s} × ${k}`);
    }
    for (const s of ATTEMPT_STATUSES) for (const k of OUTCOME_KINDS) assert.ok(ATTEMPT_TRANSITIONS[s][k], `attempt ${s} × ${k}`);
  });

  it('is monotonic: money facts never move a payment backwards (enumerated)', () => {
    for (const s of PAYMENT_STATUSES) {
      for (const k of OUTCOME_KINDS) {
        const from = state(
          s,
          s === 'paid' || s === 'partially_refunded' || s === 'refunded'
            ? { amount_authorized: AMOUNT, amount_captured: AMOUNT, amount_refunded: s === 'refunded' ? AMOUNT : s === 'partially_refunded' ? 100 : 0 }
            : {},
        );
        const { state: to } = transitionPayment(from, sample[k]);
        if (k === 'failed' && s === 'processing') {
          assert.equal(to.status, 'pending', 'a declined review leaves the payment payable');
          continue;
        }
        assert.ok(RANK[to.status] >= RANK[s], `${s} --${k}--> ${to.status} goes backwards`);
        assert.ok(to.amount_captured >= from.amount_captured && to.amount_refunded >= from.amount_refunded);
      }
    }
  });
});

describe('"a late pending never overrides paid"', () => {
  it('ignores pending_review and authorized after capture', () => {
    const paid = state('paid', { amount_authorized: AMOUNT, amount_captured: AMOUNT });
    for (const k of ['pending_review', 'authorized', 'failed', 'canceled'] as const) {
      const r = transitionPayment(paid, sample[k]);
      assert.equal(r.changed, false);
      assert.equal(r.state.status, 'paid');
      assert.match(r.ignoredReason ?? '', /does not apply/);
    }
  });
});

describe('"expiry never undoes a confirmed payment (record it as paid late)"', () => {
  it('expires only pending payments', () => {
    for (const s of PAYMENT_STATUSES) {
      const r = transitionPayment(state(s), { kind: 'expire' });
      assert.equal(r.state.status, s === 'pending' ? 'expired' : s);
    }
  });
  it('records a capture after expiry or cancelation as paid late', () => {
    for (const s of ['expired', 'canceled'] as const) {
      const r = transitionPayment(state(s), sample.captured);
      assert.equal(r.state.status, 'paid');
      assert.equal(r.state.paid_late, true);
    }
    assert.equal(transitionPayment(state('pending'), sample.captured).state.paid_late, false);
  });
  it('computes expiry at read time', () => {
    const past = new Date(Date.now() - 1000);
    assert.equal(effectiveStatus('pending', past), 'expired');
    assert.equal(effectiveStatus('paid', past), 'paid');
    assert.equal(effectiveStatus('pending', null), 'pending');
    assert.equal(effectiveStatus('pending', new Date(Date.now() + 60_000)), 'pending');
  });
});

describe('"a declined attempt leaves the payment payable"', () => {
  it('keeps a pending payment pending and fails the attempt', () => {
    assert.equal(transitionPayment(state('pending'), sample.failed).state.status, 'pending');
    assert.equal(transitionAttempt('created', sample.failed), 'failed');
  });
  it('lets a later success on the same processor order win over a failed attempt', () => {
    assert.equal(transitionAttempt('failed', sample.captured), 'captured');
  });
});

describe('refunds are cumulative, so replays and reordering are harmless', () => {
  it('moves to partially_refunded then refunded, and ignores an older total', () => {
    const paid = state('paid', { amount_authorized: AMOUNT, amount_captured: AMOUNT });
    const partial = transitionPayment(paid, { kind: 'refunded', totalRefunded: 400 }).state;
    assert.equal(partial.status, 'partially_refunded');
    assert.equal(partial.amount_refunded, 400);
    assert.equal(transitionPayment(partial, { kind: 'refunded', totalRefunded: 400 }).changed, false);
    const full = transitionPayment(partial, { kind: 'refunded', totalRefunded: AMOUNT }).state;
    assert.equal(full.status, 'refunded');
    assert.equal(transitionPayment(full, { kind: 'refunded', totalRefunded: 400 }).changed, false);
  });
  it('a refund that arrives before its capture implies the capture', () => {
    const r = transitionPayment(state('pending'), { kind: 'refunded', totalRefunded: AMOUNT }).state;
    assert.equal(r.status, 'refunded');
    assert.equal(r.amount_captured, AMOUNT);
    // the late capture is then stale
    assert.equal(transitionPayment(r, sample.captured).changed, false);
  });
  it('never records more refunded than captured', () => {
    const paid = state('paid', { amount_authorized: AMOUNT, amount_captured: AMOUNT });
    assert.equal(transitionPayment(paid, { kind: 'refunded', totalRefunded: AMOUNT * 5 }).state.amount_refunded, AMOUNT);
  });
});

describe('every ordering of one payment story ends in the same state', () => {
  it('authorized → captured → partial refund, in all 6 orders', () => {
    const story: ProcessorOutcome[] = [sample.authorized, sample.captured, { kind: 'refunded', totalRefunded: 400 }];
    const orders = [
      [0, 1, 2],
      [0, 2, 1],
      [1, 0, 2],
      [1, 2, 0],
      [2, 0, 1],
      [2, 1, 0],
    ];
    for (const order of orders) {
      let s = state('pending');
      for (const i of order) s = transitionPayment(s, story[i]!).state;
      assert.deepEqual(
        { status: s.status, captured: s.amount_captured, refunded: s.amount_refunded },
        { status: 'partially_refunded', captured: AMOUNT, refunded: 400 },
        `order ${order}`,
      );
    }
  });
});

describe('the attempt state unknown (a call the processor may have carried out, its answer lost)', () => {
  it("is entered only from a fresh attempt: a processor's word already recorded is never overwritten by the hub's doubt", () => {
    for (const s of ATTEMPT_STATUSES) {
      const to = transitionAttempt(s, sample.unknown);
      if (s === 'created') assert.equal(to, 'unknown');
      else if (s === 'unknown') assert.equal(to, 'unknown', 'a second conclusion changes nothing');
      else assert.equal(to, null, `${s} --unknown--> ${to}`);
    }
  });

  it("is left only on the processor's word: each outcome takes it where it takes a fresh attempt (enumerated)", () => {
    for (const k of OUTCOME_KINDS) {
      if (k === 'unknown') continue;
      const fresh = transitionAttempt('created', sample[k]);
      assert.equal(transitionAttempt('unknown', sample[k]), fresh === 'created' ? 'unknown' : fresh, `unknown × ${k}`);
    }
    // Informational (e.g. "the order exists, not paid yet") and operation failures leave it unknown.
    assert.equal(transitionAttempt('unknown', sample.informational), 'unknown');
    assert.equal(transitionAttempt('unknown', sample.operation_failed), 'unknown');
  });

  it("moves no money and no payment status, whatever the payment's state (enumerated)", () => {
    for (const s of PAYMENT_STATUSES) {
      const from = state(s);
      const r = transitionPayment(from, sample.unknown);
      assert.equal(r.changed, false, s);
      assert.deepEqual(r.state, from);
    }
  });

  it('blocks a new attempt on the payment, and no other attempt status does (enumerated)', () => {
    for (const s of ATTEMPT_STATUSES) assert.equal(blocksNewAttempt(s), s === 'unknown', s);
  });
});
