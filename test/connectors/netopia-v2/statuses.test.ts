import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NETOPIA_V2_STATUSES, dedupeKeyOf, outcomeOfStatus, statusEntry, type StatusKind } from '../../../src/connectors/netopia-v2/statuses.js';
import { OUTCOME_KINDS } from '../../../src/core/transitions.js';

// The SDK constants (identical in NETOPIA's Go, Python and PHP SDKs) and what each means for the ledger.
const EXPECTED: Record<number, [string, StatusKind]> = {
  1: ['NEW', 'informational'],
  2: ['OPENED', 'authorized'],
  3: ['PAID', 'captured'],
  4: ['CANCELED', 'canceled'],
  5: ['CONFIRMED', 'captured'],
  6: ['PENDING', 'pending_review'],
  7: ['SCHEDULED', 'informational'],
  8: ['CREDIT', 'refunded'],
  9: ['CHARGEBACK_INIT', 'informational'],
  10: ['CHARGEBACK_ACCEPT', 'refunded'],
  11: ['ERROR', 'failed'],
  12: ['DECLINED', 'failed'],
  13: ['FRAUD', 'pending_review'],
  14: ['PENDING_AUTH', 'pending_review'],
  15: ['3D_AUTH', 'informational'],
  16: ['CHARGEBACK_REPRESENTMENT', 'informational'],
  17: ['REVERSED', 'canceled'],
  18: ['PENDING_ANY', 'pending_review'],
  19: ['PROGRAMMED_RECURRENT_PAYMENT', 'informational'],
  20: ['CANCELED_PROGRAMMED_RECURRENT_PAYMENT', 'informational'],
  21: ['TRIAL_PENDING', 'informational'],
  22: ['TRIAL', 'informational'],
  23: ['EXPIRED', 'failed'],
};

describe('payment.status 1-23 (§2.6) onto the ledger', () => {
  it('the table has exactly the 23 SDK statuses, each with its constant name', () => {
    assert.deepEqual(
      Object.keys(NETOPIA_V2_STATUSES).map(Number),
      Array.from({ length: 23 }, (_, i) => i + 1),
    );
    for (const [n, [name, kind]] of Object.entries(EXPECTED)) {
      assert.equal(NETOPIA_V2_STATUSES[Number(n)]!.name, name, `status ${n}`);
      assert.equal(NETOPIA_V2_STATUSES[Number(n)]!.kind, kind, `status ${n} ${name}`);
    }
  });

  it('every status yields an outcome the state machine knows, with its amount where money moved', () => {
    for (let status = 1; status <= 23; status++) {
      const { outcome } = outcomeOfStatus({ status, amountMinor: 15990, code: '00', message: 'Approved' });
      assert.ok(OUTCOME_KINDS.includes(outcome.kind), `status ${status}`);
      assert.equal(outcome.kind, EXPECTED[status]![1], `status ${status}`);
      if (outcome.kind === 'captured' || outcome.kind === 'authorized') assert.equal(outcome.amount, 15990);
      if (outcome.kind === 'refunded') assert.equal(outcome.totalRefunded, 15990);
    }
  });

  it("12 DECLINED is a decline (the order stays payable), with NETOPIA's code and message", () => {
    assert.deepEqual(outcomeOfStatus({ status: 12, amountMinor: 100, code: '20', message: 'Insufficient funds' }).outcome, {
      kind: 'failed',
      code: '20',
      message: 'Insufficient funds',
    });
    // Without a code the status names the failure.
    assert.deepEqual(outcomeOfStatus({ status: 23, amountMinor: 100 }).outcome, { kind: 'failed', code: 'status_23', message: 'EXPIRED' });
    assert.deepEqual(outcomeOfStatus({ status: 11, amountMinor: 100, code: '99' }).outcome, { kind: 'failed', code: '99', message: 'Generic error' });
  });

  it('an informational status with a card decline code (16-38) is a decline', () => {
    assert.equal(outcomeOfStatus({ status: 1, amountMinor: 1, code: '19' }).outcome.kind, 'failed');
    assert.equal(outcomeOfStatus({ status: 1, amountMinor: 1, code: '101' }).outcome.kind, 'informational');
    assert.equal(outcomeOfStatus({ status: 15, amountMinor: 1, code: '100' }).outcome.kind, 'informational');
  });

  it('unknown numbers are informational and recorded under their number', () => {
    assert.deepEqual(statusEntry(24), { name: 'UNKNOWN_24', kind: 'informational', action: 'status_24' });
    assert.deepEqual(outcomeOfStatus({ status: 0, amountMinor: 1 }).outcome, { kind: 'informational' });
    assert.equal(statusEntry(Number('__proto__')).kind, 'informational');
  });
});

describe('dedupe keys: `${ntpID}:${status}`, a credit with its cumulative total', () => {
  const key = (status: number, amountMinor = 100, code?: string) => {
    const facts = { status, amountMinor, ...(code ? { code } : {}) };
    return dedupeKeyOf('42', facts, outcomeOfStatus(facts));
  };
  it('is the ntpID and the status', () => {
    assert.equal(key(3), '42:3');
    assert.equal(key(3, 999), '42:3');
    assert.equal(key(12, 100, '21'), '42:12');
  });
  it('adds the credited total to a credit, so each partial credit is news and replays are not', () => {
    assert.equal(key(8, 500), '42:8:500');
    assert.notEqual(key(8, 500), key(8, 700));
  });
  it('adds the code to a decline read from an informational status', () => {
    assert.equal(key(1, 100, '19'), '42:1:19');
    assert.equal(key(1), '42:1');
  });
});
