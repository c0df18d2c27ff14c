import { randomFillSync } from 'node:crypto';

const CROCKFORD = '0123456789abcdefghjkmnpqrstvwxyz';

/**
 * Random bytes are drawn from the CSPRNG in blocks and handed out ten at a time: one `randomFillSync` per
 * 409 identifiers instead of one per identifier (every payment takes three: its own, its attempt's, its event's).
 * Each byte is used once.
 */
const POOL = Buffer.alloc(4090);
let poolOffset = POOL.length;

function tenRandomBytes(): number {
  if (poolOffset + 10 > POOL.length) {
    randomFillSync(POOL);
    poolOffset = 0;
  }
  const at = poolOffset;
  poolOffset += 10;
  return at;
}

/** Five base32 characters (25 bits) of `n`, most significant first. */
function base32Of25Bits(n: number): string {
  return CROCKFORD[(n >>> 20) & 31] + CROCKFORD[(n >>> 15) & 31] + CROCKFORD[(n >>> 10) & 31] + CROCKFORD[(n >>> 5) & 31] + CROCKFORD[n & 31];
}

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
  // 10 bytes = 80 bits = 16 base32 characters, read as two 40-bit halves (exact in a double), 8 characters each.
  const at = tenRandomBytes();
  const high = POOL.readUIntBE(at, 5);
  const low = POOL.readUIntBE(at + 5, 5);
  return `${prefix}_${time}${eightChars(high)}${eightChars(low)}`;
}

/** Eight base32 characters of a 40-bit number. */
function eightChars(n: number): string {
  // 40 bits split into a high 15 and a low 25, both exact as 32-bit integers.
  const hi = Math.floor(n / 2 ** 25);
  const lo = n % 2 ** 25;
  return CROCKFORD[(hi >>> 10) & 31] + CROCKFORD[(hi >>> 5) & 31] + CROCKFORD[hi & 31] + base32Of25Bits(lo);
}
