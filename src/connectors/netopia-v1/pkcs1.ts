// RSAES-PKCS1-v1_5 key transport for NETOPIA v1 envelopes (PHP openssl_seal/openssl_open semantics).
//
// Why this is hand-written: NETOPIA v1 encrypts the envelope key with PKCS#1 v1.5 padding (never OAEP), but
// PKCS#1 v1.5 decryption that reports "bad padding" is a Bleichenbacher padding oracle, and the Marvin attack
// (CVE-2023-46809) showed that even the *timing* of the padding check leaks enough to decrypt. Node 20 on
// OpenSSL 3.0 therefore refuses privateDecrypt with RSA_PKCS1_PADDING unless the process is started with
// --security-revert, which we do not want to require. Instead we do the raw RSA operation
// (RSA_NO_PADDING, still blinded by OpenSSL) and check the padding here with IMPLICIT REJECTION, the
// countermeasure OpenSSL 3.2+ adopted: a malformed block does not fail, it yields a synthetic message derived
// deterministically from the ciphertext and a per-key secret. A caller then fails later, in the same way and
// after the same work, whether the padding was bad or the key was merely wrong, so there is no oracle.
// The padding scan below avoids data-dependent branches and indexing (masks instead of ifs); JavaScript gives
// no hard constant-time guarantee, but nothing here exits early or branches on the secret block.

import { constants, createHash, createHmac, privateDecrypt, publicEncrypt, type KeyObject } from 'node:crypto';

/** PKCS#1 v1.5 block: 0x00 0x02, at least 8 non-zero padding bytes, 0x00, message. */
const MIN_PADDING = 11;

// The implicit-rejection secret is a hash of the private key itself, so synthetic messages are stable across
// restarts and processes (the same bad ciphertext always fails the same way) yet unpredictable without the key.
const rejectionSecrets = new WeakMap<KeyObject, Buffer>();

function rejectionSecret(privateKey: KeyObject): Buffer {
  let secret = rejectionSecrets.get(privateKey);
  if (secret === undefined) {
    secret = createHash('sha256')
      .update('incasso netopia-v1 pkcs1 implicit rejection\0')
      .update(privateKey.export({ type: 'pkcs8', format: 'der' }))
      .digest();
    rejectionSecrets.set(privateKey, secret);
  }
  return secret;
}

// Branch-free helpers over small non-negative integers (< 2^31). Each returns 0 or 1.
const isZero = (x: number): number => (x - 1) >>> 31;
const lessThan = (a: number, b: number): number => (a - b) >>> 31;

/**
 * The synthetic message for `ciphertext`, right-aligned in a block of `k` bytes (where a real message sits in
 * a padded block), plus its length picked from `lengths`. Always computes the same amount of HMAC output, so
 * the work does not depend on which length is picked.
 */
function syntheticMessage(privateKey: KeyObject, ciphertext: Buffer, lengths: number[], k: number): { block: Buffer; length: number } {
  const kdk = createHmac('sha256', rejectionSecret(privateKey)).update(ciphertext).digest();
  const prf = (label: string, counter: number): Buffer =>
    createHmac('sha256', kdk)
      .update(label)
      .update(Uint8Array.of(counter >>> 8, counter & 0xff))
      .digest();

  // Modulo bias is irrelevant: the choice only has to be deterministic and plausible, not uniform.
  const length = lengths[prf('length', 0).readUInt32BE(0) % lengths.length];
  const maxLength = Math.max(...lengths);
  const stream: Buffer[] = [];
  for (let produced = 0, counter = 0; produced < maxLength; produced += 32, counter++) {
    stream.push(prf('message', counter));
  }
  const bytes = Buffer.concat(stream);

  const block = Buffer.alloc(k);
  bytes.copy(block, k - length, 0, length);
  bytes.fill(0);
  return { block, length };
}

/**
 * Decrypts a PKCS#1 v1.5 (RSAES) `ciphertext` with implicit rejection.
 *
 * The result is the real message when the block is well formed and `acceptLength(messageLength)` holds;
 * otherwise it is a synthetic message whose length is one of `syntheticLengths`, derived from the ciphertext
 * and the key. It never signals bad padding. It throws only for misuse (not an RSA private key, synthetic
 * lengths that are not acceptable) and for ciphertexts that can be rejected on public information alone:
 * a length other than the modulus length, or a value not below the modulus.
 */
export function pkcs1v15Unwrap(privateKey: KeyObject, ciphertext: Buffer, acceptLength: (n: number) => boolean, syntheticLengths: number[]): Buffer {
  const bits = privateKey.asymmetricKeyDetails?.modulusLength;
  if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'rsa' || bits === undefined) {
    throw new TypeError('expected an RSA private key');
  }
  const k = Math.ceil(bits / 8);
  const maxMessage = k - MIN_PADDING;
  if (syntheticLengths.length === 0 || syntheticLengths.some((n) => !Number.isInteger(n) || n < 1 || n > maxMessage || !acceptLength(n))) {
    throw new TypeError('synthetic lengths must be non-empty, acceptable and fit the RSA modulus');
  }
  if (ciphertext.length !== k) throw new RangeError('ciphertext length does not match the RSA modulus');

  // Which message lengths are acceptable is public; tabulating it keeps the secret length out of the callback.
  const acceptable = new Uint8Array(maxMessage + 1);
  for (let n = 0; n <= maxMessage; n++) acceptable[n] = acceptLength(n) ? 1 : 0;

  const synthetic = syntheticMessage(privateKey, ciphertext, syntheticLengths, k);
  const em = privateDecrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, ciphertext);

  let good = isZero(em[0]) & isZero(em[1] ^ 0x02);
  // Find the first zero byte after the 0x00 0x02 header without stopping at it.
  let looking = 1;
  let separator = 0;
  for (let i = 2; i < k; i++) {
    const found = looking & isZero(em[i]);
    separator = (i & -found) | (separator & ~-found);
    looking &= found ^ 1;
  }
  good &= looking ^ 1; // a separator exists
  good &= lessThan(MIN_PADDING - 2, separator); // at least 8 padding bytes before it
  const messageLength = k - separator - 1;
  let accepted = 0;
  for (let n = 0; n <= maxMessage; n++) accepted |= acceptable[n] & isZero(n ^ messageLength);
  good &= accepted;

  // Both candidates are right-aligned in k bytes, so choosing between them is a byte-wise masked select.
  const mask = -good;
  const chosen = Buffer.allocUnsafe(k);
  for (let i = 0; i < k; i++) chosen[i] = (em[i] & mask) | (synthetic.block[i] & ~mask);
  const length = (messageLength & mask) | (synthetic.length & ~mask);
  const message = Buffer.from(chosen.subarray(k - length));

  em.fill(0);
  chosen.fill(0);
  synthetic.block.fill(0);
  return message;
}

/**
 * Encrypts `message` for `publicKey` with RSAES-PKCS1-v1_5 (as openssl_seal does). Public-key encryption with
 * PKCS#1 v1.5 padding is not affected by the Marvin restriction and OpenSSL supplies the random padding.
 */
export function pkcs1v15Wrap(publicKey: KeyObject, message: Buffer): Buffer {
  if (publicKey.asymmetricKeyType !== 'rsa') throw new TypeError('expected an RSA key');
  return publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, message);
}
