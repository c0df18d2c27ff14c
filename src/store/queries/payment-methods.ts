import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from '../schema.js';

/**
 * A common table expression, named `payment_method`, that adds a method (already trimmed to its stored length,
 * with its family) the first time a notification names it, where `guard` holds.
 */
export function registerPaymentMethodCte(name: string, family: string, guard: RawBuilder<unknown>): RawBuilder<unknown> {
  // The existence check first keeps the sequence free of gaps; ON CONFLICT covers two first sightings at once.
  return sql`payment_method AS (
      INSERT INTO onpay_payment_methods (code_description, family)
      SELECT ${name}, ${family}
      WHERE ${guard} AND NOT EXISTS (SELECT 1 FROM onpay_payment_methods WHERE code_description = ${name})
      ON CONFLICT (code_description) DO NOTHING
    )`;
}

/** A payment method as the registry lists it (its merged code is the smallest of its family). */
export interface PaymentMethodRow {
  code_number: number;
  code_description: string;
  code_number_merged: number;
}

/** Every method seen, in the order first seen, with its family's merged code (as the database returns the numbers). */
export async function paymentMethodRows(db: Kysely<Database>): Promise<PaymentMethodRow[]> {
  const rows = await sql<PaymentMethodRow>`
    SELECT m.code_number, m.code_description, (SELECT min(f.code_number) FROM onpay_payment_methods f WHERE f.family = m.family) AS code_number_merged
    FROM onpay_payment_methods m ORDER BY m.code_number`.execute(db);
  return rows.rows;
}

/** The methods of these stored names (already trimmed to their stored length). */
export function paymentMethodsNamed(db: Kysely<Database>, names: string[]) {
  return db.selectFrom('onpay_payment_methods').select(['code_number', 'code_description']).where('code_description', 'in', names).execute();
}
