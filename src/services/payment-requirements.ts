import type { ConnectorCapabilities, Party, PayerField, PaymentFlow } from '../connectors/types.js';

/**
 * What a connector declares it can do (capabilities: currencies, the smallest and largest amount, the flows, the
 * payer fields the processor requires, refunds), checked in one place for every surface that creates payments (the native
 * API, the payment step, OnPay's get_link) and for the payment page, so a payment its processor could never
 * open is refused when it is asked for, not when the payer opens it. Each surface words the problems in its
 * own protocol.
 */

export type PaymentProblem =
  | { field: 'currency'; kind: 'currency_not_accepted'; accepted: readonly string[] }
  | { field: 'amount'; kind: 'amount_too_large'; max: number }
  | { field: 'amount'; kind: 'amount_too_small'; min: number }
  /** The connector opens payments in none of the ways this surface offers (e.g. a terminal-only connector, for a payment page). */
  | { field: 'connection'; kind: 'flow_not_supported'; flows: readonly PaymentFlow[] }
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
  /** How the payer will pay; default: on the hub's payment page (`redirect` or `api_start`). */
  flows?: readonly PaymentFlow[];
}

/** The flows of the hub's hosted payment page (`/pay/:id`): a browser form to the processor, or an API start. */
export const PAYMENT_PAGE_FLOWS: readonly PaymentFlow[] = ['redirect', 'api_start'];

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
  if (payment.amount !== undefined && payment.amount < capabilities.minAmountMinor) {
    problems.push({ field: 'amount', kind: 'amount_too_small', min: capabilities.minAmountMinor });
  }
  const flows = payment.flows ?? PAYMENT_PAGE_FLOWS;
  if (!capabilities.flows.some((f) => flows.includes(f))) problems.push({ field: 'connection', kind: 'flow_not_supported', flows: capabilities.flows });
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
    case 'amount_too_small':
      return `must be at least ${problem.min} minor units for ${provider}`;
    case 'flow_not_supported':
      return `${provider} takes payments only by ${problem.flows.join(', ')}, not on the payment page`;
    case 'missing':
      return `is required by ${provider}`;
  }
}

/**
 * Why the processor cannot make this refund as asked (the connector's `refunds` capability), or null: `none`, the
 * hub cannot ask for refunds; `full`, only the whole captured amount, once.
 */
export function refundProblem(
  capabilities: ConnectorCapabilities,
  provider: string,
  refund: { amount: number; captured: number; refundedBefore: number },
): { field: 'amount' | null; message: string } | null {
  switch (capabilities.refunds) {
    case 'none':
      return { field: null, message: `${provider} refunds are made in the processor's own back office; the hub records them from its notifications` };
    case 'full':
      if (refund.refundedBefore > 0 || refund.amount !== refund.captured)
        return { field: 'amount', message: `must be the whole captured amount (${refund.captured}): ${provider} refunds a payment only in full` };
      return null;
    case 'partial':
      return null;
  }
}
