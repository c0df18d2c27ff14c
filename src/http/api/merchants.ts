import type { FastifyInstance } from 'fastify';
import { createApiKey, createMerchant, listApiKeys, listMerchants, revokeApiKey, rotateMerchantKey, type ApiKeyListing } from '../../services/merchants.js';
import { NotFoundError, type HubContext } from '../../services/context.js';
import { requireAdmin, requireMerchant, type AuthConfig } from '../auth.js';
import { CreateApiKeyBody, CreateMerchantBody, IdParams } from './schemas.js';

const present = (m: { id: string; name: string; created_at: Date }) => ({
  id: m.id,
  object: 'merchant' as const,
  name: m.name,
  created_at: new Date(m.created_at).toISOString(),
});

const iso = (d: Date | string | null) => (d ? new Date(d).toISOString() : null);

/** An API key as lists show it: its name and prefix, never the key or its hash. */
const presentKey = (k: ApiKeyListing) => ({
  id: k.id,
  object: 'api_key' as const,
  name: k.name,
  prefix: k.prefix,
  created_at: iso(k.created_at),
  last_used_at: iso(k.last_used_at),
  revoked_at: iso(k.revoked_at),
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
    {
      ...admin,
      schema: { tags: ['operator'], summary: "Replace a merchant's API keys: a new key (shown once), every other key revoked", params: IdParams },
    },
    async (request) => {
      const key = await rotateMerchantKey(ctx, request.params.id);
      if (!key) throw new NotFoundError(`no merchant ${JSON.stringify(request.params.id)}`);
      return { id: request.params.id, api_key: key };
    },
  );

  app.get('/v1/merchant', { onRequest: requireMerchant(auth), schema: { tags: ['merchant'], summary: 'The merchant the key belongs to' } }, async (request) =>
    present(request.merchant!),
  );

  const merchant = { onRequest: requireMerchant(auth) };

  app.get(
    '/v1/merchant/api-keys',
    {
      ...merchant,
      schema: { tags: ['merchant'], summary: "The merchant's API keys, live and revoked (names and prefixes; a key is shown only when created)" },
    },
    async (request) => ({ object: 'list', data: (await listApiKeys(ctx, request.merchant!.id)).map(presentKey) }),
  );

  app.post<{ Body: CreateApiKeyBody }>(
    '/v1/merchant/api-keys',
    { ...merchant, schema: { tags: ['merchant'], summary: 'Create a named API key (the key is answered once)', body: CreateApiKeyBody } },
    async (request, reply) => {
      const created = await createApiKey(ctx, request.merchant!.id, request.body);
      return reply.code(201).send({ ...presentKey(created.key), api_key: created.secret });
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/v1/merchant/api-keys/:id',
    {
      ...merchant,
      schema: {
        tags: ['merchant'],
        summary: 'Revoke an API key: it stops working at once (revoking the last key is allowed and leaves the merchant without API access)',
        params: IdParams,
      },
    },
    async (request) => {
      const { key, liveKeys } = await revokeApiKey(ctx, request.merchant!.id, request.params.id);
      return { ...presentKey(key), live_keys_left: liveKeys };
    },
  );
}
