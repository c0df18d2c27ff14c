import type { FastifyInstance } from 'fastify';
import type { HubContext } from '../../services/context.js';
import { createUser, listUsers } from '../../services/users.js';
import type { User } from '../../store/schema.js';
import { requireAdmin, requireMerchant, type AuthConfig } from '../auth.js';
import { CreateMerchantUserBody, CreateUserBody } from './schemas.js';

/** A console user as the API shows it (never its password hash). */
const present = (u: User) => ({
  id: u.id,
  object: 'user' as const,
  email: u.email,
  role: u.role,
  merchant_id: u.merchant_id,
  language: u.language,
  has_password: u.password_hash !== null,
  created_at: new Date(u.created_at).toISOString(),
  disabled_at: u.disabled_at ? new Date(u.disabled_at).toISOString() : null,
  last_login_at: u.last_login_at ? new Date(u.last_login_at).toISOString() : null,
});

/**
 * The console's users: the operator creates anyone (`POST /v1/users`); a merchant (its API key, or the operator
 * acting for it) creates and lists admins and viewers of its own (`/v1/merchant/users`). Each creation answers a
 * one-time link to set the password, shown once.
 */
export async function userRoutes(app: FastifyInstance, opts: { ctx: HubContext; auth: AuthConfig }) {
  const { ctx, auth } = opts;

  app.post<{ Body: CreateUserBody }>(
    '/v1/users',
    {
      onRequest: requireAdmin(auth),
      schema: { tags: ['operator'], summary: 'Create a console user (any role); answers a one-time link to set the password', body: CreateUserBody },
    },
    async (request, reply) => {
      const created = await createUser(ctx, { kind: 'operator' }, request.body);
      return reply
        .code(201)
        .send({ ...present(created.user), set_password_url: created.setPasswordUrl, set_password_expires_at: created.expiresAt.toISOString() });
    },
  );

  app.post<{ Body: CreateMerchantUserBody }>(
    '/v1/merchant/users',
    {
      onRequest: requireMerchant(auth),
      schema: {
        tags: ['merchant'],
        summary: "Create an admin or viewer of the merchant's console; answers a one-time link to set the password",
        body: CreateMerchantUserBody,
      },
    },
    async (request, reply) => {
      const created = await createUser(ctx, { kind: 'merchant', merchantId: request.merchant!.id }, request.body);
      return reply
        .code(201)
        .send({ ...present(created.user), set_password_url: created.setPasswordUrl, set_password_expires_at: created.expiresAt.toISOString() });
    },
  );

  app.get(
    '/v1/merchant/users',
    { onRequest: requireMerchant(auth), schema: { tags: ['merchant'], summary: "The merchant's console users" } },
    async (request) => ({ object: 'list', data: (await listUsers(ctx, request.merchant!.id)).map(present) }),
  );
}
