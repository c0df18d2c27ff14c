import { sql, type RawBuilder } from 'kysely';

/**
 * A common table expression, named `claimed`, that stores a response under a key for a statement that makes
 * the response's effect (so the key exists if and only if the effect does), where `guard` holds. It returns a
 * row only when this statement stored the key: the rest of the statement makes its effect only then. A
 * concurrent statement with the same key waits on the unique key until the first one commits.
 */
export function claimCte(
  merchantId: string,
  claim: { key: string; hash: string },
  response: { status: number; body: unknown },
  guard: RawBuilder<unknown>,
): RawBuilder<unknown> {
  return sql`claimed AS (
      INSERT INTO idempotency_keys (merchant_id, key, request_hash, response_status, response_body)
      SELECT ${merchantId}, ${claim.key}, ${claim.hash}, ${response.status}, ${JSON.stringify(response.body)} WHERE ${guard}
      ON CONFLICT (merchant_id, key) DO NOTHING
      RETURNING key
    )`;
}
