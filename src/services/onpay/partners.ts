import { randomBytes } from 'node:crypto';
import { hashApiKey } from '../../security/api-keys.js';
import { activateOnpayPartner, findOnpayPartnerByKeyHash, insertOnpayPartner } from '../../store/queries/onpay.js';
import type { HubContext } from '../context.js';
import { createMerchant } from '../merchants.js';
import { OnpayKeyError } from './errors.js';

/**
 * OnPay partners. A partner is a merchant of the hub (its links are payments of that merchant, so the operator
 * sees them in the native API, reports and webhooks). The operator issues a temporary activation key; the partner
 * trades it once (`get_onpay_key`) for the production key that every other call carries. Only hashes are kept.
 */

export async function createOnpayPartner(ctx: HubContext, name: string): Promise<{ merchantId: string; apiKey: string; activationKey: string }> {
  const { merchant, apiKey } = await createMerchant(ctx, name);
  const activationKey = `opa_${randomBytes(24).toString('base64url')}`;
  await insertOnpayPartner(ctx.db, merchant.id, hashApiKey(activationKey));
  return { merchantId: merchant.id, apiKey, activationKey };
}

/** Trades a temporary activation key for the production key; an activation key works once. */
export async function activateOnpayKey(ctx: HubContext, activationKey: string): Promise<string> {
  const productionKey = `opk_${randomBytes(32).toString('base64url')}`;
  const row = await activateOnpayPartner(ctx.db, hashApiKey(activationKey), hashApiKey(productionKey), productionKey.slice(0, 10), new Date());
  if (!row) throw new OnpayKeyError('the activation key is not valid or was already used');
  return productionKey;
}

/** The partner (merchant id) a production key belongs to. */
export async function onpayPartnerOf(ctx: HubContext, key: string): Promise<string> {
  const row = key ? await findOnpayPartnerByKeyHash(ctx.db, hashApiKey(key)) : undefined;
  if (!row) throw new OnpayKeyError('invalid key');
  return row.merchant_id;
}
