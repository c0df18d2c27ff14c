import type { Selectable } from 'kysely';
import type { EmuTables } from './schema.js';
import { wallClockAt, wallClockParts } from '../../src/core/wall-clock.js';
import { ORDER_REFERENCE_VAR } from '../../src/connectors/multisafepay/create-order.js';

/**
 * An order as MultiSafepay shows it (OpenAPI `OrderDetails`: GET /orders/{order_id} and the body of POST
 * notifications), built from the emulator's row. Field order and null placeholders follow the docs' examples.
 */

export type OrderRow = Selectable<EmuTables['emu_multisafepay_orders']>;

/** A card brand on the page and its `payment_details.type` / `payment_description`. */
export const BRAND_NAMES: Readonly<Record<string, string>> = { VISA: 'Visa', MASTERCARD: 'Mastercard', MAESTRO: 'Maestro', AMEX: 'American Express' };

/** MultiSafepay's timestamps: `2022-09-07T11:19:59`, no zone. The emulator writes Amsterdam wall-clock time. */
export function mspTime(date: Date | string | null): string | null {
  if (date === null) return null;
  const { date: day, time } = wallClockParts(wallClockAt(new Date(date), 'Europe/Amsterdam'));
  return `${day}T${time}`;
}

function str(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}

/**
 * The reference the payer knows the order by: the merchant's own (the hub sends it in a free variable,
 * `ORDER_REFERENCE_VAR`, which MultiSafepay keeps with the order) when the order has one, else its order id.
 */
export function payerOrderReference(row: OrderRow): string {
  return row[ORDER_REFERENCE_VAR] || row.order_id;
}

export function orderView(row: OrderRow): Record<string, unknown> {
  const customer = row.customer ?? {};
  const amount = Number(row.amount);
  const transactionId = Number(row.transaction_id);
  const view: Record<string, unknown> = {
    transaction_id: transactionId,
    order_id: row.order_id,
    created: mspTime(row.created_at),
    modified: mspTime(row.modified_at),
    ...(row.completed_at ? { completed: mspTime(row.completed_at) } : {}),
    currency: row.currency,
    amount,
    description: row.description,
    items: null,
    amount_refunded: Number(row.amount_refunded),
    status: row.status,
    financial_status: row.financial_status,
    reason: row.reason ?? '',
    reason_code: row.reason_code ?? '',
    fastcheckout: 'NO',
    customer: {
      locale: str(customer.locale) ?? 'en_US',
      first_name: str(customer.first_name),
      last_name: str(customer.last_name),
      address1: str(customer.address1),
      address2: str(customer.address2),
      house_number: str(customer.house_number),
      zip_code: str(customer.zip_code),
      city: str(customer.city),
      state: str(customer.state),
      country: str(customer.country),
      country_name: null,
      phone1: str(customer.phone),
      phone2: null,
      email: str(customer.email) ?? '',
    },
    custom_info: { custom_1: null, custom_2: null, custom_3: null },
    payment_details: {
      account_holder_name: row.account_holder_name,
      account_id: null,
      card_expiry_date: row.card_expiry_date,
      external_transaction_id: row.payment_type ? String(transactionId) : null,
      last4: row.last4,
      recurring_flow: null,
      recurring_id: null,
      recurring_model: null,
      response_code: row.response_code,
      type: row.payment_type,
    },
    costs: [],
    related_transactions: null,
    payment_methods: row.payment_type
      ? [
          {
            amount,
            currency: row.currency,
            description: row.description,
            external_transaction_id: String(transactionId),
            payment_description: BRAND_NAMES[row.payment_type] ?? row.payment_type,
            status: row.financial_status,
            type: row.payment_type,
          },
        ]
      : [],
    var1: row.var1,
    var2: row.var2,
    var3: row.var3,
  };
  return view;
}
