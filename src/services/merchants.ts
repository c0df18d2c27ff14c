import { newId } from '../core/ids.js';
import { generateApiKey, hashApiKey } from '../security/api-keys.js';
import type { HubContext } from './context.js';
import { TurnBatch } from '../store/turn-batch.js';
import { cacheSlot } from './hub-caches.js';
import type { Merchant } from '../store/schema.js';
import { findMerchant, insertMerchant, listAllMerchants, merchantsByKeyHashes, updateMerchantKey } from '../store/queries/merchants.js';

/** Creates a merchant and its API key; the key is returned once and only its hash is stored. */
export async function createMerchant(ctx: Pick<HubContext, 'db'>, name: string): Promise<{ merchant: Merchant; apiKey: string }> {
  const { key, hash, prefix } = generateApiKey('sk');
  const merchant = await insertMerchant(ctx.db, { id: newId('mer'), name, api_key_hash: hash, api_key_prefix: prefix });
  return { merchant, apiKey: key };
}

/** Replaces a merchant's API key (the old one stops working at once). */
export async function rotateMerchantKey(ctx: Pick<HubContext, 'db'>, merchantId: string): Promise<string | null> {
  const { key, hash, prefix } = generateApiKey('sk');
  const row = await updateMerchantKey(ctx.db, merchantId, hash, prefix);
  return row ? key : null;
}

/** The API-key lookups of the current event-loop turn (one query answers them all). */
const keyLookups = cacheSlot(
  'API-key lookups of this turn',
  (db) =>
    new TurnBatch<string, Merchant>(async (hashes) => {
      const rows = await merchantsByKeyHashes(db, hashes);
      return new Map(rows.map((r) => [r.api_key_hash, r]));
    }),
);

/** The merchant whose API key this is (looked up by its hash, together with the other lookups of this turn). */
export async function findMerchantByApiKey(ctx: Pick<HubContext, 'caches'>, apiKey: string): Promise<Merchant | undefined> {
  return ctx.caches.of(keyLookups).load(hashApiKey(apiKey));
}

export async function listMerchants(ctx: Pick<HubContext, 'db'>): Promise<Merchant[]> {
  return listAllMerchants(ctx.db);
}

export async function getMerchant(ctx: Pick<HubContext, 'db'>, id: string): Promise<Merchant | undefined> {
  return findMerchant(ctx.db, id);
}
