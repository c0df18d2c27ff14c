import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Selectable } from 'kysely';
import { newSignature } from '../netopia-v1/accounts.js';
import type { EmulatorV2Context } from './context.js';
import { invalid, sendGatewayError, sendValidationError } from './errors.js';
import { isStorable } from './request-body.js';
import type { EmuV2Tables } from './schema.js';

/**
 * Sandbox accounts as NETOPIA's admin hands them out for API v2: an API key (Profile → Security → Generate
 * key) and the POS signature (Point of sale → Technical settings). IPNs are verified with NETOPIA's single
 * platform key, which the account answer repeats for convenience.
 */

export type Account = Selectable<EmuV2Tables['emu_netopia_v2_accounts']>;

/** 60 base64url characters, the length and alphabet of the sandbox keys seen in public integrations. */
function newApiKey(): string {
  return randomBytes(45).toString('base64url');
}

function hashKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

const API_KEY_RE = /^[A-Za-z0-9_=+/-]{20,200}$/;

/**
 * The account of the request's `Authorization` header: the raw API key, no scheme (§2.2). A missing or
 * unknown key, or one sent as `Bearer <key>`, gets the gateway's flat 401 and undefined.
 */
export async function authenticate(ctx: EmulatorV2Context, request: FastifyRequest, reply: FastifyReply): Promise<Account | undefined> {
  const header = request.headers.authorization;
  if (header === undefined || header === '') {
    sendGatewayError(reply, 401, 'Unauthorized: the Authorization header with the API key is missing');
    return undefined;
  }
  if (/^\S+\s/.test(header)) {
    sendGatewayError(reply, 401, 'Unauthorized: send the API key itself in the Authorization header, without a scheme such as Bearer');
    return undefined;
  }
  const account = API_KEY_RE.test(header)
    ? await ctx.db.selectFrom('emu_netopia_v2_accounts').selectAll().where('api_key_hash', '=', hashKey(header)).executeTakeFirst()
    : undefined;
  if (!account) sendGatewayError(reply, 401, 'Unauthorized: invalid API key');
  return account;
}

export function registerAccountRoutes(app: FastifyInstance, ctx: EmulatorV2Context): void {
  app.post('/accounts', async (request, reply) => {
    const body = request.body;
    const input = typeof body === 'string' ? (body.trim() === '' ? {} : safeJson(body)) : (body ?? {});
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      return sendValidationError(reply, [invalid('', 'the body must be a JSON object')]);
    }
    const { name = 'Sandbox POS' } = input as Record<string, unknown>;
    if (typeof name !== 'string' || name.trim() === '' || name.length > 100 || !isStorable(name)) {
      return sendValidationError(reply, [invalid('name', 'name must be a non-empty string of at most 100 characters')]);
    }
    const apiKey = newApiKey();
    // 36^20 signatures make a collision practically impossible; the loop only keeps the insert honest.
    for (;;) {
      const account = await ctx.db
        .insertInto('emu_netopia_v2_accounts')
        .values({ signature: newSignature(), name: name.trim(), api_key_hash: hashKey(apiKey) })
        .onConflict((oc) => oc.column('signature').doNothing())
        .returningAll()
        .executeTakeFirst();
      if (account) {
        return reply.code(201).send({
          api_key: apiKey,
          pos_signature: account.signature,
          notify_public_key_pem: ctx.platform.publicKeyPem,
          name: account.name,
          api_url: ctx.baseUrl,
        });
      }
    }
  });

  // NETOPIA's IPN verification key, the one its plugins hard-code: here it is published instead.
  app.get('/platform-key.pem', async (_request, reply) => reply.type('application/x-pem-file').send(ctx.platform.publicKeyPem));
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
