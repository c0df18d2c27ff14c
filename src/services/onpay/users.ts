import { createHash } from 'node:crypto';
import { newId } from '../../core/ids.js';
import { ValidationError } from '../../core/validation.js';
import { connectorFor } from '../../connectors/registry.js';
import { fingerprint } from '../../security/vault.js';
import type { OnpayUsersTable } from '../../store/schema.js';
import type { Selectable } from 'kysely';
import type { HubContext } from '../context.js';
import { createConnection, updateConnection } from '../connections.js';
import { connectionFingerprint } from '../../store/queries/connections.js';
import { findOnpayUserRow, insertOnpayUser, lockOnpayUser } from '../../store/queries/onpay.js';
import { OnpayError } from './errors.js';

/**
 * End users: OnPay identifies one by the quadruple key – gateway – gatewayApiKey – gatewaySecretKey, with
 * credentials sent on every call and never registered beforehand. The hub keeps what it needs to verify the
 * acquirer's later notifications as a connection of the partner (credentials encrypted at rest), and finds the
 * quadruple by a hash of it.
 */

export const ONPAY_GATEWAYS = ['nexi', 'multisafepay', 'volt'] as const;
export type OnpayGateway = (typeof ONPAY_GATEWAYS)[number];
export type OnpaySide = 'test' | 'production';
export type OnpayUser = Selectable<OnpayUsersTable>;

export interface GatewayFields {
  gatewayApiKey: string;
  gatewaySecretKey: string;
  gatewayUsername: string;
  gatewayPassword: string;
  gatewayNotificationKey: string;
}

export function isGateway(name: string): name is OnpayGateway {
  return (ONPAY_GATEWAYS as readonly string[]).includes(name);
}

/** OnPay's per-request fields as the connector's credentials. */
export function credentialsFor(gateway: OnpayGateway, f: GatewayFields): Record<string, string> {
  switch (gateway) {
    case 'multisafepay':
      return { api_key: f.gatewayApiKey };
    case 'nexi':
      return { alias: f.gatewayApiKey, mac_key: f.gatewaySecretKey };
    case 'volt':
      return {
        client_id: f.gatewayApiKey,
        client_secret: f.gatewaySecretKey,
        username: f.gatewayUsername,
        password: f.gatewayPassword,
        notification_secret: f.gatewayNotificationKey,
      };
  }
}

/** What OnPay requires per gateway, besides gatewayApiKey. */
export function missingGatewayFields(gateway: OnpayGateway, f: GatewayFields): string[] {
  const needed: Array<keyof GatewayFields> =
    gateway === 'nexi' ? ['gatewaySecretKey'] : gateway === 'volt' ? ['gatewaySecretKey', 'gatewayUsername', 'gatewayPassword', 'gatewayNotificationKey'] : [];
  return needed.filter((k) => f[k] === '');
}

function quadrupleHash(gateway: string, apiKey: string, secretKey: string): string {
  return createHash('sha256').update(`${gateway}\u0000${apiKey}\u0000${secretKey}`).digest('hex');
}

export async function findOnpayUser(
  ctx: HubContext,
  merchantId: string,
  side: OnpaySide,
  gateway: OnpayGateway,
  apiKey: string,
  secretKey: string,
): Promise<OnpayUser | undefined> {
  return findOnpayUserRow(ctx.db, merchantId, side, gateway, quadrupleHash(gateway, apiKey, secretKey));
}

/**
 * The quadruple's user, created on its first link. Its connection's credentials follow what the partner sends
 * (a rotated Volt password, say): the latest request's are kept.
 */
export async function onpayUserFor(outer: HubContext, merchantId: string, side: OnpaySide, gateway: OnpayGateway, f: GatewayFields): Promise<OnpayUser> {
  const credentials = credentialsFor(gateway, f);
  const hash = quadrupleHash(gateway, f.gatewayApiKey, f.gatewaySecretKey);
  try {
    return await outer.db.transaction().execute(async (trx) => {
      const ctx = { ...outer, db: trx };
      // Two first links of one quadruple at once make one user.
      await lockOnpayUser(trx, merchantId, side, hash);
      return userInTransaction(ctx, merchantId, side, gateway, f, credentials, hash);
    });
  } catch (e) {
    if (e instanceof ValidationError) throw new OnpayError(`the ${gateway} credentials are not valid: ${e.errors.map((x) => x.message).join('; ')}`);
    throw e;
  }
}

async function userInTransaction(
  ctx: HubContext,
  merchantId: string,
  side: OnpaySide,
  gateway: OnpayGateway,
  f: GatewayFields,
  credentials: Record<string, string>,
  hash: string,
): Promise<OnpayUser> {
  const existing = await findOnpayUser(ctx, merchantId, side, gateway, f.gatewayApiKey, f.gatewaySecretKey);
  {
    if (existing) {
      const connection = await connectionFingerprint(ctx.db, existing.connection_id);
      if (connection.credentials_fingerprint !== fingerprint(JSON.stringify(credentials)))
        await updateConnection(ctx, merchantId, existing.connection_id, { credentials });
      return existing;
    }
    const connector = connectorFor(gateway)!;
    // The test side talks to the acquirers' test environments, or to the built-in emulators when they run.
    const settings = side === 'test' && ctx.emulators ? { endpoint: connector.defaultEndpoint('emulator', ctx.publicUrl) } : {};
    const connection = await createConnection(ctx, merchantId, {
      code: `onpay-${side}-${gateway}-${hash.slice(0, 16)}`,
      provider: gateway,
      environment: side === 'test' ? 'sandbox' : 'live',
      credentials,
      settings,
    });
    const user = await insertOnpayUser(ctx.db, {
      id: newId('opu'),
      merchant_id: merchantId,
      side,
      gateway,
      quadruple_hash: hash,
      connection_id: connection.id,
    });
    return user ?? (await findOnpayUser(ctx, merchantId, side, gateway, f.gatewayApiKey, f.gatewaySecretKey))!;
  }
}
