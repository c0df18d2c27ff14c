import type { FastifyInstance } from 'fastify';
import type { HubContext } from '../../services/context.js';
import { getPaymentStep, runPaymentStepOnce } from '../../services/payment-steps.js';
import { requireMerchant, type AuthConfig } from '../auth.js';
import { PaymentStepBody, PaymentStepParams, PaymentStepQuery, PaymentStepSchema, Problem } from './schemas.js';

/** The payment step of a conversational agent: collected fields in, a payment link (and later its status) out. */
export async function paymentStepRoutes(app: FastifyInstance, opts: { ctx: HubContext; auth: AuthConfig }) {
  const { ctx } = opts;
  app.addHook('onRequest', requireMerchant(opts.auth));
  const tags = ['payment steps'];

  app.post<{ Body: PaymentStepBody }>(
    '/v1/payment-steps',
    {
      schema: {
        tags,
        summary: "Run a conversation's payment step: validate the collected fields, answer Payment.Url",
        description:
          "Fields use the chat flow's names (`Payment.Amount`, `Payment.Email`, …, optional `PaymentShipping.*`). Missing or invalid fields → 422 with one message per field in the end user's language, and nothing is created. The same conversation step asked again returns the same link while it is payable (200).",
        body: PaymentStepBody,
        response: { 200: PaymentStepSchema, 201: PaymentStepSchema, 409: Problem, 422: Problem },
      },
    },
    async (request, reply) => {
      const result = await runPaymentStepOnce(ctx, request.merchant!.id, request.body);
      return reply.code(result.created ? 201 : 200).send(result.body);
    },
  );

  app.get<{ Params: { conversation_id: string }; Querystring: { step?: string } }>(
    '/v1/payment-steps/:conversation_id',
    {
      schema: {
        tags,
        summary: "A conversation's payment step: its link and, once resolved, Payment.Status",
        params: PaymentStepParams,
        querystring: PaymentStepQuery,
        response: { 200: PaymentStepSchema },
      },
    },
    async (request) => getPaymentStep(ctx, request.merchant!.id, request.params.conversation_id, request.query.step),
  );
}
