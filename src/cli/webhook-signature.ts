import { verifyStandardWebhookSignature } from '../core/webhook-signature.js';

/** How far a delivery's `webhook-timestamp` may be from this machine's clock (Standard Webhooks suggests 5 min). */
export const TIMESTAMP_TOLERANCE_S = 300;

/**
 * Checks a Standard Webhooks delivery as a receiver does: `webhook-signature` holds `v1,<base64>` entries
 * separated by spaces, each an HMAC-SHA256 of `id.timestamp.body` with the secret's base64 bytes (after
 * `whsec_`). Answers why it fails, or null when it holds.
 */
export function webhookSignatureProblem(
  secret: string,
  headers: { id?: string; timestamp?: string; signature?: string },
  body: string,
  nowS = Math.floor(Date.now() / 1000),
): string | null {
  const { id, timestamp, signature } = headers;
  if (!id || !timestamp || !signature) return 'webhook-id, webhook-timestamp or webhook-signature missing';
  if (!/^\d{1,12}$/.test(timestamp)) return 'webhook-timestamp is not a Unix time';
  if (Math.abs(nowS - Number(timestamp)) > TIMESTAMP_TOLERANCE_S) return `webhook-timestamp is more than ${TIMESTAMP_TOLERANCE_S} s away from now`;
  const ok = verifyStandardWebhookSignature(secret, id, timestamp, body, signature);
  return ok ? null : 'the signature does not match the endpoint secret';
}
