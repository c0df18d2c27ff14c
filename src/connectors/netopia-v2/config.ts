/**
 * Credentials and settings of a `netopia-v2` connection. Parsed from the stored JSON alone (verification threads
 * rebuild the config from it), so everything derived, such as the parsed keys, is recomputed here.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import type { Secret } from '../../security/secret.js';
import { Choice, FieldRefusal, SecretText, Text, printable, publicFields, readConfig } from '../config-schema.js';
import { NETOPIA_PLATFORM_KEY_PEM } from './platform-key.js';
import { Endpoint } from '../settings.js';

export interface NetopiaV2Credentials {
  /** NETOPIA API key (admin → Profile → Security), sent raw in `Authorization`. */
  api_key: Secret<string>;
  /** The POS signature, `XXXX-XXXX-XXXX-XXXX-XXXX`: `posSignature` of orders, `aud` of IPN tokens. */
  pos_signature: string;
  /** The keys that may sign IPN tokens (NETOPIA's platform key unless configured). Never serialized. */
  notifyKeys: readonly KeyObject[];
}

export interface NetopiaV2Settings {
  default_currency: string;
  language: string;
  email_template: string;
  endpoint?: string;
}

export const NETOPIA_V2_CURRENCIES = ['RON', 'EUR', 'USD', 'GBP'] as const;

const SIGNATURE_RE = /^[A-Z0-9]{4}(-[A-Z0-9]{4}){3,4}$/;
/** An API key goes into a header: printable ASCII only, so it can never split or inject one. */
const API_KEY_RE = /^[\x21-\x7e]{8,512}$/;
const KEY_BLOCK_TYPES = new Set(['PUBLIC KEY', 'RSA PUBLIC KEY', 'CERTIFICATE']);
const MAX_KEYS = 16;
const MAX_PEM_TEXT = 64 * 1024;

/** The PEM blocks of a text, found by plain scanning (a regular expression with a back-reference backtracks badly). */
function pemBlocks(text: string): { label: string; pem: string }[] {
  const blocks: { label: string; pem: string }[] = [];
  let from = 0;
  for (;;) {
    const begin = text.indexOf('-----BEGIN ', from);
    if (begin < 0) return blocks;
    const labelEnd = text.indexOf('-----', begin + 11);
    if (labelEnd < 0) throw new Error('holds an unterminated PEM header');
    const label = text.slice(begin + 11, labelEnd);
    const endMarker = `-----END ${label}-----`;
    const end = text.indexOf(endMarker, labelEnd + 5);
    if (end < 0) throw new Error(`holds a ${label.slice(0, 40)} block without its END line`);
    blocks.push({ label, pem: text.slice(begin, end + endMarker.length) });
    from = end + endMarker.length;
  }
}

/** Every PEM public key or certificate in a text, as RSA KeyObjects of at least 1024 bits. */
export function parsePublicKeys(text: string): KeyObject[] {
  if (text.length > MAX_PEM_TEXT) throw new Error('is too long');
  const keys: KeyObject[] = [];
  for (const block of pemBlocks(text)) {
    if (!KEY_BLOCK_TYPES.has(block.label)) throw new Error(`holds a ${block.label.slice(0, 40)} block; only public keys and certificates are accepted`);
    let key: KeyObject;
    try {
      key = createPublicKey(block.pem);
    } catch {
      throw new Error(`holds a ${block.label} block that is not readable`);
    }
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (key.asymmetricKeyType !== 'rsa' || bits < 1024) throw new Error('holds a key that is not RSA of at least 1024 bits (NETOPIA signs RS512)');
    keys.push(key);
  }
  if (keys.length === 0) throw new Error('holds no PEM public key or certificate');
  return keys;
}

let platformKeys: readonly KeyObject[] | undefined;
/** NETOPIA's platform key, parsed once per process. */
export function defaultNotifyKeys(): readonly KeyObject[] {
  platformKeys ??= Object.freeze(parsePublicKeys(NETOPIA_PLATFORM_KEY_PEM));
  return platformKeys;
}

