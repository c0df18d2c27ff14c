import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sql } from 'kysely';
import { findAccount } from './accounts.js';
import type { VoltEmulatorContext } from './context.js';
import { sendAuthError, sendException } from './replies.js';
import type { Account } from './schema.js';

/**
 * `POST /oauth`: the OAuth2 password grant (form-encoded, as Volt's Payments API documents it, or JSON as its
 * newer guides send it), and the refresh grant. Wrong credentials answer Volt's `{code, message}` 401.
 */

/** How long a refresh token works. */
const REFRESH_TTL_SECONDS = 30 * 86_400;

function same(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

function field(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  return typeof value === 'string' ? value : '';
}

async function issue(ctx: VoltEmulatorContext, clientId: string) {
  const accessToken = randomBytes(32).toString('base64url');
  const refreshToken = randomBytes(32).toString('base64url');
  await ctx.db
    .insertInto('emu_volt_tokens')
    .values({
      access_token: accessToken,
      refresh_token: refreshToken,
      client_id: clientId,
      expires_at: sql<Date>`now() + ${ctx.tokenTtlSeconds} * interval '1 second'` as unknown as Date,
      refresh_expires_at: sql<Date>`now() + ${REFRESH_TTL_SECONDS} * interval '1 second'` as unknown as Date,
    })
    .execute();
  return { access_token: accessToken, token_type: 'bearer', expires_in: ctx.tokenTtlSeconds, refresh_token: refreshToken };
}

export function registerOAuthRoutes(app: FastifyInstance, ctx: VoltEmulatorContext): void {
  app.post('/oauth', async (request, reply) => {
    const body = (typeof request.body === 'object' && request.body !== null ? request.body : {}) as Record<string, unknown>;
    const grant = field(body, 'grant_type');
    if (grant !== 'password' && grant !== 'refresh_token') return sendAuthError(reply, 400, 'Invalid grant_type parameter or parameter missing');
    const account = await findAccount(ctx.db, field(body, 'client_id'));
    if (!account || !same(account.client_secret, field(body, 'client_secret'))) return sendAuthError(reply, 401, 'The client credentials are invalid');
    if (grant === 'password') {
      if (!same(account.username, field(body, 'username')) || !same(account.password, field(body, 'password')))
        return sendAuthError(reply, 401, 'Invalid username and password combination');
      return issue(ctx, account.client_id);
    }
    // A refresh token works once: it is exchanged for a new pair.
    const used = await ctx.db
      .deleteFrom('emu_volt_tokens')
      .where('refresh_token', '=', field(body, 'refresh_token'))
      .where('client_id', '=', account.client_id)
      .where('refresh_expires_at', '>', sql<Date>`now()`)
      .returning('client_id')
      .executeTakeFirst();
    if (!used) return sendAuthError(reply, 400, 'Invalid refresh token');
    return issue(ctx, account.client_id);
  });
}

/** The account a request's `Authorization: Bearer` token belongs to; answers 401 itself when there is none. */
export async function authorize(ctx: VoltEmulatorContext, request: FastifyRequest, reply: FastifyReply): Promise<Account | undefined> {
  const token = /^Bearer\s+(\S{1,4096})\s*$/i.exec(request.headers.authorization ?? '')?.[1];
  if (!token) {
    sendException(reply, 401, 'Authentication required: send Authorization: Bearer <access_token>');
    return undefined;
  }
  const row = await ctx.db
    .selectFrom('emu_volt_tokens')
    .select(['client_id', sql<boolean>`expires_at <= now()`.as('expired')])
    .where('access_token', '=', token)
    .executeTakeFirst();
  if (!row || row.expired) {
    sendException(reply, 401, row ? 'The access token provided has expired' : 'The access token provided is invalid');
    return undefined;
  }
  return findAccount(ctx.db, row.client_id);
}
