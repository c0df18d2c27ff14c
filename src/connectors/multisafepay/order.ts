import { currencyExponent, MoneyError } from '../../core/money.js';
import { idText, isRecord, optionalString } from './json.js';

/**
 * The parts of MultiSafepay's order object (`OrderDetails`: the notification body and the `data` of
 * GET /orders/{order_id}) that the hub reads. Everything else is left alone.
 */
export interface MspOrder {
  order_id: string;
  status: string;
  financial_status?: string;
  /** Minor units of `currency` (MultiSafepay: "the currency's smallest unit"; JPY not multiplied). */
  amount: number;
  amount_refunded?: number;
  currency: string;
  transaction_id?: string;
  /** payment_details.type: VISA, MASTERCARD, MAESTRO, AMEX, IDEAL, … */
  payment_type?: string;
  last4?: string;
  reason?: string;
  reason_code?: string;
  response_code?: string;
  created?: string;
  modified?: string;
  completed?: string;
  var1?: string;
}

export class MspOrderError extends Error {
  override name = 'MspOrderError';
}

/** MultiSafepay's amounts are ISO 4217 minor units already: checked, not converted. */
export function fromMspAmount(value: unknown, currency: string, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new MspOrderError(`${field} must be a non-negative integer of minor units`);
  return value;
}

/** The core's minor units are what MultiSafepay's `amount` wants for every ISO 4217 currency (10 EUR = 1000, 10 JPY = 10). */
export function toMspAmount(amount: number, currency: string): number {
  currencyExponent(currency);
  if (!Number.isSafeInteger(amount) || amount < 0) throw new MoneyError(`not an amount of minor units: ${amount}`);
  return amount;
}

function codeText(v: unknown): string | undefined {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
  return optionalString(v, 100);
}

/** Reads an order object; throws MspOrderError when a field the hub relies on is missing or malformed. */
export function readOrder(value: unknown): MspOrder {
  if (!isRecord(value)) throw new MspOrderError('the order is not a JSON object');
  // An order id sent as a number comes back as one (the docs' own GET example has "order_id": 12345).
  const orderId = typeof value.order_id === 'number' ? idText(value.order_id) : value.order_id;
  if (typeof orderId !== 'string' || orderId.length === 0 || orderId.length > 100) throw new MspOrderError('order_id is missing');
  const status = value.status;
  if (typeof status !== 'string' || !/^[a-z_]{1,40}$/.test(status)) throw new MspOrderError('status is missing or malformed');
  const currency = value.currency;
  if (typeof currency !== 'string' || !/^[A-Z]{3}$/.test(currency)) throw new MspOrderError('currency must be an ISO 4217 code');
  try {
    currencyExponent(currency);
  } catch {
    throw new MspOrderError(`currency ${currency} is not one the hub knows`);
  }
  const amount = fromMspAmount(value.amount, currency, 'amount');
  const refunded =
    value.amount_refunded === undefined || value.amount_refunded === null ? undefined : fromMspAmount(value.amount_refunded, currency, 'amount_refunded');
  if (refunded !== undefined && refunded > amount) throw new MspOrderError(`amount_refunded ${refunded} exceeds the order amount ${amount}`);
  const details = isRecord(value.payment_details) ? value.payment_details : {};
  const financial = value.financial_status;
  const order: MspOrder = { order_id: orderId, status, amount, currency };
  if (typeof financial === 'string' && /^[a-z_]{1,40}$/.test(financial)) order.financial_status = financial;
  if (refunded !== undefined) order.amount_refunded = refunded;
  const set = <K extends keyof MspOrder>(key: K, v: MspOrder[K] | undefined) => {
    if (v !== undefined) order[key] = v;
  };
  set('transaction_id', idText(value.transaction_id));
  set('payment_type', optionalString(details.type, 60));
  const last4 = codeText(details.last4);
  set('last4', last4 && /^\d{4}$/.test(last4) ? last4 : undefined);
  set('reason', optionalString(value.reason, 300));
  set('reason_code', codeText(value.reason_code));
  set('response_code', codeText(details.response_code));
  set('created', optionalString(value.created, 40));
  set('modified', optionalString(value.modified, 40));
  set('completed', optionalString(value.completed, 40));
  set('var1', optionalString(value.var1, 100));
  return order;
}