const NOTIFY_KEYS_ERROR = `must be a PEM text, or an array of 1-${MAX_KEYS} PEM texts, of public keys or certificates`;
const PemText = Text({ 'x-form': 'pem', 'x-error': 'must be a PEM text' });

/** The keys of `notify_public_keys` (a PEM text, or an array of them), each refusal at its own index. */
function readNotifyKeys(raw: string | string[] | null): readonly KeyObject[] | undefined {
  if (raw === null) return undefined;
  const keys: KeyObject[] = [];
  const refusals: Array<{ at: string; message: string }> = [];
  (typeof raw === 'string' ? [raw] : raw).forEach((text, i) => {
    try {
      keys.push(...parsePublicKeys(text));
    } catch (e) {
      refusals.push({ at: typeof raw === 'string' ? '' : `[${i}]`, message: (e as Error).message });
    }
  });
  if (keys.length > MAX_KEYS) refusals.push({ at: '', message: `must hold at most ${MAX_KEYS} keys` });
  if (refusals.length > 0) throw new FieldRefusal(refusals);
  return Object.freeze(keys);
}

export const NETOPIA_V2_CREDENTIALS = Type.Object({
  api_key: SecretText({
    title: 'API key',
    description: 'the NETOPIA API key (admin → Profile → Security)',
    pattern: API_KEY_RE.source,
    'x-trim': true,
    'x-error': 'must be the NETOPIA API key (8-512 printable characters, no spaces)',
  }),
  pos_signature: Text({
    title: 'POS signature',
    description: 'the POS signature, XXXX-XXXX-XXXX-XXXX-XXXX: `posSignature` of orders, `aud` of IPN tokens',
    pattern: SIGNATURE_RE.source,
    'x-trim': true,
    'x-case': 'upper',
    'x-public': true,
    'x-error': 'must be the POS signature, e.g. XXXX-XXXX-XXXX-XXXX-XXXX',
  }),
  notify_public_keys: Type.Optional(
    Type.Transform(
      Type.Union([PemText, Type.Array(PemText, { minItems: 1, maxItems: MAX_KEYS }), Type.Null()], {
        title: 'IPN signing keys (PEM)',
        description: "the public keys or certificates that may sign IPN tokens; NETOPIA's platform key when left out",
        'x-form': 'pem',
        'x-error': NOTIFY_KEYS_ERROR,
      }),
    )
      .Decode(readNotifyKeys)
      .Encode(() => null),
  ),
});

export const NETOPIA_V2_SETTINGS = Type.Object({
  default_currency: Choice(NETOPIA_V2_CURRENCIES, {
    title: 'Default currency',
    default: 'RON',
    'x-error': `must be one of ${NETOPIA_V2_CURRENCIES.join(', ')}`,
  }),
  language: Text({
    title: 'Payment page language',
    description: 'ISO 639-1, two letters',
    pattern: '^[a-z]{2}$',
    default: 'ro',
    'x-case': 'lower',
    'x-error': 'must be an ISO 639-1 language code of two letters, e.g. ro or en',
  }),
  email_template: Text({
    title: 'Email template',
    description: 'the name of a NETOPIA email template, or empty',
    maxLength: 100,
    pattern: printable(),
    default: '',
    'x-error': 'must be the name of a NETOPIA email template (up to 100 characters), or empty',
  }),
  endpoint: Endpoint(),
});

export function parseCredentials(raw: unknown): NetopiaV2Credentials {
  const c = readConfig(NETOPIA_V2_CREDENTIALS, raw, 'credentials');
  return { api_key: c.api_key, pos_signature: c.pos_signature, notifyKeys: c.notify_public_keys ?? defaultNotifyKeys() };
}

export const parseSettings = (raw: unknown): NetopiaV2Settings => readConfig(NETOPIA_V2_SETTINGS, raw, 'settings');

export const publicCredentialFields = (c: NetopiaV2Credentials) => publicFields(NETOPIA_V2_CREDENTIALS, c);
