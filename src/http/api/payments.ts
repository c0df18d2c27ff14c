import type { FastifyInstance } from 'fastify';
import type { HubContext } from '../../services/context.js';
import { hashRequest } from '../../services/idempotency.js';
import { getPayment, listPayments } from '../../services/payments.js';
import { createPaymentOnce } from '../../services/ledger/index.js';
import { requireMerchant, type AuthConfig } from '../auth.js';
import { CreatePaymentBody, IdempotencyHeaders, IdParams, ListPaymentsQuery, PaymentSchema, Problem } from './schemas.js';

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
}
