import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CONNECTORS } from '../../src/connectors/registry.js';
import { DEFAULT_DEADLINES_MS, PAYMENT_FLOWS, deadlineOf, failureOfHttpStatus, type ProcessorOperation } from '../../src/connectors/types.js';
import { isKnownCurrency } from '../../src/core/money.js';
import { checkPaymentAgainstConnector, refundProblem } from '../../src/services/payment-requirements.js';

/**
 * Capabilities are data the hub enforces, so each connector's must say what its code does: a flow it declares
 * has the call behind it, a refund it offers can be sent, its amounts and currencies are ones it can encode.
 */
describe('every connector declares its capabilities truthfully', () => {
  for (const [provider, c] of Object.entries(CONNECTORS)) {
    it(`${provider}: flows, refunds, currencies and amount limits match its code`, () => {
      const caps = c.capabilities;
      assert.ok(caps.flows.length > 0 && caps.flows.every((f) => PAYMENT_FLOWS.includes(f)));
      assert.equal(caps.flows.includes('redirect'), c.createRedirect !== undefined, 'redirect ⇔ createRedirect');
      assert.equal(caps.flows.includes('api_start'), c.start !== undefined, 'api_start ⇔ start');
      assert.equal(caps.flows.includes('terminal'), false, 'no terminal connector yet');
      assert.equal(caps.refunds !== 'none', c.refund !== undefined, 'refunds ⇔ refund');
      assert.ok(caps.currencies.length > 0 && caps.currencies.every(isKnownCurrency), caps.currencies.join());
      assert.ok(Number.isSafeInteger(caps.minAmountMinor) && caps.minAmountMinor >= 1);
      assert.ok(Number.isSafeInteger(caps.maxAmountMinor) && caps.maxAmountMinor >= caps.minAmountMinor);
      for (const op of Object.keys(DEFAULT_DEADLINES_MS) as ProcessorOperation[]) {
        const ms = deadlineOf(c, op);
        assert.ok(Number.isInteger(ms) && ms >= 1000 && ms <= 300_000, `${op}: ${ms}`);
      }
    });
  }
});

describe('the capabilities are enforced in one place', () => {
  const base = {
    currencies: ['EUR'],
    minAmountMinor: 100,
    maxAmountMinor: 1000,
    requiredPayerFields: [],
    refunds: 'partial',
    manualCapture: false,
    flows: ['api_start'],
  } as const;

  it("an amount below the processor's least is refused by field, as one above its most", () => {
    assert.deepEqual(checkPaymentAgainstConnector(base, { amount: 99, currency: 'EUR' }), [{ field: 'amount', kind: 'amount_too_small', min: 100 }]);
    assert.deepEqual(checkPaymentAgainstConnector(base, { amount: 1001, currency: 'EUR' }), [{ field: 'amount', kind: 'amount_too_large', max: 1000 }]);
    assert.deepEqual(checkPaymentAgainstConnector(base, { amount: 100, currency: 'EUR' }), []);
  });

  it('a connector that cannot take payments on the payment page (a terminal) is refused for one, naming the connection', () => {
    const terminal = { ...base, flows: ['terminal'] } as const;
    assert.deepEqual(checkPaymentAgainstConnector(terminal, { amount: 500, currency: 'EUR' }), [
      { field: 'connection', kind: 'flow_not_supported', flows: ['terminal'] },
    ]);
    assert.deepEqual(checkPaymentAgainstConnector(terminal, { amount: 500, currency: 'EUR', flows: ['terminal'] }), []);
  });

  it('refunds: none refuses every refund, full only the whole captured amount once, partial any part', () => {
    const ask = (refunds: 'none' | 'full' | 'partial', amount: number, refundedBefore = 0) =>
      refundProblem({ ...base, refunds }, 'acme', { amount, captured: 1000, refundedBefore });
    assert.match(ask('none', 1000)?.message ?? '', /back office/);
    assert.equal(ask('none', 1000)?.field, null);
    assert.equal(ask('full', 1000), null);
    assert.equal(ask('full', 400)?.field, 'amount');
    assert.equal(ask('full', 600, 400)?.field, 'amount');
    assert.equal(ask('partial', 400), null);
  });
});

describe('what an HTTP error status says about a request', () => {
  it('408 and 429 were turned away unprocessed, a 5xx may have been carried out, any other status is a refusal', () => {
    const table: Array<[number, string]> = [
      [400, 'refused'],
      [401, 'refused'],
      [403, 'refused'],
      [404, 'refused'],
      [408, 'unreachable'],
      [409, 'refused'],
      [422, 'refused'],
      [429, 'unreachable'],
      [500, 'unknown'],
      [502, 'unknown'],
      [503, 'unknown'],
      [504, 'unknown'],
    ];
    for (const [status, failure] of table) assert.equal(failureOfHttpStatus(status), failure, String(status));
  });
});
