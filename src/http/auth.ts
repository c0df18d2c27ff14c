import type { FastifyReply, FastifyRequest } from 'fastify';
import { safeEqual } from '../security/api-keys.js';
import { findMerchantByApiKey, getMerchant } from '../services/merchants.js';
import type { Db } from '../store/store.js';
import type { Merchant } from '../store/schema.js';
import { sendProblem } from './problem.js';

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
  db: Db;
  adminKey: string;
}

function unauthorized(reply: FastifyReply, detail: string) {
  reply.header('www-authenticate', 'Bearer realm="incasso"');
  return sendProblem(reply, 401, 'Unauthorized', detail);
}

/** Operator endpoints: only the admin key. */
export function requireAdmin(config: AuthConfig) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const key = bearer(request);
    if (!key) return unauthorized(reply, 'send the operator key as Authorization: Bearer <key>');
    if (!safeEqual(key, config.adminKey)) {
      const isMerchant = key.startsWith('sk_') && (await findMerchantByApiKey(config.db, key));
      return isMerchant ? sendProblem(reply, 403, 'Forbidden', 'this endpoint needs the operator key') : unauthorized(reply, 'unknown key');
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
    const key = bearer(request);
    if (!key) return unauthorized(reply, 'send your API key as Authorization: Bearer <key>');
    if (safeEqual(key, config.adminKey)) {
      const id = request.headers['incasso-merchant'];
      if (typeof id !== 'string' || !id) return sendProblem(reply, 403, 'Forbidden', 'the operator key must name a merchant in the Incasso-Merchant header');
      const merchant = await getMerchant(config.db, id);
      if (!merchant) return sendProblem(reply, 404, 'Not found', `no merchant ${JSON.stringify(id)}`);
      request.merchant = merchant;
      request.isAdmin = true;
      return;
    }
    const merchant = await findMerchantByApiKey(config.db, key);
    if (!merchant) return unauthorized(reply, 'unknown API key');
    request.merchant = merchant;
  };
}
