/**
 * The `Verification-token` of a NETOPIA v2 IPN: a JWS (compact JWT) signed RS512 by NETOPIA's platform key, whose
 * claims bind it to the POS (`aud`) and to the exact body bytes (`sub` = base64(SHA-512(raw body))). Notes §2.7.
 *
 * The checks are the union of NETOPIA's Go/Python/PHP SDKs, hardened: the algorithm is pinned to RS512 (the SDKs
 * take it from the token's own header, which opens the `none` / HS512-with-the-public-key confusions), keys come
 * only from the connection (`jku`, `jwk`, `x5u`, `kid` are never followed), and failures carry the SDKs' codes.
 *
 * The signature is checked with jose's `compactVerify`, `algorithms: ['RS512']`: jose refuses any other algorithm
 * (`none` included) whatever the token's header says, before it looks at a key. jose refuses RSA keys under 2048
 * bits; NETOPIA's 2021 tokens were signed with 1024-bit POS keys, which a connection may still configure, so a key
 * under 2048 bits is checked with node:crypto's RSA PKCS#1 v1.5 SHA-512 (the same RS512), after the same header checks.
 */
import { createHash, timingSafeEqual, verify, type KeyObject } from 'node:crypto';
import { compactVerify, decodeJwt, decodeProtectedHeader } from 'jose';

/** NETOPIA's SDK error codes for IPN verification failures (answered with errorType 2, permanent). */
export const VERIFICATION_ERRORS = {
  general: 0x10000101,
  signature: 0x10000102,
  nbfIat: 0x10000103,
  expired: 0x10000104,
  audience: 0x10000105,
  taintedPayload: 0x10000106,
  payloadFormat: 0x10000107,
} as const;

export const NETOPIA_ISSUER = 'NETOPIA Payments';

/** Clock skew tolerated on `exp` and `nbf`, in seconds. */
export const TIME_LEEWAY_SECONDS = 120;

/** A compact JWS: three non-empty base64url segments. A bound on length keeps hostile headers cheap to refuse. */
const COMPACT_JWS_RE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const MAX_TOKEN_LENGTH = 16 * 1024;

export interface TokenInput {
  token: string;
  /** The raw body bytes exactly as received. */
  body: Buffer;
  keys: readonly KeyObject[];
  posSignature: string;
  now: Date;
}

export type TokenResult = { ok: true; claims: Record<string, unknown> } | { ok: false; code: number; reason: string };

const fail = (code: number, reason: string): TokenResult => ({ ok: false, code, reason });

/** Verifies a Verification-token against the body and the connection's keys. Never rejects. */
export async function verifyVerificationToken(input: TokenInput): Promise<TokenResult> {
  const token = input.token.trim();
  if (token.length === 0) return fail(VERIFICATION_ERRORS.general, 'the Verification-token header is empty');
  if (token.length > MAX_TOKEN_LENGTH || !COMPACT_JWS_RE.test(token)) return fail(VERIFICATION_ERRORS.general, 'the Verification-token is not a compact JWT');

  let header: Record<string, unknown>;
  let claims: Record<string, unknown>;
  try {
    header = decodeProtectedHeader(token) as Record<string, unknown>;
    claims = decodeJwt(token) as Record<string, unknown>;
  } catch {
    return fail(VERIFICATION_ERRORS.general, 'the Verification-token header or claims are not JSON objects');
  }
  if (typeof header.typ !== 'string' || header.typ.toUpperCase() !== 'JWT') return fail(VERIFICATION_ERRORS.general, 'the token type is not JWT');
  if (header.alg !== 'RS512')
    return fail(VERIFICATION_ERRORS.signature, `algorithm ${JSON.stringify(String(header.alg)).slice(0, 40)} is not accepted (RS512 only)`);
  // Extensions the verifier must understand (RFC 7515 §4.1.11): none are, so any is a refusal.
  if (header.crit !== undefined) return fail(VERIFICATION_ERRORS.general, 'the token names critical extensions');

  let verified = false;
  for (const key of input.keys) if ((verified = await rs512Verifies(key, token))) break;
  if (!verified) return fail(VERIFICATION_ERRORS.signature, 'the token signature does not verify with any trusted NETOPIA key');

  if (claims.iss !== NETOPIA_ISSUER) return fail(VERIFICATION_ERRORS.general, 'the token issuer is not NETOPIA Payments');
  if (!audienceContains(claims.aud, input.posSignature)) return fail(VERIFICATION_ERRORS.audience, 'the token audience is not this POS signature');

  const time = checkTimes(claims, input.now.getTime() / 1000);
  if (time) return time;

  if (!subjectMatches(claims.sub, input.body)) return fail(VERIFICATION_ERRORS.taintedPayload, 'the body does not match the token subject (SHA-512)');
  return { ok: true, claims };
}

