import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The `Auth` header of MultiSafepay's POST notifications (docs "Webhook" → "Validate the request", and the PHP
 * SDK's Util/Notification::verifyNotification):
 *
 *   Auth = base64("<timestamp>:<hex HMAC-SHA512(key = trim(API key), message = "<timestamp>:" + raw body)>")
 *
 * The timestamp is Unix seconds and changes on every retry, so a window on it bounds replays. The SDK
 * refuses a timestamp more than 600 s old; a timestamp ahead of the clock is refused beyond a small skew.
 */

/** The PHP SDK's default validation time. */
export const NOTIFICATION_MAX_AGE_SECONDS = 600;
/** How far ahead of our clock a sender's clock may be. */
export const NOTIFICATION_MAX_SKEW_SECONDS = 60;

const HEX_SIGNATURE = /^[0-9a-f]{128}$/;
const TIMESTAMP = /^\d{1,12}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** hex(HMAC-SHA512(trim(apiKey), "<timestamp>:" + body)), lowercase. */
export function notificationSignature(apiKey: string, timestamp: string, body: Buffer | string): string {
  return createHmac('sha512', apiKey.trim())
    .update(`${timestamp}:`)
    .update(typeof body === 'string' ? Buffer.from(body, 'utf8') : body)
    .digest('hex');
}

/** The `Auth` header value MultiSafepay sends with a notification body at `timestampSeconds`. */
export function signNotification(apiKey: string, body: Buffer | string, timestampSeconds: number): string {
  const timestamp = String(Math.floor(timestampSeconds));
  return Buffer.from(`${timestamp}:${notificationSignature(apiKey, timestamp, body)}`, 'utf8').toString('base64');
}

export type AuthCheck = { ok: true; timestamp: number } | { ok: false; reason: 'missing' | 'malformed' | 'signature' | 'stale' | 'future'; message: string };

/**
 * Checks an `Auth` header against the raw body and the API key, then the timestamp window. Never throws.
 * The signature is compared in constant time; the window is checked after it, so an attacker learns nothing
 * about timing from a forged header.
 */
export function verifyAuthHeader(
  header: string | string[] | undefined,
  body: Buffer,
  apiKey: string,
  now: Date,
  window = { maxAgeSeconds: NOTIFICATION_MAX_AGE_SECONDS, maxSkewSeconds: NOTIFICATION_MAX_SKEW_SECONDS },
): AuthCheck {
  if (header === undefined || header === '') return { ok: false, reason: 'missing', message: 'the Auth header is missing' };
  if (typeof header !== 'string') return { ok: false, reason: 'malformed', message: 'more than one Auth header' };
  const encoded = header.trim();
  if (encoded.length > 512 || !BASE64.test(encoded)) return { ok: false, reason: 'malformed', message: 'the Auth header is not base64' };
  const decoded = Buffer.from(encoded, 'base64').toString('latin1');
  const colon = decoded.indexOf(':');
  const timestamp = colon < 0 ? '' : decoded.slice(0, colon);
  const hex = colon < 0 ? '' : decoded.slice(colon + 1).toLowerCase();
  if (!TIMESTAMP.test(timestamp) || !HEX_SIGNATURE.test(hex)) return { ok: false, reason: 'malformed', message: 'the Auth header is not "timestamp:hmac"' };
  const expected = Buffer.from(notificationSignature(apiKey, timestamp, body), 'hex');
  const given = Buffer.from(hex, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'signature', message: 'the Auth signature does not match this body and API key' };
  }
  const seconds = Number(timestamp);
  const nowSeconds = Math.floor(now.getTime() / 1000);
  if (seconds + window.maxAgeSeconds < nowSeconds) {
    return { ok: false, reason: 'stale', message: `the notification timestamp ${seconds} is more than ${window.maxAgeSeconds} s old` };
  }
  if (seconds - window.maxSkewSeconds > nowSeconds) {
    return { ok: false, reason: 'future', message: `the notification timestamp ${seconds} is in the future` };
  }
  return { ok: true, timestamp: seconds };
}
