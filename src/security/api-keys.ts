import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * API keys are 32 random bytes; only their SHA-256 is stored. A slow password hash buys nothing for keys
 * with 256 bits of entropy and would cost every request a few milliseconds.
 */
export function generateApiKey(kind: 'sk' | 'adm' = 'sk'): { key: string; hash: string; prefix: string } {
  const key = `${kind}_${randomBytes(32).toString('base64url')}`;
  return { key, hash: hashApiKey(key), prefix: key.slice(0, kind.length + 7) };
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** Constant-time comparison of two strings of possibly different length. */
export function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb) && a.length === b.length;
}
