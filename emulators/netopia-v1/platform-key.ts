import { createPrivateKey, generateKeyPair, randomBytes, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import forge from 'node-forge';
import type { EmuDb } from './schema.js';

const generateRsaKeyPair = promisify(generateKeyPair);

export const PLATFORM_CERTIFICATE_CN = 'sandboxsecure.mobilpay.ro emulator';

export interface PlatformKey {
  /** Opens the envelopes merchants seal for NETOPIA. */
  privateKey: KeyObject;
  /** What NETOPIA's console hands out as `sandbox.<SIGNATURE>.public.cer`. */
  certificatePem: string;
}

/** A fresh RSA-2048 key pair as PEM: PKCS#8 private, SPKI public. */
export async function newRsaKeyPair(): Promise<{ privateKeyPem: string; publicKeyPem: string }> {
  const { privateKey, publicKey } = await generateRsaKeyPair('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}

/**
 * A certificate serial as forge wants it (hex), from 16 random bytes, whose DER INTEGER is positive and minimal:
 * the first byte is 0x01–0x7f. forge writes the bytes as they are, and OpenSSL refuses a serial that starts
 * with a needless 0x00 ("illegal padding"); the earlier `'0' + 15 random bytes` did that about once in 500
 * certificates, and an emulator connection then could not be used.
 */
export function certificateSerialHex(random: Buffer = randomBytes(16)): string {
  const bytes = Buffer.from(random);
  bytes[0] = bytes[0]! & 0x7f || 0x01;
  return bytes.toString('hex');
}

// node:crypto cannot issue certificates, hence node-forge for this one self-signed X.509.
export function selfSignedCertificate(privateKeyPem: string, publicKeyPem: string, serialHex = certificateSerialHex()): string {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKeyPem);
  cert.serialNumber = serialHex;
  const now = new Date();
  cert.validity.notBefore = new Date(now.getTime() - 24 * 3600 * 1000);
  cert.validity.notAfter = new Date(now.getTime() + 10 * 365 * 24 * 3600 * 1000);
  const name = [
    { name: 'commonName', value: PLATFORM_CERTIFICATE_CN },
    { name: 'organizationName', value: 'NETOPIA Payments emulator (incasso)' },
    { name: 'countryName', value: 'RO' },
  ];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.sign(forge.pki.privateKeyFromPem(privateKeyPem), forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

/**
 * The platform key pair, created on first start. Processes starting together may both generate one; the
 * insert keeps the first and everyone reads it back, so all processes open envelopes with the same key.
 */
export async function loadOrCreatePlatformKey(db: EmuDb): Promise<PlatformKey> {
  let row = await db.selectFrom('emu_netopia_v1_platform_key').selectAll().where('id', '=', 1).executeTakeFirst();
  if (!row) {
    const { privateKeyPem, publicKeyPem } = await newRsaKeyPair();
    await db
      .insertInto('emu_netopia_v1_platform_key')
      .values({ id: 1, private_key_pem: privateKeyPem, certificate_pem: selfSignedCertificate(privateKeyPem, publicKeyPem) })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
    row = await db.selectFrom('emu_netopia_v1_platform_key').selectAll().where('id', '=', 1).executeTakeFirstOrThrow();
  }
  return { privateKey: createPrivateKey(row.private_key_pem), certificatePem: row.certificate_pem };
}
