// RC4 (ARC4) stream cipher. NETOPIA v1 envelopes default to `rc4` (PHP openssl_seal's historical default),
// but OpenSSL 3 moved RC4 to the legacy provider, so Node 20 refuses createCipheriv('rc4') unless it is
// started with extra flags. RC4 is a few lines, so it lives here instead of depending on runtime flags.
//
// RC4 is symmetric (encrypting and decrypting are the same operation) and has no integrity: any ciphertext
// "decrypts". Integrity of a v1 message comes from parsing the XML and from the ledger checks, not from here.

/**
 * Encrypts or decrypts `data` with RC4 under `key` (1..256 bytes, any length, as OpenSSL's EVP_rc4 with a
 * variable key length accepts). Returns a new buffer; inputs are not modified.
 */
export function rc4(key: Uint8Array, data: Uint8Array): Buffer {
  const keyLength = key.length;
  if (keyLength < 1 || keyLength > 256) throw new RangeError(`RC4 key must be 1..256 bytes, got ${keyLength}`);

  // Key-scheduling algorithm.
  const s = new Uint8Array(256);
  for (let i = 0; i < 256; i++) s[i] = i;
  let j = 0;
  for (let i = 0; i < 256; i++) {
    const si = s[i];
    j = (j + si + key[i % keyLength]) & 0xff;
    s[i] = s[j];
    s[j] = si;
  }

  // Pseudo-random generation, XORed into the output in one pass without per-byte allocations.
  const out = Buffer.allocUnsafe(data.length);
  let i = 0;
  j = 0;
  for (let n = 0; n < data.length; n++) {
    i = (i + 1) & 0xff;
    const si = s[i];
    j = (j + si) & 0xff;
    const sj = s[j];
    s[i] = sj;
    s[j] = si;
    out[n] = data[n] ^ s[(si + sj) & 0xff];
  }
  return out;
}
