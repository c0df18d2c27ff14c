import { newId } from '../core/ids.js';
import { FieldErrors } from '../core/validation.js';
import { generateApiKey, hashApiKey } from '../security/api-keys.js';
import { NotFoundError, type HubContext } from './context.js';
import { TurnBatch } from '../store/turn-batch.js';
import { cacheSlot } from './hub-caches.js';
import { inTransaction } from './unit-of-work.js';
import type { Merchant } from '../store/schema.js';
import { findMerchant, insertMerchant, listAllMerchants } from '../store/queries/merchants.js';
import {
  countLiveApiKeys,
  insertApiKey,
  liveKeysByHashes,
  revokeApiKeyOf,
  revokeApiKeysExcept,
  selectApiKeysOf,
  touchApiKeys,
  type ApiKeyListing,
  type KeyMatch,
} from '../store/queries/api-keys.js';
import type { Db } from '../store/store.js';

export type { ApiKeyListing } from '../store/queries/api-keys.js';

/**
 * Merchants and their API keys. A merchant has any number of named keys (`merchant_api_keys`): each is shown once,
 * when it is created, and only its SHA-256 is stored. A revoked key stops working at once, in this process and in
 * every other process on the database: no process keeps keys in memory between requests; each request's lookup
 * reads the database (the lookups of one event-loop turn share one statement, sent after the turn, so none of them
 * answers from before a revocation that had committed when it asked). A key's last use is written at most once a
 * minute (`KEY_TOUCH_INTERVAL_MS`), after the request's lookup and off its path.
 *
 * A merchant may revoke its last key (it then has no API access until the operator rotates its key or a console
 * admin creates one); the console warns before it does.
 */

/** A key's `last_used_at` is written at most this often. */
export const KEY_TOUCH_INTERVAL_MS = 60_000;

const KEY_NAME_MAX = 100;

/** Creates a merchant and its first API key (named "default"); the key is returned once and only its hash is stored. */
export async function createMerchant(ctx: Pick<HubContext, 'db'>, name: string): Promise<{ merchant: Merchant; apiKey: string }> {
  const { key, hash, prefix } = generateApiKey('sk');
  const merchant = await inTransaction(ctx, async (trx) => {
    const m = await insertMerchant(trx, { id: newId('mer'), name });
    await insertApiKey(trx, { id: newId('key'), merchant_id: m.id, name: 'default', prefix, key_hash: hash });
    return m;
  });
  return { merchant, apiKey: key };
}

/**
 * Replaces a merchant's API keys: a new key (named "rotated") is created and every other live key is revoked, in one
 * transaction (the old keys stop working at once). Answers the new key, or null when there is no such merchant.
 */
export async function rotateMerchantKey(ctx: Pick<HubContext, 'db'>, merchantId: string): Promise<string | null> {
  const { key, hash, prefix } = generateApiKey('sk');
  return inTransaction(ctx, async (trx) => {
    if (!(await findMerchant(trx, merchantId))) return null;
    const created = await insertApiKey(trx, { id: newId('key'), merchant_id: merchantId, name: 'rotated', prefix, key_hash: hash });
    await revokeApiKeysExcept(trx, merchantId, created.id);
    return key;
  });
}

/** A merchant's keys, live and revoked, oldest first (never their hashes). */
export function listApiKeys(ctx: Pick<HubContext, 'db'>, merchantId: string): Promise<ApiKeyListing[]> {
  return selectApiKeysOf(ctx.db, merchantId);
}

/** Creates a named key for a merchant; the key itself is answered once (only its hash is stored). */
export async function createApiKey(
  ctx: Pick<HubContext, 'db'>,
  merchantId: string,
  input: { name?: unknown },
): Promise<{ key: ApiKeyListing; secret: string }> {
  const name = typeof input.name === 'string' ? input.name.trim() : '';
  const errors = new FieldErrors();
  if (!name || name.length > KEY_NAME_MAX) errors.add('name', `must be 1 to ${KEY_NAME_MAX} characters`);
  errors.throwIfAny();
  if (!(await findMerchant(ctx.db, merchantId))) throw new NotFoundError(`no merchant ${JSON.stringify(merchantId)}`);
  const { key, hash, prefix } = generateApiKey('sk');
  const row = await insertApiKey(ctx.db, { id: newId('key'), merchant_id: merchantId, name, prefix, key_hash: hash });
  return { key: row, secret: key };
}

/**
 * Revokes one of a merchant's keys (revoking a revoked key changes nothing); another merchant's key answers
 * NotFoundError, like one that does not exist. Answers the key and how many live keys the merchant has left (0 is
 * allowed: see above).
 */
export async function revokeApiKey(ctx: Pick<HubContext, 'db'>, merchantId: string, keyId: string): Promise<{ key: ApiKeyListing; liveKeys: number }> {
  const key = keyId.length <= 64 ? await revokeApiKeyOf(ctx.db, merchantId, keyId) : undefined;
  if (!key) throw new NotFoundError(`no API key ${JSON.stringify(keyId)}`);
  return { key, liveKeys: await countLiveApiKeys(ctx.db, merchantId) };
}

/** How many live keys a merchant has. */
export function liveApiKeyCount(ctx: Pick<HubContext, 'db'>, merchantId: string): Promise<number> {
  return countLiveApiKeys(ctx.db, merchantId);
}

/**
 * The API-key lookups of the current event-loop turn (one query answers them all), and when this process last
 * wrote each key's last use (so that concurrent requests write it once).
 */
class KeyLookups {
  private readonly batch: TurnBatch<string, KeyMatch>;
  private readonly touched = new Map<string, number>();

  constructor(private readonly db: Db) {
    this.batch = new TurnBatch(async (hashes) => new Map((await liveKeysByHashes(db, hashes)).map((r) => [r.key_hash, r])));
  }

  async find(hash: string): Promise<Merchant | undefined> {
    const match = await this.batch.load(hash);
    if (!match) return undefined;
    const now = Date.now();
    const seen = match.key_last_used_at ? new Date(match.key_last_used_at).getTime() : 0;
    if (now - Math.max(seen, this.touched.get(match.key_id) ?? 0) >= KEY_TOUCH_INTERVAL_MS) {
      this.touched.set(match.key_id, now);
      if (this.touched.size > 10_000) this.forgetOld(now);
      // Off the request's path; a lost write only leaves last_used_at older (the next use writes it again).
      touchApiKeys(this.db, [match.key_id], KEY_TOUCH_INTERVAL_MS).catch(() => this.touched.delete(match.key_id));
    }
    return match.merchant;
  }

  private forgetOld(now: number) {
    for (const [id, at] of this.touched) if (now - at >= KEY_TOUCH_INTERVAL_MS) this.touched.delete(id);
  }
}

const keyLookups = cacheSlot('API-key lookups of this turn, and the last-use writes of keys', (db) => new KeyLookups(db));

/** The merchant whose live API key this is (looked up by its hash, together with the other lookups of this turn). */
export async function findMerchantByApiKey(ctx: Pick<HubContext, 'caches'>, apiKey: string): Promise<Merchant | undefined> {
  return ctx.caches.of(keyLookups).find(hashApiKey(apiKey));
}

export async function listMerchants(ctx: Pick<HubContext, 'db'>): Promise<Merchant[]> {
  return listAllMerchants(ctx.db);
}

export async function getMerchant(ctx: Pick<HubContext, 'db'>, id: string): Promise<Merchant | undefined> {
  return findMerchant(ctx.db, id);
}
