import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Volt's notification signature (docs.volt.io, "Signature verification"): the check string is the body
 * exactly as received, then `|`, the `X-Volt-Timed` header, `|`, and the version from `User-Agent: Volt/2.0`;
 * `X-Volt-Signed` is HMAC-SHA256 of it under the application's notification secret, in hex. The body is used
 * as bytes: Volt escapes accented characters (`Soci\u00e9t\u00e9`), and decoding them first breaks the MAC.
 */

export const VOLT_USER_AGENT_RE = /^Volt\/([0-9]{1,4}(?:\.[0-9]{1,4}){0,3})(?:\s|$)/;
const SIGNATURE_RE = /^[0-9a-fA-F]{64}$/;

/** The bytes Volt signs. */
export function voltCheckString(body: Buffer | string, timed: string, version: string): Buffer {
  const raw = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  return Buffer.concat([raw, Buffer.from(`|${timed}|${version}`, 'utf8')]);
}

/** `X-Volt-Signed` for a body, as Volt (and the emulator) computes it. */
export function signVoltNotification(secret: string, body: Buffer | string, timed: string, version: string): string {
  return createHmac('sha256', secret)
    .update(voltCheckString(body, timed, version))
    .digest('hex');
}

/**
 * Reads `X-Volt-Timed`. Volt's pages show two forms: Unix seconds (`1631525064`, the signature test) and
 * `YYYYMMDDhhmmss` (`20200131123456`, the refund notification examples, read as UTC); milliseconds since the
 * epoch are accepted too. Anything else is undefined.
 */
export function parseVoltTimed(text: string): Date | undefined {
  if (/^\d{10}$/.test(text)) return new Date(Number(text) * 1000);
  if (/^\d{13}$/.test(text)) return new Date(Number(text));
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  // Date.UTC rolls 20200231 over into March: such a stamp is not a date.
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) return undefined;
  return date;
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined | null {
  const value = headers[name];
  if (value === undefined) return undefined;
  // A header sent twice is not something Volt does; which copy was signed cannot be known.
  if (Array.isArray(value)) return value.length === 1 ? value[0]! : null;
  return value;
}

export type SignatureCheck =
  | { ok: true; timed: Date; timedText: string; version: string }
  | { ok: false; problem: 'headers' | 'signature' | 'stale' | 'future'; reason: string };

export interface Freshness {
  now: Date;
  /** Oldest acceptable `X-Volt-Timed`, in seconds before `now`. */
  maxAgeSeconds: number;
  /** Largest acceptable clock difference the other way. */
  maxSkewSeconds: number;
}

/**
 * Checks the signature headers of one notification against its raw body, in constant time, and then that it
 * was signed recently (a captured notification replayed later is refused).
 */
export function checkVoltSignature(secret: string, body: Buffer, headers: Record<string, string | string[] | undefined>, freshness: Freshness): SignatureCheck {
  const agent = header(headers, 'user-agent');
  const timedText = header(headers, 'x-volt-timed');
  const signed = header(headers, 'x-volt-signed');
  if (!agent || !timedText || !signed) return { ok: false, problem: 'headers', reason: 'User-Agent, X-Volt-Timed and X-Volt-Signed are required' };
  const version = VOLT_USER_AGENT_RE.exec(agent.trim())?.[1];
  if (!version) return { ok: false, problem: 'headers', reason: 'the User-Agent is not Volt/<version>' };
  const timed = parseVoltTimed(timedText.trim());
  if (!timed) return { ok: false, problem: 'headers', reason: 'X-Volt-Timed is not a timestamp' };
  const given = signed.trim();
  if (!SIGNATURE_RE.test(given)) return { ok: false, problem: 'signature', reason: 'X-Volt-Signed is not an HMAC-SHA256 in hex' };
  const expected = createHmac('sha256', secret)
    .update(voltCheckString(body, timedText.trim(), version))
    .digest();
  if (!timingSafeEqual(expected, Buffer.from(given, 'hex')))
    return { ok: false, problem: 'signature', reason: 'X-Volt-Signed does not match the body under this notification secret' };
  const ageSeconds = (freshness.now.getTime() - timed.getTime()) / 1000;
  if (ageSeconds > freshness.maxAgeSeconds)
    return { ok: false, problem: 'stale', reason: `signed ${Math.round(ageSeconds)} s ago, more than the ${freshness.maxAgeSeconds} s accepted` };
  if (-ageSeconds > freshness.maxSkewSeconds) return { ok: false, problem: 'future', reason: `signed ${Math.round(-ageSeconds)} s in the future` };
  return { ok: true, timed, timedText: timedText.trim(), version };
}
