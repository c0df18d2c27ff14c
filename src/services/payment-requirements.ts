import type { ConnectorCapabilities, Party, PayerField } from '../connectors/types.js';

/**
 * What a connector declares it needs of a payment (capabilities: currencies, the largest amount, the payer
 * fields the processor requires), checked in one place for every surface that creates payments (the native
 * API, the payment step, OnPay's get_link) and for the payment page, so a payment its processor could never
 * open is refused when it is asked for, not when the payer opens it. Each surface words the problems in its
 * own protocol.
 */

export type PaymentProblem =
  | { field: 'currency'; kind: 'currency_not_accepted'; accepted: readonly string[] }
  | { field: 'amount'; kind: 'amount_too_large'; max: number }
  | { field: PayerField; kind: 'missing' };

/**
 * What the check reads of a payment: a request being created, or a stored payment. What is left out (undefined)
 * is not checked, for a surface that has not read it (yet); a party given as null is a payment without one.
 */
export interface PaymentFacts {
  amount?: number;
  currency?: string;
  billing?: Partial<Party> | Record<string, unknown> | null;
  shipping?: Partial<Party> | Record<string, unknown> | null;
}

const filled = (v: unknown) => typeof v === 'string' && v.trim() !== '';

/** The problems that keep `connector` from ever opening this payment; empty when there are none. */
export function checkPaymentAgainstConnector(capabilities: ConnectorCapabilities, payment: PaymentFacts): PaymentProblem[] {
  const problems: PaymentProblem[] = [];
  if (payment.currency !== undefined && !capabilities.currencies.includes(payment.currency)) {
    problems.push({ field: 'currency', kind: 'currency_not_accepted', accepted: capabilities.currencies });
  }
  if (payment.amount !== undefined && payment.amount > capabilities.maxAmountMinor) {
    problems.push({ field: 'amount', kind: 'amount_too_large', max: capabilities.maxAmountMinor });
  }
  for (const field of capabilities.requiredPayerFields) {
    const [party, name] = field.split('.') as ['billing' | 'shipping', string];
    const holder = payment[party] as Record<string, unknown> | null | undefined;
    if (holder !== undefined && !filled(holder?.[name])) problems.push({ field, kind: 'missing' });
  }
  return problems;
}

/** A problem in the native API's words (field errors of a 422 problem document). */
export function problemMessage(problem: PaymentProblem, provider: string): string {
  switch (problem.kind) {
    case 'currency_not_accepted':
      return `${provider} accepts ${problem.accepted.join(', ')}`;
    case 'amount_too_large':
      return `must be at most ${problem.max} minor units for ${provider}`;
    case 'missing':
      return `is required by ${provider}`;
  }
}
