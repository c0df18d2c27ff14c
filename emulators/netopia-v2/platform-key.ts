import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { newRsaKeyPair } from '../netopia-v1/platform-key.js';
import type { EmuV2Db } from './schema.js';

/**
 * NETOPIA signs every v2 IPN with ONE 2048-bit platform key, the same for all merchants (protocols/netopia.md
 * §2.7: the public half is hard-coded in NETOPIA's own plugins). The emulator has its own such key, made on
 * first start and stored, published at `GET /platform-key.pem` and in every new account.
 */
export interface PlatformSigningKey {
  privateKey: KeyObject;
  /** SPKI PEM. */
  publicKeyPem: string;
}

/** Processes starting together may each generate a key; the insert keeps the first and everyone reads it back. */
export async function loadOrCreateSigningKey(db: EmuV2Db): Promise<PlatformSigningKey> {
  let row = await db.selectFrom('emu_netopia_v2_platform_key').selectAll().where('id', '=', 1).executeTakeFirst();
  if (!row) {
    const { privateKeyPem, publicKeyPem } = await newRsaKeyPair();
    await db
      .insertInto('emu_netopia_v2_platform_key')
      .values({ id: 1, private_key_pem: privateKeyPem, public_key_pem: publicKeyPem })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
    row = await db.selectFrom('emu_netopia_v2_platform_key').selectAll().where('id', '=', 1).executeTakeFirstOrThrow();
  }
  const privateKey = createPrivateKey(row.private_key_pem);
  // Normalised from the private key so the published PEM always matches the signing key.
  const publicKeyPem = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
  return { privateKey, publicKeyPem };
}
