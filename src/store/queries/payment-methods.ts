import { sql, type RawBuilder } from 'kysely';

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
