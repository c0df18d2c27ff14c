import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Standard Webhooks signatures, the one implementation: the hub signs its deliveries with it, and the receivers
 * it ships (the emulators' webhook inbox, `incasso listen`, the tests' listeners) check them with it. A signature
 * is `v1,<base64>` of HMAC-SHA256 over `id.timestamp.body`, keyed with the secret's base64 bytes (after `whsec_`);
 * a header may carry several, separated by spaces.
 */
function mac(secret: string, id: string, timestamp: number | string, body: string): Buffer {
  return createHmac('sha256', Buffer.from(secret.replace(/^whsec_/, ''), 'base64'))
    .update(`${id}.${timestamp}.${body}`)
    .digest();
}

/** The `webhook-signature` header of one delivery. */
export function signStandardWebhook(secret: string, id: string, timestamp: number, body: string): string {
  return `v1,${mac(secret, id, timestamp, body).toString('base64')}`;
}

/** Whether a `webhook-signature` header holds a signature of this delivery (compared in constant time). */
export function verifyStandardWebhookSignature(secret: string, id: string, timestamp: string, body: string, header: string): boolean {
  const expected = mac(secret, id, timestamp, body);
  return header.split(' ').some((entry) => {
    const [version, signature] = entry.split(',');
    if (version !== 'v1' || !signature) return false;
    const given = Buffer.from(signature, 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}
