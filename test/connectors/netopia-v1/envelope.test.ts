import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { constants, createPrivateKey, generateKeyPairSync, publicEncrypt, randomBytes, type KeyObject } from 'node:crypto';
import fc from 'fast-check';
import {
  EnvelopeError,
  EnvelopeErrorCode,
  MAX_ENVELOPE_DATA_BYTES,
  decodeBase64Strict,
  loadPrivateKey,
  loadPublicKey,
  openEnvelope,
  sealEnvelope,
  type EnvelopeFields,
} from '../../../src/connectors/netopia-v1/envelope.js';
import { pkcs1v15Unwrap, pkcs1v15Wrap } from '../../../src/connectors/netopia-v1/pkcs1.js';
import { rc4 } from '../../../src/connectors/netopia-v1/rc4.js';
import { vectorPath } from '../../support/vectors.js';

interface SealedVector {
  cipher: string;
  env_key: string;
  data: string;
  iv?: string;
  sym_key_hex: string;
}
const vectors = JSON.parse(readFileSync(vectorPath('v1_envelope_vectors.json'), 'utf8')) as {
  plaintext: string;
  rc4: SealedVector;
  aes: SealedVector;
  private_key_file: string;
  certificate_file: string;
};
const vaniloKeyPem = readFileSync(vectorPath(vectors.private_key_file), 'utf8');
const vaniloCertPem = readFileSync(vectorPath(vectors.certificate_file), 'utf8');
const vaniloKey = loadPrivateKey(vaniloKeyPem);
const vaniloCert = loadPublicKey(vaniloCertPem);
const plaintext = Buffer.from(vectors.plaintext, 'utf8');
const { privateKey: otherKey, publicKey: otherPublicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

const rc4KeyLengths = (n: number): boolean => n >= 1 && n <= 256;

function fieldsOf(vector: SealedVector): { env_key: string; data: string; cipher: string; iv?: string } {
  const { cipher, env_key, data, iv } = vector;
  return iv === undefined ? { cipher, env_key, data } : { cipher, env_key, data, iv };
}

/** Flips bits of one byte of a base64 field, keeping it valid base64 of the same length. */
function damaged(base64: string, index: number, xor: number): string {
  const bytes = Buffer.from(base64, 'base64');
  bytes[index % bytes.length] ^= xor;
  return bytes.toString('base64');
}

function assertEnvelopeError(open: () => unknown, code: number, message?: RegExp): void {
  assert.throws(open, (error: unknown) => {
    assert.ok(error instanceof EnvelopeError, `expected EnvelopeError, got ${String(error)}`);
    assert.equal(error.code, code);
    if (message) assert.match(error.message, message);
    return true;
  });
}

function assertCannotOpen(open: () => unknown): void {
  assertEnvelopeError(open, EnvelopeErrorCode.CannotOpen, /^the envelope could not be opened$/);
}

/**
 * Neither cipher has integrity and a wrong key is implicitly rejected, so damage either fails with the
 * uniform error or yields other bytes; it never yields the original plaintext and never another exception.
 */
function assertNotOpened(open: () => Buffer): void {
  let opened: Buffer;
  try {
    opened = open();
  } catch (error) {
    assert.ok(error instanceof EnvelopeError, `expected EnvelopeError, got ${String(error)}`);
    assert.equal(error.code, EnvelopeErrorCode.CannotOpen);
    return;
  }
  assert.notDeepEqual(opened, plaintext);
}

/** Test-only sealing with an RC4 key of any length, as other senders than openssl_seal may do. */
function sealRc4WithKeyLength(message: Buffer, recipient: KeyObject, keyLength: number): EnvelopeFields {
  const key = randomBytes(keyLength);
  return {
    env_key: pkcs1v15Wrap(recipient, key).toString('base64'),
    data: rc4(key, message).toString('base64'),
    cipher: 'rc4',
    iv: '',
  };
}

/** A 256-byte RSA "ciphertext" whose decryption is exactly `block`, for crafting malformed PKCS#1 blocks. */
function encryptRaw(block: Buffer): Buffer {
  return publicEncrypt({ key: vaniloCert, padding: constants.RSA_NO_PADDING }, block);
}

function pkcs1Block(message: Buffer, options: { header?: [number, number]; paddingLength?: number } = {}): Buffer {
  const [first, type] = options.header ?? [0x00, 0x02];
  const paddingLength = options.paddingLength ?? 256 - 3 - message.length;
  const padding = Buffer.from(randomBytes(paddingLength).map((b) => b | 0x01)); // non-zero
  const block = Buffer.concat([Buffer.of(first, type), padding, Buffer.of(0), message]);
  assert.equal(block.length, 256);
  return block;
}

describe('RC4 is implemented in TypeScript (OpenSSL 3 refuses it), any key length 1..256', () => {
  // RFC 6229, keystream bytes at offsets 0, 16, 240, 256, 1520 and 1536 (encrypting zeros yields the keystream).
  const rfc6229: Array<[string, string[]]> = [
    [
      '0102030405',
      [
        'b2396305f03dc027ccc3524a0a1118a8',
        '6982944f18fc82d589c403a47a0d0919',
        '28cb1132c96ce286421dcaadb8b69eae',
        '1cfcf62b03eddb641d77dfcf7f8d8c93',
        '3294f744d8f9790507e70f62e5bbceea',
        'd8729db41882259bee4f825325f5a130',
      ],
    ],
    [
      '0102030405060708090a0b0c0d0e0f10',
      [
        '9ac7cc9a609d1ef7b2932899cde41b97',
        '5248c4959014126a6e8a84f11d1a9e1c',
        '065902e4b620f6cc36c8589f66432f2b',
        'd39d566bc6bce3010768151549f3873f',
        'b40110c4190b5622a96116b0017ed297',
        'ffa0b514647ec04f6306b892ae661181',
      ],
    ],
    [
      '0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20',
      [
        'eaa6bd25880bf93d3f5d1e4ca2611d91',
        'cfa45c9f7e714b54bdfa80027cb14380',
        '114ae344ded71b35f2e60febad727fd8',
        '02e1e7056b0f623900496422943e97b6',
        '40f250b26d1f096a4afd4c340a588815',
        '3e34135c79db010200767651cf263073',
      ],
    ],
  ];
  for (const [keyHex, expected] of rfc6229) {
    it(`matches RFC 6229 for the ${keyHex.length * 4}-bit key ${keyHex}`, () => {
      const keystream = rc4(Buffer.from(keyHex, 'hex'), new Uint8Array(1552));
      const actual = [0, 16, 240, 256, 1520, 1536].map((offset) => keystream.subarray(offset, offset + 16).toString('hex'));
      assert.deepEqual(actual, expected);
    });
  }
  it('matches the classic "Key"/"Plaintext" vector', () => {
    assert.equal(rc4(Buffer.from('Key'), Buffer.from('Plaintext')).toString('hex'), 'bbf316e8d940af0ad3');
  });
  it('is its own inverse and leaves its inputs untouched', () => {
    const key = randomBytes(256);
    const data = randomBytes(4096);
    const [keyCopy, dataCopy] = [Buffer.from(key), Buffer.from(data)];
    assert.deepEqual(rc4(key, rc4(key, data)), data);
    assert.deepEqual(key, keyCopy);
    assert.deepEqual(data, dataCopy);
  });
  it('refuses keys outside 1..256 bytes', () => {
    assert.throws(() => rc4(new Uint8Array(0), Buffer.from('x')), RangeError);
    assert.throws(() => rc4(new Uint8Array(257), Buffer.from('x')), RangeError);
  });
});

describe('Opening openssl_seal envelopes gives back the plaintext byte for byte', () => {
  it('opens the rc4 vector with vanilo_server.key', () => {
    assert.deepEqual(openEnvelope(fieldsOf(vectors.rc4), vaniloKey), plaintext);
  });
  it('opens the aes-256-cbc vector with vanilo_server.key', () => {
    assert.deepEqual(openEnvelope(fieldsOf(vectors.aes), vaniloKey), plaintext);
  });
});

describe('The symmetric key is encrypted with RSAES-PKCS1-v1_5 (never OAEP)', () => {
  it('unwraps env_key of both vectors to sym_key_hex', () => {
    const rc4Key = pkcs1v15Unwrap(vaniloKey, decodeBase64Strict(vectors.rc4.env_key), rc4KeyLengths, [16, 32]);
    assert.equal(rc4Key.toString('hex'), vectors.rc4.sym_key_hex);
    const aesKey = pkcs1v15Unwrap(vaniloKey, decodeBase64Strict(vectors.aes.env_key), (n) => n === 32, [32]);
    assert.equal(aesKey.toString('hex'), vectors.aes.sym_key_hex);
  });
  it('wraps and unwraps messages from 1 to the largest PKCS#1 v1.5 allows (modulus - 11 bytes)', () => {
    for (const length of [1, 16, 32, 245]) {
      const message = randomBytes(length);
      const wrapped = pkcs1v15Wrap(vaniloCert, message);
      assert.equal(wrapped.length, 256);
      assert.deepEqual(
        pkcs1v15Unwrap(vaniloKey, wrapped, () => true, [16]),
        message,
      );
    }
  });
  it('checks the ciphertext length equals the modulus length', () => {
    const wrapped = pkcs1v15Wrap(vaniloCert, randomBytes(16));
    assert.throws(() => pkcs1v15Unwrap(vaniloKey, wrapped.subarray(1), rc4KeyLengths, [16]), RangeError);
    assert.throws(() => pkcs1v15Unwrap(vaniloKey, Buffer.concat([wrapped, Buffer.of(0)]), rc4KeyLengths, [16]), RangeError);
  });
  it('refuses synthetic lengths the caller would not accept', () => {
    const wrapped = pkcs1v15Wrap(vaniloCert, randomBytes(32));
    assert.throws(() => pkcs1v15Unwrap(vaniloKey, wrapped, (n) => n === 32, [16]), TypeError);
    assert.throws(() => pkcs1v15Unwrap(vaniloKey, wrapped, () => true, []), TypeError);
    assert.throws(() => pkcs1v15Unwrap(vaniloKey, wrapped, () => true, [246]), TypeError);
  });
});

describe('Implicit rejection: bad padding continues with a synthetic key derived from the ciphertext and the private key', () => {
  const secret = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
  const malformed: Array<[string, Buffer]> = [
    ['first byte not 0x00', pkcs1Block(secret, { header: [0x01, 0x02] })],
    ['block type 1 (signature) instead of 2', pkcs1Block(secret, { header: [0x00, 0x01] })],
    ['fewer than 8 padding bytes', pkcs1Block(randomBytes(256 - 3 - 7), { paddingLength: 7 })],
    ['no zero separator', Buffer.concat([Buffer.of(0, 2), Buffer.from(randomBytes(254).map((b) => b | 1))])],
  ];
  for (const [what, block] of malformed) {
    it(`${what}: yields a synthetic 16- or 32-byte key, the same every time`, () => {
      const ciphertext = encryptRaw(block);
      const first = pkcs1v15Unwrap(vaniloKey, ciphertext, rc4KeyLengths, [16, 32]);
      assert.ok(first.length === 16 || first.length === 32, `length ${first.length}`);
      assert.notDeepEqual(first, secret);
      assert.deepEqual(pkcs1v15Unwrap(vaniloKey, ciphertext, rc4KeyLengths, [16, 32]), first);
      // Derived from the key material, not the KeyObject: the same after a restart.
      assert.deepEqual(pkcs1v15Unwrap(createPrivateKey(vaniloKeyPem), ciphertext, rc4KeyLengths, [16, 32]), first);
    });
  }
  it('treats a well-formed block with an unacceptable length as bad padding (aes-256-cbc accepts only 32)', () => {
    const ciphertext = encryptRaw(pkcs1Block(secret));
    const unwrapped = pkcs1v15Unwrap(vaniloKey, ciphertext, (n) => n === 32, [32]);
    assert.equal(unwrapped.length, 32);
    assert.notDeepEqual(unwrapped.subarray(32 - secret.length), secret);
    assert.deepEqual(pkcs1v15Unwrap(vaniloKey, ciphertext, rc4KeyLengths, [16, 32]), secret);
  });
  it('accepts exactly 8 padding bytes', () => {
    const message = randomBytes(245);
    assert.deepEqual(
      pkcs1v15Unwrap(vaniloKey, encryptRaw(pkcs1Block(message, { paddingLength: 8 })), () => true, [16]),
      message,
    );
  });
  it('gives different ciphertexts and different private keys different synthetic keys', () => {
    const a = encryptRaw(pkcs1Block(secret, { header: [0x00, 0x01] }));
    const b = encryptRaw(pkcs1Block(secret, { header: [0x00, 0x01] }));
    assert.notDeepEqual(
      pkcs1v15Unwrap(vaniloKey, a, (n) => n === 32, [32]),
      pkcs1v15Unwrap(vaniloKey, b, (n) => n === 32, [32]),
    );
    const forOther = publicEncrypt({ key: otherPublicKey, padding: constants.RSA_NO_PADDING }, pkcs1Block(secret, { header: [0, 1] }));
    const forVanilo = encryptRaw(pkcs1Block(secret, { header: [0, 1] }));
    assert.notDeepEqual(
      pkcs1v15Unwrap(otherKey, forOther, (n) => n === 32, [32]),
      pkcs1v15Unwrap(vaniloKey, forVanilo, (n) => n === 32, [32]),
    );
  });
  it('makes a tampered rc4 envelope open to the same other bytes every time', () => {
    const fields = { ...fieldsOf(vectors.rc4), env_key: damaged(vectors.rc4.env_key, 100, 0x01) };
    const first = openEnvelope(fields, vaniloKey);
    assert.notDeepEqual(first, plaintext);
    assert.deepEqual(openEnvelope(fields, loadPrivateKey(vaniloKeyPem)), first);
  });
  it('makes a tampered aes-256-cbc envelope fail with the same uniform error every time', () => {
    const fields = { ...fieldsOf(vectors.aes), env_key: damaged(vectors.aes.env_key, 100, 0x01) };
    assertCannotOpen(() => openEnvelope(fields, vaniloKey));
    assertCannotOpen(() => openEnvelope(fields, loadPrivateKey(vaniloKeyPem)));
  });
});

describe('Opening: the RC4 key length is whatever the decrypted key length is', () => {
  for (const keyLength of [1, 5, 16, 32, 245]) {
    it(`opens an rc4 envelope sealed with a ${keyLength}-byte key`, () => {
      const fields = sealRc4WithKeyLength(plaintext, vaniloCert, keyLength);
      assert.deepEqual(openEnvelope(fields, vaniloKey), plaintext);
    });
  }
});

describe('Sealing: random key; aes-256-cbc (default) uses a 32-byte key and a random 16-byte IV, rc4 a 16-byte key', () => {
  it('seals with aes-256-cbc by default and the envelope round-trips', () => {
    const fields = sealEnvelope(plaintext, vaniloCert);
    assert.equal(fields.cipher, 'aes-256-cbc');
    assert.equal(decodeBase64Strict(fields.iv ?? '').length, 16);
    assert.equal(decodeBase64Strict(fields.data).length % 16, 0);
    const envKey = decodeBase64Strict(fields.env_key);
    assert.equal(envKey.length, 256);
    assert.equal(pkcs1v15Unwrap(vaniloKey, envKey, rc4KeyLengths, [16]).length, 32);
    assert.deepEqual(openEnvelope(fields, vaniloKey), plaintext);
  });
  it('seals with rc4: a 16-byte key, no IV, and the envelope round-trips', () => {
    const fields = sealEnvelope(plaintext, vaniloCert, 'rc4');
    assert.equal(fields.cipher, 'rc4');
    assert.equal(fields.iv, undefined);
    assert.equal(decodeBase64Strict(fields.data).length, plaintext.length);
    assert.equal(pkcs1v15Unwrap(vaniloKey, decodeBase64Strict(fields.env_key), rc4KeyLengths, [32]).length, 16);
    assert.deepEqual(openEnvelope(fields, vaniloKey), plaintext);
  });
  it('seals for the vanilo certificate what opens with its private key, in both ciphers', () => {
    const fromCertificate = loadPublicKey(vaniloCertPem);
    for (const cipher of ['rc4', 'aes-256-cbc'] as const) {
      assert.deepEqual(openEnvelope(sealEnvelope(plaintext, fromCertificate, cipher), vaniloKey), plaintext);
    }
  });
  it('draws a fresh key and IV for every envelope', () => {
    const [a, b] = [sealEnvelope(plaintext, vaniloCert), sealEnvelope(plaintext, vaniloCert)];
    assert.notEqual(a.env_key, b.env_key);
    assert.notEqual(a.iv, b.iv);
    assert.notEqual(a.data, b.data);
  });
  it('seals a string as its UTF-8 bytes', () => {
    const xml = '<order><details>Plată în lei — ș ț</details></order>';
    assert.deepEqual(openEnvelope(sealEnvelope(xml, vaniloCert), vaniloKey), Buffer.from(xml, 'utf8'));
  });
  it('refuses to seal with an unknown cipher (0x300000f5)', () => {
    assertEnvelopeError(() => sealEnvelope(plaintext, vaniloCert, 'des' as 'rc4'), EnvelopeErrorCode.InvalidCipher);
  });
});

describe('cipher is rc4 or aes-256-cbc; absent means rc4; anything else is 0x300000f5', () => {
  it('opens an rc4 envelope whose cipher field is absent or empty', () => {
    const { cipher: _omitted, ...withoutCipher } = fieldsOf(vectors.rc4);
    assert.deepEqual(openEnvelope(withoutCipher, vaniloKey), plaintext);
    assert.deepEqual(openEnvelope({ ...withoutCipher, cipher: '' }, vaniloKey), plaintext);
  });
  it('looks cipher names up case-insensitively, as OpenSSL does', () => {
    assert.deepEqual(openEnvelope({ ...fieldsOf(vectors.rc4), cipher: 'RC4' }, vaniloKey), plaintext);
    assert.deepEqual(openEnvelope({ ...fieldsOf(vectors.aes), cipher: 'AES-256-CBC' }, vaniloKey), plaintext);
  });
  it('refuses any other cipher with 0x300000f5', () => {
    for (const cipher of ['aes-128-cbc', 'aes-256-gcm', 'des-ede3-cbc', 'rc4-40', 'none', ' rc4']) {
      assertEnvelopeError(() => openEnvelope({ ...fieldsOf(vectors.aes), cipher }, vaniloKey), EnvelopeErrorCode.InvalidCipher);
    }
  });
});

describe('iv is base64 of 16 bytes with aes-256-cbc; clients send an empty string with rc4', () => {
  it('opens rc4 with an empty iv, and ignores any iv like openssl_open does', () => {
    assert.deepEqual(openEnvelope({ ...fieldsOf(vectors.rc4), iv: '' }, vaniloKey), plaintext);
    assert.deepEqual(openEnvelope({ ...fieldsOf(vectors.rc4), iv: 'not base64!' }, vaniloKey), plaintext);
  });
  it('refuses aes-256-cbc without an iv or with one that is not 16 bytes (0x300000f5)', () => {
    const { iv: _omitted, ...withoutIv } = fieldsOf(vectors.aes);
    for (const iv of [undefined, '', randomBytes(8).toString('base64'), randomBytes(15).toString('base64'), randomBytes(32).toString('base64')]) {
      assertEnvelopeError(() => openEnvelope({ ...withoutIv, iv }, vaniloKey), EnvelopeErrorCode.InvalidParameters, /iv/);
    }
  });
});

describe('Every binary item is standard base64 with padding (decodeBase64Strict)', () => {
  it('decodes canonical padded base64', () => {
    assert.equal(decodeBase64Strict('').length, 0);
    assert.equal(decodeBase64Strict('QQ==').toString(), 'A');
    assert.equal(decodeBase64Strict('QUI=').toString(), 'AB');
    assert.equal(decodeBase64Strict('QUJD').toString(), 'ABC');
    assert.deepEqual(decodeBase64Strict('+/+/'), Buffer.from('fbffbf', 'hex'));
  });
  it('strips CR, LF and tab line wrapping (PHP chunk_split bodies)', () => {
    const bytes = randomBytes(300);
    const wrapped = bytes.toString('base64').replace(/.{1,76}/g, '$&\r\n');
    assert.deepEqual(decodeBase64Strict(wrapped), bytes);
    assert.deepEqual(decodeBase64Strict('QU\nJD\tQQ=\r\n='), Buffer.from('ABCA'));
  });
  it('refuses spaces (an unencoded "+" in a form body), missing padding, base64url, non-canonical bits and junk', () => {
    for (const bad of ['QUJD QUJD', 'Q JD', 'QQ', 'QUI', 'QQ=', 'Q===', '====', 'QR==', 'QUJ=', 'QQ==QQ==', 'Pz8_', 'Pz8-', 'QUJDé', '%2B==', 'QUJD\0']) {
      assertEnvelopeError(() => decodeBase64Strict(bad), EnvelopeErrorCode.InvalidParameters);
    }
  });
  it('opens an envelope whose fields were wrapped with CRLF every 76 characters', () => {
    const wrap = (s: string): string => s.replace(/.{1,76}/g, '$&\r\n');
    const { env_key, data, iv } = fieldsOf(vectors.aes);
    assert.deepEqual(openEnvelope({ cipher: 'aes-256-cbc', env_key: wrap(env_key), data: wrap(data), iv }, vaniloKey), plaintext);
  });
  it('refuses an envelope with bad base64 in env_key or data (0x300000f5)', () => {
    const fields = fieldsOf(vectors.aes);
    assertEnvelopeError(() => openEnvelope({ ...fields, env_key: fields.env_key.slice(0, -2) }, vaniloKey), EnvelopeErrorCode.InvalidParameters, /env_key/);
    assertEnvelopeError(() => openEnvelope({ ...fields, data: fields.data.replace(/\+/, ' ') }, vaniloKey), EnvelopeErrorCode.InvalidParameters, /data/);
    assertEnvelopeError(() => openEnvelope({ ...fields, data: '*' + fields.data.slice(1) }, vaniloKey), EnvelopeErrorCode.InvalidParameters, /data/);
  });
});

describe('openEnvelope validates types and presence and throws nothing but EnvelopeError for bad input', () => {
  const nonStrings: unknown[] = [123, true, null, ['a'], { value: 'a' }, Buffer.from('QQ==')];
  it('refuses non-string env_key, data, cipher and iv with 0x300000f5', () => {
    for (const name of ['env_key', 'data', 'cipher', 'iv'] as const) {
      for (const value of nonStrings) {
        assertEnvelopeError(() => openEnvelope({ ...fieldsOf(vectors.aes), [name]: value }, vaniloKey), EnvelopeErrorCode.InvalidParameters, new RegExp(name));
      }
    }
  });
  it('refuses a missing or empty env_key or data with 0x300000f5', () => {
    for (const name of ['env_key', 'data'] as const) {
      for (const value of [undefined, '']) {
        assertEnvelopeError(() => openEnvelope({ ...fieldsOf(vectors.rc4), [name]: value }, vaniloKey), EnvelopeErrorCode.InvalidParameters, /missing/);
      }
    }
    assertEnvelopeError(() => openEnvelope({}, vaniloKey), EnvelopeErrorCode.InvalidParameters);
  });
  it('refuses data longer than 1 MiB decoded (0x300000f5) and accepts exactly 1 MiB', () => {
    const rc4Fields = fieldsOf(vectors.rc4);
    const limit = Buffer.alloc(MAX_ENVELOPE_DATA_BYTES);
    assert.equal(openEnvelope({ ...rc4Fields, data: limit.toString('base64') }, vaniloKey).length, MAX_ENVELOPE_DATA_BYTES);
    const tooLarge = Buffer.alloc(MAX_ENVELOPE_DATA_BYTES + 1).toString('base64');
    assertEnvelopeError(() => openEnvelope({ ...rc4Fields, data: tooLarge }, vaniloKey), EnvelopeErrorCode.InvalidParameters, /too large/);
    assertEnvelopeError(() => openEnvelope({ ...rc4Fields, data: 'A'.repeat(4_000_000) }, vaniloKey), EnvelopeErrorCode.InvalidParameters, /too large/);
  });
  it('treats a private key that is not RSA as a configuration bug (TypeError), not bad input', () => {
    assert.throws(() => openEnvelope(fieldsOf(vectors.aes), vaniloCert), TypeError);
  });
});

describe('All crypto failures are one uniform EnvelopeError 0x300000f3 "the envelope could not be opened"', () => {
  it('tampered env_key (one byte flipped), aes-256-cbc', () => {
    assertCannotOpen(() => openEnvelope({ ...fieldsOf(vectors.aes), env_key: damaged(vectors.aes.env_key, 7, 0x80) }, vaniloKey));
  });
  it('tampered data: a broken PKCS#7 padding in the last block, aes-256-cbc', () => {
    const data = decodeBase64Strict(vectors.aes.data);
    // Flipping the last byte of the next-to-last block flips the last plaintext byte, the padding length.
    assertCannotOpen(() => openEnvelope({ ...fieldsOf(vectors.aes), data: damaged(vectors.aes.data, data.length - 17, 0xff) }, vaniloKey));
    assertCannotOpen(() => openEnvelope({ ...fieldsOf(vectors.aes), data: data.subarray(0, -1).toString('base64') }, vaniloKey));
  });
  it('truncated or oversized env_key, and one not below the modulus', () => {
    const envKey = decodeBase64Strict(vectors.aes.env_key);
    for (const bad of [envKey.subarray(0, 255), envKey.subarray(0, 128), Buffer.concat([envKey, Buffer.of(0)]), Buffer.alloc(256, 0xff)]) {
      for (const vector of [vectors.aes, vectors.rc4]) {
        assertCannotOpen(() => openEnvelope({ ...fieldsOf(vector), env_key: bad.toString('base64') }, vaniloKey));
      }
    }
  });
  it('wrong private key: never the plaintext, and the uniform error when anything fails', () => {
    for (const vector of [vectors.aes, vectors.rc4]) assertNotOpened(() => openEnvelope(fieldsOf(vector), otherKey));
    const sealedForOther = sealEnvelope(plaintext, otherPublicKey);
    assertNotOpened(() => openEnvelope(sealedForOther, vaniloKey));
  });
  it('RC4 has no integrity: tampered rc4 data opens to other bytes (integrity comes from the XML parse and ledger checks)', () => {
    const opened = openEnvelope({ ...fieldsOf(vectors.rc4), data: damaged(vectors.rc4.data, 10, 0x20) }, vaniloKey);
    assert.equal(opened.length, plaintext.length);
    assert.notDeepEqual(opened, plaintext);
  });
});

describe('Random damage never escapes as anything but EnvelopeError', () => {
  it('300 random byte flips in env_key, data or iv never throw another type, nor give back the plaintext', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(vectors.rc4, vectors.aes),
        fc.constantFrom('env_key', 'data', 'iv'),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (vector, field, index, xor) => {
          const fields = fieldsOf(vector);
          const target = field === 'iv' && fields.iv === undefined ? 'data' : field;
          const value = fields[target];
          assert.ok(value !== undefined);
          assertNotOpened(() => openEnvelope({ ...fields, [target]: damaged(value, index, xor) }, vaniloKey));
        },
      ),
      { numRuns: 300 },
    );
  });
  it('300 arbitrary field values only ever throw EnvelopeError', () => {
    const field = (valid: string | undefined) => fc.oneof(fc.anything(), fc.string(), fc.base64String(), fc.constant(valid), fc.constant(''));
    fc.assert(
      fc.property(
        fc.record({
          env_key: field(vectors.aes.env_key),
          data: field(vectors.aes.data),
          cipher: fc.oneof(fc.anything(), fc.constantFrom(undefined, '', 'rc4', 'aes-256-cbc', 'AES-256-CBC', 'des')),
          iv: field(vectors.aes.iv),
        }),
        (fields) => {
          try {
            assert.ok(Buffer.isBuffer(openEnvelope(fields, vaniloKey)));
          } catch (error) {
            assert.ok(error instanceof EnvelopeError, `expected EnvelopeError, got ${String(error)}`);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('Keys: a certificate or public key PEM for sealing, a PKCS#8 or PKCS#1 PEM private key for opening; RSA only', () => {
  it('loads the certificate, SPKI and PKCS#1 public keys to the same RSA key', () => {
    const spki = vaniloCert.export({ type: 'spki', format: 'pem' }).toString();
    const pkcs1 = vaniloCert.export({ type: 'pkcs1', format: 'pem' }).toString();
    for (const pem of [vaniloCertPem, spki, pkcs1]) {
      const key = loadPublicKey(pem);
      assert.equal(key.type, 'public');
      assert.equal(key.export({ type: 'spki', format: 'pem' }), spki);
    }
  });
  it('loads PKCS#1 and PKCS#8 private keys', () => {
    const pkcs8 = vaniloKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    for (const pem of [vaniloKeyPem, pkcs8]) {
      const key = loadPrivateKey(pem);
      assert.equal(key.type, 'private');
      assert.deepEqual(openEnvelope(fieldsOf(vectors.aes), key), plaintext);
    }
  });
  it('refuses keys that are not RSA', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    assert.throws(() => loadPublicKey(ec.publicKey.export({ type: 'spki', format: 'pem' }).toString()), /must be an RSA key, got ec/);
    assert.throws(() => loadPrivateKey(ec.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()), /must be an RSA key, got ec/);
  });
  it('refuses a private key where a public key belongs, and the other way round', () => {
    assert.throws(() => loadPublicKey(vaniloKeyPem), /certificate or a PEM public key/);
    assert.throws(() => loadPrivateKey(vaniloCertPem), /PEM private key/);
  });
  it('refuses encrypted private keys and unparsable PEM with a clear error', () => {
    const encrypted = vaniloKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret' }).toString();
    assert.throws(() => loadPrivateKey(encrypted), /unencrypted PEM private key/);
    assert.throws(() => loadPublicKey('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'), /could not be parsed/);
    assert.throws(() => loadPrivateKey('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'), /could not be parsed/);
  });
});
