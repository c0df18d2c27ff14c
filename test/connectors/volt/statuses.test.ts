import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { outcomeFor, resolveStatus, VOLT_STATUS_OUTCOMES } from '../../../src/connectors/volt/statuses.js';

describe('Volt status words → ledger outcomes (the exported table)', () => {
  it('every word of the notification, detailed and GET /payments/{id} enums is in the table', () => {
    const documented = [
      'COMPLETED',
      'FAILED',
      'PENDING',
      'RECEIVED',
      'NOT_RECEIVED',
      'REFUSED_BY_RISK',
      'REFUSED_BY_BANK',
      'ERROR_AT_BANK',
      'CANCELLED_BY_USER',
      'ABANDONED_BY_USER',
      'BANK_REDIRECT',
      'DELAYED_AT_BANK',
      'AWAITING_CHECKOUT_AUTHORISATION',
      'NEW_PAYMENT',
      'SETTLED',
      'AUTHORISED_BY_USER',
      'APPROVED_BY_RISK',
      'ADDITIONAL_AUTHORIZATION_REQUIRED',
      'PROVIDER_COMMUNICATION_ERROR',
      'REFUND_CONFIRMED',
      'REFUND_FAILED',
    ];
    for (const word of documented) assert.ok(word in VOLT_STATUS_OUTCOMES, word);
  });

  it('the table, word by word', () => {
    const byKind: Record<string, string[]> = {};
    for (const [word, kind] of Object.entries(VOLT_STATUS_OUTCOMES)) (byKind[kind] ??= []).push(word);
    assert.deepEqual(byKind, {
      captured: ['COMPLETED', 'RECEIVED', 'SETTLED'],
      pending_review: ['PENDING', 'DELAYED_AT_BANK', 'AUTHORISED_BY_USER', 'ADDITIONAL_AUTHORIZATION_REQUIRED', 'PROVIDER_COMMUNICATION_ERROR'],
      informational: ['NEW_PAYMENT', 'BANK_REDIRECT', 'AWAITING_CHECKOUT_AUTHORISATION', 'APPROVED_BY_RISK'],
      failed: ['FAILED', 'NOT_RECEIVED', 'REFUSED_BY_BANK', 'REFUSED_BY_RISK', 'ERROR_AT_BANK', 'CANCELLED_BY_USER', 'ABANDONED_BY_USER'],
      refunded: ['REFUND_CONFIRMED'],
      operation_failed: ['REFUND_FAILED', 'REFUND_REJECTED'],
    });
  });

  it('a shopper who cancels or abandons fails the attempt; the payment stays payable (never `canceled`)', () => {
    assert.deepEqual(outcomeFor(resolveStatus('FAILED', 'CANCELLED_BY_USER'), 500), {
      kind: 'failed',
      code: 'CANCELLED_BY_USER',
      message: 'The shopper cancelled the payment',
    });
    assert.deepEqual(outcomeFor(resolveStatus('FAILED', 'ABANDONED_BY_USER'), 500), {
      kind: 'failed',
      code: 'ABANDONED_BY_USER',
      message: 'The shopper abandoned the payment',
    });
  });
});

describe('Volt detailedStatus refines status, within its class', () => {
  const cases: Array<[string | undefined, string | undefined, string, string]> = [
    ['COMPLETED', 'COMPLETED', 'COMPLETED', 'captured'],
    ['FAILED', 'REFUSED_BY_RISK', 'REFUSED_BY_RISK', 'failed'],
    ['FAILED', 'ERROR_AT_BANK', 'ERROR_AT_BANK', 'failed'],
    ['FAILED', undefined, 'FAILED', 'failed'],
    ['PENDING', 'BANK_REDIRECT', 'BANK_REDIRECT', 'informational'],
    ['PENDING', 'AWAITING_CHECKOUT_AUTHORISATION', 'AWAITING_CHECKOUT_AUTHORISATION', 'informational'],
    ['PENDING', 'DELAYED_AT_BANK', 'DELAYED_AT_BANK', 'pending_review'],
    ['PENDING', undefined, 'PENDING', 'pending_review'],
    ['RECEIVED', undefined, 'RECEIVED', 'captured'],
    ['NOT_RECEIVED', undefined, 'NOT_RECEIVED', 'failed'],
    // A detailed word that contradicts the broad status is not believed.
    ['FAILED', 'COMPLETED', 'FAILED', 'failed'],
    ['COMPLETED', 'REFUSED_BY_BANK', 'COMPLETED', 'captured'],
    ['PENDING', 'COMPLETED', 'PENDING', 'pending_review'],
    // GET /payments/{id} has only the flat status.
    ['REFUSED_BY_BANK', undefined, 'REFUSED_BY_BANK', 'failed'],
    ['NEW_PAYMENT', undefined, 'NEW_PAYMENT', 'informational'],
    // Unknown words.
    [undefined, 'REFUSED_BY_BANK', 'REFUSED_BY_BANK', 'failed'],
    ['WHATEVER', undefined, 'WHATEVER', 'informational'],
  ];
  for (const [status, detailed, word, kind] of cases) {
    it(`${status ?? '-'} / ${detailed ?? '-'} → ${word} (${kind})`, () => assert.deepEqual(resolveStatus(status, detailed), { word, kind }));
  }
});
