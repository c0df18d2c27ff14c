import { sql, type Insertable, type Kysely, type Transaction } from 'kysely';
import type { Database, PaymentStepsTable, WebhookEndpointsTable } from '../schema.js';

type Db = Kysely<Database>;

/** Serializes concurrent calls for one conversation step until the transaction ends (a row lock cannot: the row may not exist yet). */
export async function lockPaymentStep(trx: Transaction<Database>, merchantId: string, conversationId: string, stepId: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtextextended(${`payment_step:${merchantId}:${conversationId}:${stepId}`}, 0))`.execute(trx);
}

/** The merchant's payment step of a conversation, if there is one. */
export function findPaymentStep(db: Db, merchantId: string, conversationId: string, stepId: string) {
  return db
    .selectFrom('payment_steps')
    .selectAll()
    .where('merchant_id', '=', merchantId)
    .where('conversation_id', '=', conversationId)
    .where('step', '=', stepId)
    .executeTakeFirst();
}

/** Adds the webhook endpoint a payment step's callback URL is told through. */
export async function insertStepCallbackEndpoint(db: Db, endpoint: Insertable<WebhookEndpointsTable>): Promise<void> {
  await db.insertInto('webhook_endpoints').values(endpoint).execute();
}

/** The fields a payment step's (re)start writes, beside its key. */
export type PaymentStepValues = Omit<Insertable<PaymentStepsTable>, 'merchant_id' | 'conversation_id' | 'step' | 'created_at'>;

/** Writes a conversation step's payment, replacing the step's earlier one; returns the step. */
export function upsertPaymentStep(db: Db, merchantId: string, conversationId: string, stepId: string, values: PaymentStepValues, now: Date) {
  return db
    .insertInto('payment_steps')
    .values({ merchant_id: merchantId, conversation_id: conversationId, step: stepId, ...values, created_at: now })
    .onConflict((oc) => oc.columns(['merchant_id', 'conversation_id', 'step']).doUpdateSet(values))
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Keeps the processor's latest status document on the payment's conversation steps; returns them. */
export function updateStepProcessorResponse(db: Db, paymentId: string, response: Record<string, unknown>, now: Date) {
  return db
    .updateTable('payment_steps')
    .set({ processor_response: JSON.stringify(response), updated_at: now })
    .where('payment_id', '=', paymentId)
    .returningAll()
    .execute();
}
