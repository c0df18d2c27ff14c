import type { FastifyInstance } from 'fastify';
import { createMerchant, listMerchants, rotateMerchantKey } from '../../services/merchants.js';
import { NotFoundError, type HubContext } from '../../services/context.js';
import { requireAdmin, requireMerchant, type AuthConfig } from '../auth.js';
import { CreateMerchantBody, IdParams } from './schemas.js';

const present = (m: { id: string; name: string; api_key_prefix: string; created_at: Date }) => ({
  id: m.id,
  object: 'merchant' as const,
  name: m.name,
  api_key_prefix: m.api_key_prefix,
  created_at: new Date(m.created_at).toISOString(),
});

export async function merchantRoutes(app: FastifyInstance, opts: { ctx: HubContext; auth: AuthConfig }) {
  const { ctx, auth } = opts;
  // Authentication runs first (onRequest), so a stranger never learns anything from validation errors.
  const admin = { onRequest: requireAdmin(auth) };

  app.post<{ Body: { name: string } }>(
    '/v1/merchants',
    { ...admin, schema: { tags: ['operator'], summary: 'Create a merchant and its API key (shown once)', body: CreateMerchantBody } },
    async (request, reply) => {
      const { merchant, apiKey } = await createMerchant(ctx, request.body.name);
      return reply.code(201).send({ ...present(merchant), api_key: apiKey });
    },
  );

  app.get('/v1/merchants', { ...admin, schema: { tags: ['operator'], summary: 'List merchants' } }, async () => ({
    object: 'list',
    data: (await listMerchants(ctx)).map(present),
  }));

  app.post<{ Params: { id: string } }>(
    '/v1/merchants/:id/rotate-key',
    { ...admin, schema: { tags: ['operator'], summary: "Replace a merchant's API key", params: IdParams } },
    async (request) => {
      const key = await rotateMerchantKey(ctx, request.params.id);
      if (!key) throw new NotFoundError(`no merchant ${JSON.stringify(request.params.id)}`);
      return { id: request.params.id, api_key: key };
    },
  );

  app.get('/v1/merchant', { onRequest: requireMerchant(auth), schema: { tags: ['merchant'], summary: 'The merchant the key belongs to' } }, async (request) =>
    present(request.merchant!),
  );
}
