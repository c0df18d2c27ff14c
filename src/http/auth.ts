import type { FastifyReply, FastifyRequest } from 'fastify';
import { safeEqual } from '../security/api-keys.js';
import { findMerchantByApiKey, getMerchant } from '../services/merchants.js';
import type { HubContext } from '../services/context.js';
import type { Merchant } from '../store/schema.js';
import { sendProblem } from './problem.js';
import type { FailedAuthBudget } from './auth-failures.js';

declare module 'fastify' {
  interface FastifyRequest {
    merchant?: Merchant;
    isAdmin?: boolean;
  }
}

function bearer(request: FastifyRequest): string | undefined {
  const h = request.headers.authorization;
  if (typeof h !== 'string') return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m ? m[1] : undefined;
}

export interface AuthConfig {
  /** The hub whose merchants the keys are looked up in. */
  ctx: Pick<HubContext, 'db' | 'caches'>;
  adminKey: string;
  /** Failed authentications per source address; past its budget an address is refused before any lookup. */
  failures?: FailedAuthBudget;
}

/** A 429 when the request's address has used up its failed authentications (checked before any key lookup). */
function overFailureBudget(config: AuthConfig, request: FastifyRequest, reply: FastifyReply) {
  const wait = config.failures?.retryAfter(request.ip) ?? 0;
  if (wait === 0) return undefined;
  reply.header('retry-after', String(wait));
  return sendProblem(reply, 429, 'Too many requests', `too many failed authentications from this address; retry in ${wait} s`);
}

function unauthorized(config: AuthConfig, request: FastifyRequest, reply: FastifyReply, detail: string) {
  config.failures?.fail(request.ip);
  reply.header('www-authenticate', 'Bearer realm="incasso"');
  return sendProblem(reply, 401, 'Unauthorized', detail);
}

/** Operator endpoints: only the admin key. */
export function requireAdmin(config: AuthConfig) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const refused = overFailureBudget(config, request, reply);
    if (refused) return refused;
    const key = bearer(request);
    if (!key) return unauthorized(config, request, reply, 'send the operator key as Authorization: Bearer <key>');
    if (!safeEqual(key, config.adminKey)) {
      const isMerchant = key.startsWith('sk_') && (await findMerchantByApiKey(config.ctx, key));
      return isMerchant ? sendProblem(reply, 403, 'Forbidden', 'this endpoint needs the operator key') : unauthorized(config, request, reply, 'unknown key');
    }
    request.isAdmin = true;
  };
}

/**
 * Merchant endpoints: a merchant's API key, which scopes every query to that merchant. The operator key may act
 * for one merchant by naming it in `Incasso-Merchant` (support work, dashboards), never for all at once.
 */
export function requireMerchant(config: AuthConfig) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const refused = overFailureBudget(config, request, reply);
    if (refused) return refused;
    const key = bearer(request);
    if (!key) return unauthorized(config, request, reply, 'send your API key as Authorization: Bearer <key>');
    if (safeEqual(key, config.adminKey)) {
      const id = request.headers['incasso-merchant'];
      if (typeof id !== 'string' || !id) return sendProblem(reply, 403, 'Forbidden', 'the operator key must name a merchant in the Incasso-Merchant header');
      const merchant = await getMerchant(config.ctx, id);
      if (!merchant) return sendProblem(reply, 404, 'Not found', `no merchant ${JSON.stringify(id)}`);
      request.merchant = merchant;
      request.isAdmin = true;
      return;
    }
    const merchant = await findMerchantByApiKey(config.ctx, key);
    if (!merchant) return unauthorized(config, request, reply, 'unknown API key');
    request.merchant = merchant;
  };
}
