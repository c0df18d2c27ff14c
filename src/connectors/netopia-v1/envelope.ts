// NETOPIA API v1 envelopes: XML sealed the way PHP's openssl_seal does it and opened the way openssl_open does.
//
//   env_key  base64(RSAES-PKCS1-v1_5(recipient public key, symmetric key))
//   data     base64(cipher(symmetric key, iv, xml))
//   cipher   'rc4' (16-byte key, no IV; also what an absent/empty field means) or 'aes-256-cbc' (32-byte key,
//            PKCS#7 padding)
//   iv       base64(16 random bytes) with aes-256-cbc; clients send an empty string with rc4
//
// Neither cipher gives integrity (RC4 is a bare stream cipher, CBC without a MAC is malleable), and with
// implicit rejection (see pkcs1.ts) a wrong key does not fail either: opening may return other bytes.
// Integrity comes from parsing the XML and from the ledger checks on what it says, never from this layer.
// Sans-IO: no storage, no network; keys are passed in as KeyObjects.

import { createCipheriv, createDecipheriv, createPrivateKey, createPublicKey, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import { pkcs1v15Unwrap, pkcs1v15Wrap } from './pkcs1.js';
import { rc4 } from './rc4.js';

export type EnvelopeCipher = 'rc4' | 'aes-256-cbc';

export interface EnvelopeFields {
  env_key: string;
  data: string;
  cipher: EnvelopeCipher;
  /** Only with aes-256-cbc. */
  iv?: string;
}

/**
 * Codes reported back to NETOPIA in the `<crc error_code>` of a failed confirmation, with the meanings NETOPIA's
 * own SDKs give them (`ERROR_CONFIRM_INVALID_POST_PARAMETERS` 0x300000f5, `…_FAILED_DECRYPT_DATA` 0x300000f3).
 * Every cryptographic failure shares one code and one message so that the response is never a padding or key oracle.
 */
export const EnvelopeErrorCode = {
  /** A field is missing, not a string, not canonical base64, too large, or the IV has the wrong length. */
  InvalidParameters: 0x300000f5,
  /** The envelope could not be opened: key unwrap, length, or decryption failure (deliberately undistinguished). */
  CannotOpen: 0x300000f3,
  /** The cipher field names a cipher other than rc4 and aes-256-cbc: an invalid POST parameter too. */
  InvalidCipher: 0x300000f5,
} as const;
export type EnvelopeErrorCode = (typeof EnvelopeErrorCode)[keyof typeof EnvelopeErrorCode];

export class EnvelopeError extends Error {
  override readonly name = 'EnvelopeError';
  constructor(
    readonly code: EnvelopeErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Largest `data` accepted when opening, in decoded bytes. Real v1 messages are a few kilobytes. */
export const MAX_ENVELOPE_DATA_BYTES = 1024 * 1024;

const AES_KEY_BYTES = 32;
const AES_IV_BYTES = 16;
const RC4_SEAL_KEY_BYTES = 16;

// Standard alphabet with '=' padding, as PHP's base64_encode and OpenSSL produce. CR, LF and tab are stripped
// because PHP bodies built with chunk_split()/MIME wrapping break the text every 76 characters. Spaces are NOT
// stripped: in a form-encoded body a space is almost always a '+' the sender failed to percent-encode, and
// dropping it would silently corrupt the value, so it is reported as invalid base64 instead. Missing padding
// is rejected too: every encoder NETOPIA integrations use pads, so unpadded text means a different encoding
// (base64url, truncation), not an envelope.
const BASE64_LINE_BREAKS = /[\r\n\t]/g;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function decodeBase64(text: string): Buffer | undefined {
  const compact = text.replace(BASE64_LINE_BREAKS, '');
  if (!BASE64.test(compact)) return undefined;
  const bytes = Buffer.from(compact, 'base64');
  // Re-encoding must give the same text: this rejects non-zero bits in the unused part of the last quantum
  // ('QR==' and 'QQ==' would otherwise both decode to "A"), so every byte string has exactly one accepted form.
  return bytes.toString('base64') === compact ? bytes : undefined;
}

/**
 * Decodes canonical, padded, standard base64, tolerating CR/LF/tab line wrapping (see above for why spaces and
 * unpadded input are refused). Throws EnvelopeError 0x300000f5 otherwise.
 */
export function decodeBase64Strict(s: string): Buffer {
  const bytes = decodeBase64(s);
  if (bytes === undefined) throw invalidParameters('value is not canonical base64');
  return bytes;
}

function invalidParameters(message: string): EnvelopeError {
  return new EnvelopeError(EnvelopeErrorCode.InvalidParameters, message);
}

// One message, no cause: the reason a particular envelope failed must not reach logs or responses in a form
// that could tell a bad key from bad padding from bad data.
function cannotOpen(): EnvelopeError {
  return new EnvelopeError(EnvelopeErrorCode.CannotOpen, 'the envelope could not be opened');
}

function requiredString(name: string, value: unknown): string {
  if (value === undefined || value === '') throw invalidParameters(`${name} is missing`);
  if (typeof value !== 'string') throw invalidParameters(`${name} must be a string`);
  return value;
}

function decodeField(name: string, value: string): Buffer {
  // Bound the work before decoding: base64 needs 4 characters per 3 bytes; allow as much again for wrapping.
  if (value.length > Math.ceil(MAX_ENVELOPE_DATA_BYTES / 3) * 8) throw invalidParameters(`${name} is too large`);
  const bytes = decodeBase64(value);
  if (bytes === undefined) throw invalidParameters(`${name} is not valid base64`);
  if (bytes.length > MAX_ENVELOPE_DATA_BYTES) throw invalidParameters(`${name} is too large`);
  return bytes;
}

function parseCipher(value: unknown): EnvelopeCipher {
  // openssl_open's historical default, and what integrations that predate the field send.
  if (value === undefined || value === '') return 'rc4';
  if (typeof value !== 'string') throw invalidParameters('cipher must be a string');
  // OpenSSL (and so PHP) looks cipher names up case-insensitively.
  const name = value.toLowerCase();
  if (name === 'rc4' || name === 'aes-256-cbc') return name;
  throw new EnvelopeError(EnvelopeErrorCode.InvalidCipher, 'unsupported cipher');
}

/** Seals `plaintext` for `recipient` (an RSA public key, e.g. from loadPublicKey). */
export function sealEnvelope(plaintext: Buffer | string, recipient: KeyObject, cipher: EnvelopeCipher = 'aes-256-cbc'): EnvelopeFields {
  const data = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
  switch (cipher) {
    case 'rc4': {
      const key = randomBytes(RC4_SEAL_KEY_BYTES);
      try {
        return {
          env_key: pkcs1v15Wrap(recipient, key).toString('base64'),
          data: rc4(key, data).toString('base64'),
          cipher,
        };
      } finally {
        key.fill(0);
      }
    }
    case 'aes-256-cbc': {
      const key = randomBytes(AES_KEY_BYTES);
      const iv = randomBytes(AES_IV_BYTES);
      try {
        const aes = createCipheriv(cipher, key, iv);
        const sealed = Buffer.concat([aes.update(data), aes.final()]);
        return {
          env_key: pkcs1v15Wrap(recipient, key).toString('base64'),
          data: sealed.toString('base64'),
          cipher,
          iv: iv.toString('base64'),
        };
      } finally {
        key.fill(0);
      }
    }
    default:
      throw new EnvelopeError(EnvelopeErrorCode.InvalidCipher, 'unsupported cipher');
  }
}

/**
 * Opens an envelope posted by NETOPIA (fields straight from the parsed form body) with our RSA private key.
 * Any problem with the fields throws EnvelopeError and nothing else; a TypeError is thrown only when
 * `privateKey` is not an RSA private key, which is a configuration bug rather than bad input.
 */
export function openEnvelope(fields: { env_key?: unknown; data?: unknown; cipher?: unknown; iv?: unknown }, privateKey: KeyObject): Buffer {
  if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'rsa') {
    throw new TypeError('openEnvelope needs an RSA private key');
  }

  // Everything public is validated first, with specific messages; only then the secret-dependent part.
  const envKeyText = requiredString('env_key', fields.env_key);
  const dataText = requiredString('data', fields.data);
  if (fields.iv !== undefined && typeof fields.iv !== 'string') throw invalidParameters('iv must be a string');
  const cipher = parseCipher(fields.cipher);
  const envKey = decodeField('env_key', envKeyText);
  const data = decodeField('data', dataText);
  if (cipher === 'rc4') {
    // Like openssl_open, a cipher without an IV ignores whatever iv was sent. EVP_OpenInit sets the RC4 key
    // length to whatever was unwrapped; on bad padding the synthetic key gets one of the plausible lengths,
    // 16 (openssl_seal's) or 32, so it does not stand out.
    return withUniformFailure(() => {
      const key = pkcs1v15Unwrap(privateKey, envKey, (n) => n >= 1 && n <= 256, [16, 32]);
      try {
        return rc4(key, data);
      } finally {
        key.fill(0);
      }
    });
  }

  const iv = decodeField('iv', requiredString('iv', fields.iv));
  if (iv.length !== AES_IV_BYTES) throw invalidParameters(`iv must be ${AES_IV_BYTES} bytes`);
  return withUniformFailure(() => {
    const key = pkcs1v15Unwrap(privateKey, envKey, (n) => n === AES_KEY_BYTES, [AES_KEY_BYTES]);
    try {
      const aes = createDecipheriv('aes-256-cbc', key, iv);
      return Buffer.concat([aes.update(data), aes.final()]);
    } finally {
      key.fill(0);
    }
  });
}

// Wrong length, value not below the modulus, AES padding: all become the one uniform error.
function withUniformFailure(open: () => Buffer): Buffer {
  try {
    return open();
  } catch {
    throw cannotOpen();
  }
}

function requireRsa(key: KeyObject, what: string): KeyObject {
  if (key.asymmetricKeyType !== 'rsa') {
    throw new Error(`NETOPIA v1 ${what} must be an RSA key, got ${key.asymmetricKeyType ?? 'unknown'}`);
  }
  return key;
}

const CERTIFICATE_PEM = /-----BEGIN CERTIFICATE-----/;
const PUBLIC_KEY_PEM = /-----BEGIN (?:RSA )?PUBLIC KEY-----/;
const PRIVATE_KEY_PEM = /-----BEGIN (?:RSA )?PRIVATE KEY-----/;

/**
 * The recipient key for sealing: from an X.509 certificate PEM (what NETOPIA hands out as the merchant's
 * `.cer`) or a public key PEM (SPKI `PUBLIC KEY` or PKCS#1 `RSA PUBLIC KEY`). A private key PEM is refused
 * rather than silently reduced to its public half, so secrets do not end up in public-key configuration.
 */
export function loadPublicKey(pemOrCert: string): KeyObject {
  const isCertificate = CERTIFICATE_PEM.test(pemOrCert);
  if (!isCertificate && !PUBLIC_KEY_PEM.test(pemOrCert)) {
    throw new Error('NETOPIA v1 public key must be a PEM X.509 certificate or a PEM public key (SPKI or PKCS#1)');
  }
  let key: KeyObject;
  try {
    key = isCertificate ? new X509Certificate(pemOrCert).publicKey : createPublicKey({ key: pemOrCert, format: 'pem' });
  } catch (cause) {
    throw new Error('NETOPIA v1 public key PEM could not be parsed', { cause });
  }
  return requireRsa(key, 'public key');
}

/** Our private key for opening: an unencrypted PKCS#8 (`PRIVATE KEY`) or PKCS#1 (`RSA PRIVATE KEY`) PEM. */
export function loadPrivateKey(pem: string): KeyObject {
  if (!PRIVATE_KEY_PEM.test(pem)) {
    throw new Error('NETOPIA v1 private key must be an unencrypted PEM private key (PKCS#8 or PKCS#1)');
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch (cause) {
    throw new Error('NETOPIA v1 private key PEM could not be parsed', { cause });
  }
  return requireRsa(key, 'private key');
}
