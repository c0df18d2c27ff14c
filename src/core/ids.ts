import { randomBytes } from 'node:crypto';

const CROCKFORD = '0123456789abcdefghjkmnpqrstvwxyz';

/**
 * Time-ordered identifiers with a type prefix (`pay_01jd…`): 10 base32 characters of milliseconds then 16 of
 * randomness, so that ordering by id is ordering by creation and cursors need no extra column.
 */
export function newId(prefix: string, now = Date.now()): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const rnd = randomBytes(10);
  let random = '';
  // 10 bytes = 80 bits = 16 base32 characters.
  let acc = 0n;
  for (const b of rnd) acc = (acc << 8n) | BigInt(b);
  for (let i = 0; i < 16; i++) {
    random = CROCKFORD[Number(acc & 31n)] + random;
    acc >>= 5n;
  }
  return `${prefix}_${time}${random}`;
}
