import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { HubContext } from '../../services/context.js';
import { createRefundOnce, listRefunds, presentRefund } from '../../services/refunds.js';
import { requireMerchant, type AuthConfig } from '../auth.js';
import { CreateRefundBody, IdempotencyHeaders, IdParams, Problem, RefundSchema } from './schemas.js';

export async function refundRoutes(app: FastifyInstance, opts: { ctx: HubContext; auth: AuthConfig }) {
  const { ctx } = opts;
  app.addHook('onRequest', requireMerchant(opts.auth));
  const tags = ['refunds'];

  app.post<{ Params: { id: string }; Body: CreateRefundBody; Headers: { 'idempotency-key'?: string } }>(
    '/v1/payments/:id/refunds',
    {
      schema: {
        tags,
        summary: "Refund a paid payment, fully or partly, through the processor's API",
        description: 'The answer says how the processor settled it; `processing` means its answer is still awaited and the hub will ask it.',
        params: IdParams,
        body: CreateRefundBody,
        headers: IdempotencyHeaders,
        response: { 201: RefundSchema, 409: Problem, 422: Problem },
      },
    },
    async (request, reply) => {
      // A replay shows the refund as it is now; a new refund is sent now (the janitor sends it if this process dies).
      const stored = await createRefundOnce(ctx, request.merchant!.id, request.params.id, request.body, request.headers['idempotency-key']);
      if (stored.replayed) reply.header('idempotent-replayed', 'true');
      return reply.code(stored.status).send(presentRefund(stored.refund));
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/payments/:id/refunds',
    {
      schema: {
        tags,
        summary: "A payment's refunds, oldest first",
        params: IdParams,
        response: { 200: Type.Object({ object: Type.Literal('list'), data: Type.Array(RefundSchema) }) },
      },
    },
    async (request) => ({ object: 'list' as const, data: (await listRefunds(ctx, request.merchant!.id, request.params.id)).map(presentRefund) }),
  );
}
