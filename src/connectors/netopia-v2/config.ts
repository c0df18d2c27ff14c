/**
 * Credentials and settings of a `netopia-v2` connection. Parsed from the stored JSON alone (verification threads
 * rebuild the config from it), so everything derived, such as the parsed keys, is recomputed here.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { FieldErrors } from '../../core/validation.js';
import { Secret } from '../../security/secret.js';
import { NETOPIA_PLATFORM_KEY_PEM } from './platform-key.js';
import { readEndpointSetting } from '../settings.js';

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

export function parseCredentials(raw: unknown): NetopiaV2Credentials {
  const errors = new FieldErrors();
  const input = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const apiKey = typeof input.api_key === 'string' ? input.api_key.trim() : undefined;
  if (!apiKey || !API_KEY_RE.test(apiKey)) errors.add('credentials.api_key', 'must be the NETOPIA API key (8-512 printable characters, no spaces)');
  const signature = typeof input.pos_signature === 'string' ? input.pos_signature.trim().toUpperCase() : undefined;
  if (!signature || !SIGNATURE_RE.test(signature)) errors.add('credentials.pos_signature', 'must be the POS signature, e.g. XXXX-XXXX-XXXX-XXXX-XXXX');

  let notifyKeys: readonly KeyObject[] = [];
  const rawKeys = input.notify_public_keys;
  if (rawKeys === undefined || rawKeys === null) {
    notifyKeys = defaultNotifyKeys();
  } else {
    const texts = typeof rawKeys === 'string' ? [rawKeys] : Array.isArray(rawKeys) ? rawKeys : undefined;
    if (!texts || texts.length === 0 || texts.length > MAX_KEYS) {
      errors.add('credentials.notify_public_keys', `must be a PEM text, or an array of 1-${MAX_KEYS} PEM texts, of public keys or certificates`);
    } else {
      const keys: KeyObject[] = [];
      texts.forEach((text, i) => {
        const field = typeof rawKeys === 'string' ? 'credentials.notify_public_keys' : `credentials.notify_public_keys[${i}]`;
        if (typeof text !== 'string') return errors.add(field, 'must be a PEM text');
        try {
          keys.push(...parsePublicKeys(text));
        } catch (e) {
          errors.add(field, `${(e as Error).message}`);
        }
      });
      if (keys.length > MAX_KEYS) errors.add('credentials.notify_public_keys', `must hold at most ${MAX_KEYS} keys`);
      notifyKeys = Object.freeze(keys);
    }
  }
  errors.throwIfAny();
  return { api_key: new Secret(apiKey!), pos_signature: signature!, notifyKeys };
}

export function parseSettings(raw: unknown): NetopiaV2Settings {
  const errors = new FieldErrors();
  const input = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const currency = input.default_currency ?? 'RON';
  if (typeof currency !== 'string' || !(NETOPIA_V2_CURRENCIES as readonly string[]).includes(currency)) errors.add('settings.default_currency', `must be one of ${NETOPIA_V2_CURRENCIES.join(', ')}`);
  const language = input.language ?? 'ro';
  if (typeof language !== 'string' || !/^[A-Za-z]{2}$/.test(language)) errors.add('settings.language', 'must be an ISO 639-1 language code of two letters, e.g. ro or en');
  const template = input.email_template ?? '';
  if (typeof template !== 'string' || template.length > 100 || /[\u0000-\u001f\u007f]/.test(template)) errors.add('settings.email_template', 'must be the name of a NETOPIA email template (up to 100 characters), or empty');
  const endpoint = readEndpointSetting(errors, input.endpoint);
  errors.throwIfAny();
  return {
    default_currency: currency as string,
    language: (language as string).toLowerCase(),
    email_template: template as string,
    ...(endpoint !== undefined ? { endpoint } : {}),
  };
}
