import type { FastifyInstance } from 'fastify';
import { createConnection, getConnection, listConnections, presentConnection, updateConnection, type ConnectionInput } from '../../services/connections.js';
import type { HubContext } from '../../services/context.js';
import { requireMerchant, type AuthConfig } from '../auth.js';
import { CreateConnectionBody, IdParams, UpdateConnectionBody } from './schemas.js';

export async function connectionRoutes(app: FastifyInstance, opts: { ctx: HubContext; auth: AuthConfig }) {
  const { ctx } = opts;
  // Authentication runs first (onRequest), so a stranger never learns anything from validation errors.
  app.addHook('onRequest', requireMerchant(opts.auth));
  const tags = ['connections'];

  app.post<{ Body: ConnectionInput }>('/v1/connections', { schema: { tags, summary: "Connect a processor account (credentials are encrypted at rest and never returned; environment 'emulator' provisions a sandbox account on the built-in emulator, and shows its sandbox back-office login as sandbox_back_office when the emulator has one)", body: CreateConnectionBody } }, async (request, reply) => {
    const row = await createConnection(ctx, request.merchant!.id, request.body);
    return reply.code(201).send(presentConnection(ctx, row));
  });

  app.get('/v1/connections', { schema: { tags, summary: 'List connections' } }, async (request) => ({
    object: 'list',
    data: (await listConnections(ctx, request.merchant!.id)).map((r) => presentConnection(ctx, r)),
  }));

  app.get<{ Params: { id: string } }>('/v1/connections/:id', { schema: { tags, summary: 'Get a connection by id or code', params: IdParams } }, async (request) =>
    presentConnection(ctx, await getConnection(ctx, request.merchant!.id, request.params.id)),
  );

  app.patch<{ Params: { id: string }; Body: { credentials?: unknown; settings?: unknown; status?: unknown } }>(
    '/v1/connections/:id',
    { schema: { tags, summary: 'Update settings, replace credentials, or enable/disable', params: IdParams, body: UpdateConnectionBody } },
    async (request) => presentConnection(ctx, await updateConnection(ctx, request.merchant!.id, request.params.id, request.body)),
  );

  app.post<{ Params: { id: string } }>('/v1/connections/:id/disable', { schema: { tags, summary: 'Disable a connection: no new payments; notifications are still recorded', params: IdParams } }, async (request) =>
    presentConnection(ctx, await updateConnection(ctx, request.merchant!.id, request.params.id, { status: 'disabled' })),
  );
}
