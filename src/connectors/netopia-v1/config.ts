/** Credentials and settings of a `netopia-v1` connection, declared once (see ../config-schema.ts). */
import type { KeyObject } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import { Choice, FieldRefusal, SecretString, Text, publicFields, readConfig } from '../config-schema.js';
import { Endpoint } from '../settings.js';
import { Secret } from '../../security/secret.js';
import { loadPrivateKey, loadPublicKey, type EnvelopeCipher } from './envelope.js';

export const NETOPIA_V1_CURRENCIES = ['RON', 'EUR', 'USD', 'GBP', 'MDL'] as const;
export const NETOPIA_V1_LANGUAGES = ['ro', 'en', 'it', 'fr', 'de', 'es', 'hu'] as const;

const CERTIFICATE_ERROR = "must be NETOPIA's public certificate (PEM)";
const PRIVATE_KEY_ERROR = "must be the merchant's RSA private key (PEM)";

export const NETOPIA_V1_CREDENTIALS = Type.Object({
  signature: Text({
    title: 'POS signature',
    description: 'the POS signature, XXXX-XXXX-XXXX-XXXX-XXXX',
    pattern: '^[A-Z0-9]{4}(-[A-Z0-9]{4}){3,4}$',
    'x-trim': true,
    'x-case': 'upper',
    'x-public': true,
    'x-error': 'must be the POS signature, e.g. XXXX-XXXX-XXXX-XXXX-XXXX',
  }),
  certificate: Type.Transform(
    Text({
      title: 'NETOPIA public certificate (PEM)',
      description: "NETOPIA's public certificate for this POS (sandbox.<POS>.public.cer or live.<POS>.public.cer)",
      minLength: 1,
      'x-form': 'pem',
      'x-error': CERTIFICATE_ERROR,
      'x-error-absent': `${CERTIFICATE_ERROR}: is required`,
    }),
  )
    .Decode((pem) => ({ pem, key: pemKey(pem, loadPublicKey, CERTIFICATE_ERROR) }))
    .Encode((c) => c.pem),
  private_key: Type.Transform(
    SecretString({
      title: 'Merchant private key (PEM)',
      description: "the merchant's RSA private key for this POS (<POS>private.key)",
      minLength: 1,
      'x-form': 'pem',
      'x-error': PRIVATE_KEY_ERROR,
      'x-error-absent': `${PRIVATE_KEY_ERROR}: is required`,
    }),
  )
    .Decode((pem) => ({ pem: new Secret(pem), key: pemKey(pem, loadPrivateKey, PRIVATE_KEY_ERROR) }))
    .Encode((c) => c.pem.reveal()),
});

export const NETOPIA_V1_SETTINGS = Type.Object({
  default_currency: Choice(NETOPIA_V1_CURRENCIES, {
    title: 'Default currency',
    default: 'RON',
    'x-error': `must be one of ${NETOPIA_V1_CURRENCIES.join(', ')}`,
  }),
  language: Choice(NETOPIA_V1_LANGUAGES, { title: 'Payment page language', default: 'ro', 'x-error': `must be one of ${NETOPIA_V1_LANGUAGES.join(', ')}` }),
  cipher: Choice(['aes-256-cbc', 'rc4'] as const, { title: 'Envelope cipher', default: 'aes-256-cbc', 'x-error': 'must be aes-256-cbc or rc4' }),
  endpoint: Endpoint(),
});

function pemKey(pem: string, load: (pem: string) => KeyObject, error: string): KeyObject {
  try {
    return load(pem);
  } catch (e) {
    throw new FieldRefusal(`${error}: ${(e as Error).message}`);
  }
}

export interface NetopiaV1Credentials {
  signature: string;
  certificate: string;
  private_key: Secret<string>;
  /** Parsed once per connection load; never serialized. */
  publicKey: KeyObject;
  privateKey: KeyObject;
}

export interface NetopiaV1Settings {
  default_currency: string;
  language: string;
  cipher: EnvelopeCipher;
  endpoint?: string;
}

export function parseNetopiaV1Credentials(raw: unknown): NetopiaV1Credentials {
  const c = readConfig(NETOPIA_V1_CREDENTIALS, raw, 'credentials');
  return {
    signature: c.signature,
    certificate: c.certificate.pem,
    private_key: c.private_key.pem,
    publicKey: c.certificate.key,
    privateKey: c.private_key.key,
  };
}
export const parseNetopiaV1Settings = (raw: unknown): NetopiaV1Settings => readConfig(NETOPIA_V1_SETTINGS, raw, 'settings');
export const netopiaV1PublicFields = (c: NetopiaV1Credentials) => publicFields(NETOPIA_V1_CREDENTIALS, c);