/** RSA keys jose accepts for RS512 (RFC 7518 §3.3 asks for 2048 bits at least). */
const JOSE_MIN_RSA_BITS = 2048;

async function rs512Verifies(key: KeyObject, token: string): Promise<boolean> {
  // PKCS#1 v1.5 signatures are exactly as long as the modulus; anything else is not one of this key's.
  const bits = key.asymmetricKeyDetails?.modulusLength;
  const [h, p, s] = token.split('.') as [string, string, string];
  const signature = Buffer.from(s, 'base64url');
  if (key.asymmetricKeyType !== 'rsa' || bits === undefined || signature.length !== Math.ceil(bits / 8)) return false;
  if (bits < JOSE_MIN_RSA_BITS) return legacyRs512Verifies(key, Buffer.from(`${h}.${p}`, 'ascii'), signature);
  try {
    await compactVerify(token, key, { algorithms: ['RS512'] });
    return true;
  } catch {
    return false;
  }
}

function legacyRs512Verifies(key: KeyObject, data: Buffer, signature: Buffer): boolean {
  try {
    return verify('sha512', data, key, signature);
  } catch {
    return false;
  }
}

/** `aud` is the POS signature, or (as the Go SDK and the current plugin accept) an array containing it. */
function audienceContains(aud: unknown, posSignature: string): boolean {
  if (typeof aud === 'string') return aud === posSignature;
  return Array.isArray(aud) && aud.some((a) => a === posSignature);
}

/**
 * Time claims in seconds or milliseconds: observed tokens carry `iat` in seconds, while the PHP SDKs run their JWT
 * clock in milliseconds; values above 1e11 (year 5138 in seconds, 1973 in milliseconds) are milliseconds.
 * `exp` and `nbf` are enforced with a small leeway; `iat` only has to be a number (a sender clock running ahead
 * must not lose real payments).
 */
function checkTimes(claims: Record<string, unknown>, nowSeconds: number): TokenResult | undefined {
  const seconds: Record<string, number | undefined> = {};
  for (const name of ['exp', 'nbf', 'iat'] as const) {
    const v = claims[name];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) return fail(VERIFICATION_ERRORS.general, `the token's ${name} is not a number`);
    seconds[name] = v > 1e11 ? v / 1000 : v;
  }
  if (seconds.exp !== undefined && nowSeconds > seconds.exp + TIME_LEEWAY_SECONDS) return fail(VERIFICATION_ERRORS.expired, 'the token has expired');
  if (seconds.nbf !== undefined && nowSeconds + TIME_LEEWAY_SECONDS < seconds.nbf) return fail(VERIFICATION_ERRORS.nbfIat, 'the token is not valid yet');
  return undefined;
}

/**
 * `sub` is base64(SHA-512(raw body)), standard alphabet with padding, as NETOPIA issues it today. A May-2021
 * token carried the same digest base64url-encoded; that form names the same hash, so it is accepted too.
 * Compared in constant time against each encoding of the computed digest.
 */
function subjectMatches(sub: unknown, body: Buffer): boolean {
  if (typeof sub !== 'string') return false;
  const digest = createHash('sha512').update(body).digest();
  const candidates = [digest.toString('base64'), digest.toString('base64url'), digest.toString('base64url') + '=='];
  const given = Buffer.from(sub, 'utf8');
  let match = false;
  for (const c of candidates) {
    const expected = Buffer.from(c, 'ascii');
    if (expected.length === given.length && timingSafeEqual(expected, given)) match = true;
  }
  return match;
}
