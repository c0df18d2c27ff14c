import type { FastifyInstance } from 'fastify';
import type { HubContext } from '../../services/context.js';
import { hashRequest } from '../../services/idempotency.js';
import { getPayment, listPayments } from '../../services/payments.js';
import { cancelMerchantPayment } from '../../services/payment-actions.js';
import { createPaymentOnce } from '../../services/ledger/index.js';
import { requireMerchant, type AuthConfig } from '../auth.js';
import { CancelConflict, CreatePaymentBody, IdempotencyHeaders, IdParams, ListPaymentsQuery, PaymentIdParams, PaymentSchema, Problem } from './schemas.js';

export async function paymentRoutes(app: FastifyInstance, opts: { ctx: HubContext; auth: AuthConfig }) {
  const { ctx } = opts;
  // Authentication runs first (onRequest), so a stranger never learns anything from validation errors.
  app.addHook('onRequest', requireMerchant(opts.auth));
  const tags = ['payments'];

  app.post<{ Body: CreatePaymentBody; Headers: { 'idempotency-key'?: string } }>(
    '/v1/payments',
    {
      schema: {
        tags,
        summary: 'Create a payment; the customer pays at payment_url',
        body: CreatePaymentBody,
        headers: IdempotencyHeaders,
        response: { 201: PaymentSchema, 422: Problem },
      },
    },
    async (request, reply) => {
      const merchantId = request.merchant!.id;
      const key = request.headers['idempotency-key'];
      const claim = key === undefined ? undefined : { key, ...hashRequest('POST', '/v1/payments', request.body) };
      const result = await createPaymentOnce(ctx, merchantId, request.body, claim);
      if (result.replayed) reply.header('idempotent-replayed', 'true');
      return reply.code(result.status).send(result.body);
    },
  );

  app.get<{ Querystring: ListPaymentsQuery }>(
    '/v1/payments',
    { schema: { tags, summary: 'List payments, newest first (cursor pagination)', querystring: ListPaymentsQuery } },
    async (request) => {
      const q = request.query;
      return listPayments(ctx, request.merchant!.id, { ...q, limit: q.limit ? Number(q.limit) : undefined });
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/payments/:id',
    { schema: { tags, summary: 'A payment with every attempt and every notification received', params: IdParams, response: { 200: PaymentSchema } } },
    async (request) => getPayment(ctx, request.merchant!.id, request.params.id),
  );

  app.post<{ Params: { id: string } }>(
    '/v1/payments/:id/cancel',
    {
      schema: {
        tags,
        summary: 'Cancel a payment that still waits for its payer',
        description:
          'The payer can no longer pay it, and `payment.canceled` is sent to the webhooks. Only a `pending` payment (not expired) is canceled; ' +
          'canceling one canceled already answers it as it is (safe to retry, no second event); any other state (paid, failed, expired, ' +
          'an attempt in progress) is a 409 problem naming it. The answer is the payment as `GET /v1/payments/{id}` shows it.',
        params: PaymentIdParams,
        response: { 200: PaymentSchema, 404: Problem, 409: CancelConflict },
      },
    },
    async (request) => {
      const merchantId = request.merchant!.id;
      await cancelMerchantPayment(ctx, merchantId, request.params.id);
      return getPayment(ctx, merchantId, request.params.id);
    },
  );
}
