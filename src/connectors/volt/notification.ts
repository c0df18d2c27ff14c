import type { ConnectionConfig, HttpReply, InboundNotification, NotificationResult, NotificationVerdict, RejectedNotification } from '../types.js';
import { OPEN_BANKING, paymentMethodOf } from './api.js';
import { NOTIFICATION_MAX_SKEW_SECONDS, type VoltCredentials, type VoltSettings } from './config.js';
import { isObject } from './errors.js';
import { refundTotalFrom, uniqueReferenceMatches } from './references.js';
import { checkVoltSignature } from './signature.js';
import { outcomeFor, resolveStatus } from './statuses.js';
import { isStorableValue } from '../../core/storable-text.js';

/**
 * Volt notifications: payment notifications (`payment`, `reference` = our uniqueReference,
 * `merchantInternalReference`, `amount`, `status`, `detailedStatus`) and refund notifications (`refund`,
 * `payment`, `status` REFUND_CONFIRMED | REFUND_FAILED, `amount` of this refund, `currency`,
 * `externalReference`, `merchantInternalReference`, `timestamp`), both signed the same way.
 */

/** The `code` of each rejection, as recorded on the hub's notification row. */
export const VOLT_NOTIFICATION_ERRORS = {
  missingHeaders: 4001,
  badSignature: 4002,
  stale: 4003,
  malformed: 4004,
  unknownReference: 4005,
  /**
   * Not an error: Volt's test notification (an empty body, or `{}`), correctly signed. Nothing is recorded in
   * the ledger, and Volt gets its 200 — Volt does not start (or resume) sending notifications until the
   * endpoint has answered a test with 200, so a hub that refused it could never receive a payment.
   */
  testNotification: 2001,
} as const;

/**
 * The currency of a payment notification, which does not carry one: the hub opens Volt payments in EUR only
 * (the capabilities say so), so a Volt payment of this hub is in EUR. Refund notifications name theirs.
 */
export const VOLT_PAYMENT_CURRENCY = 'EUR';

type Config = ConnectionConfig<VoltCredentials, VoltSettings>;

function reject(code: number, reason: string, permanent = true): RejectedNotification {
  return { ok: false, permanent, code, reason };
}

function str(value: unknown, max = 200): string | undefined {
  return typeof value === 'string' && value !== '' && value.length <= max ? value : undefined;
}

function amountOf(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

function isoTime(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const time = new Date(value);
  return Number.isNaN(time.getTime()) ? undefined : time.toISOString();
}

/**
 * The attempt a notification is about: `merchantInternalReference` (the attempt id), checked against `reference`
 * (the uniqueReference, which must end with that attempt's code). The uniqueReference alone cannot name an
 * attempt (its code is a digest), so a notification without merchantInternalReference is not the hub's.
 */
function hubReference(body: Record<string, unknown>): string | RejectedNotification {
  const internal = str(body.merchantInternalReference, 100);
  if (!internal) return reject(VOLT_NOTIFICATION_ERRORS.unknownReference, 'the notification names no merchantInternalReference this hub can match');
  const unique = body.reference;
  if (unique !== undefined && unique !== null && !uniqueReferenceMatches(internal, unique))
    return reject(VOLT_NOTIFICATION_ERRORS.unknownReference, `reference ${String(unique).slice(0, 40)} is not a uniqueReference of ${internal}`);
  return internal;
}

/** Verifies and reads one notification, as of `now`. Never throws. */
export function verifyVoltNotification(config: Config, n: InboundNotification, now: Date): NotificationVerdict {
  try {
    const verdict = verify(config, n, now);
    // Signed, but text the ledger cannot store (U+0000, a lone surrogate) in what it would record: no retry can help.
    return isStorableValue(verdict) ? verdict : reject(VOLT_NOTIFICATION_ERRORS.malformed, 'the notification holds a NUL character or malformed Unicode');
  } catch (e) {
    return reject(VOLT_NOTIFICATION_ERRORS.malformed, `unreadable notification: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function verify(config: Config, n: InboundNotification, now: Date): NotificationVerdict {
  const body = Buffer.isBuffer(n.body) ? n.body : Buffer.from(n.body ?? []);
  const headers = isObject(n.headers) ? (n.headers as Record<string, string | string[] | undefined>) : {};
  const check = checkVoltSignature(config.credentials.notification_secret.reveal(), body, headers, {
    now,
    maxAgeSeconds: config.settings.notification_max_age_seconds,
    maxSkewSeconds: NOTIFICATION_MAX_SKEW_SECONDS,
  });
  if (!check.ok) {
    const code =
      check.problem === 'headers'
        ? VOLT_NOTIFICATION_ERRORS.missingHeaders
        : check.problem === 'signature'
          ? VOLT_NOTIFICATION_ERRORS.badSignature
          : VOLT_NOTIFICATION_ERRORS.stale;
    return reject(code, check.reason);
  }

  const text = body.toString('utf8').trim();
  if (text === '' || text === '{}')
    return reject(VOLT_NOTIFICATION_ERRORS.testNotification, 'Volt test notification (endpoint verification): signature valid, nothing to record');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return reject(VOLT_NOTIFICATION_ERRORS.malformed, 'the body is not JSON');
  }
  if (!isObject(parsed)) return reject(VOLT_NOTIFICATION_ERRORS.malformed, 'the body is not a JSON object');
  const payment = str(parsed.payment, 64);
  const status = str(parsed.status, 64);
  if (!payment && !status && Object.keys(parsed).length === 0) return reject(VOLT_NOTIFICATION_ERRORS.testNotification, 'Volt test notification');
  if (!payment || !status) return reject(VOLT_NOTIFICATION_ERRORS.malformed, 'payment and status are required');
  const reference = hubReference(parsed);
  if (typeof reference !== 'string') return reference;
  // Volt's payment notifications carry no time of their own: X-Volt-Timed (when Volt signed it) stands in.
  const notifiedAt = check.timed.toISOString();
  const volt = { volt_payment_id: payment, ...(str(parsed.reference, 18) ? { unique_reference: parsed.reference } : {}) };

  const refundId = str(parsed.refund, 64);
  if (refundId) {
    const amount = amountOf(parsed.amount);
    const currency = str(parsed.currency, 3) ?? VOLT_PAYMENT_CURRENCY;
    const total = refundTotalFrom(parsed.externalReference);
    const resolved = resolveStatus(status);
    // A refund the hub did not ask for (made in Fuzebox) does not say the refunded total: recorded only.
    const totalKnown = total !== undefined && amount !== undefined && total >= amount;
    const outcome = resolved.kind === 'refunded' && !totalKnown ? { kind: 'informational' as const } : outcomeFor(resolved, total, str(parsed.error, 300));
    return {
      ok: true,
      reference,
      outcome,
      dedupeKey: `${refundId}:${resolved.word}`,
      expected: { currency },
      processorReference: payment,
      summary: {
        action: resolved.word.toLowerCase(),
        processor_status: resolved.word,
        payment_method: OPEN_BANKING,
        processor_time: isoTime(parsed.timestamp) ?? notifiedAt,
        ...volt,
        volt_refund_id: refundId,
        ...(amount !== undefined ? { refund_amount: amount } : {}),
        ...(typeof parsed.externalReference === 'string' ? { external_reference: parsed.externalReference.slice(0, 100) } : {}),
        ...(str(parsed.error, 300) ? { error: parsed.error } : {}),
      },
    };
  }

  const amount = amountOf(parsed.amount);
  if (amount === undefined) return reject(VOLT_NOTIFICATION_ERRORS.malformed, 'amount must be a whole number of minor units');
  const detailed = str(parsed.detailedStatus, 64);
  const resolved = resolveStatus(status, detailed);
  return {
    ok: true,
    reference,
    outcome: outcomeFor(resolved, amount),
    dedupeKey: `${payment}:${resolved.word}`,
    expected: { amount, currency: str(parsed.currency, 3) ?? VOLT_PAYMENT_CURRENCY },
    processorReference: payment,
    summary: {
      action: resolved.word.toLowerCase(),
      processor_status: resolved.word,
      status,
      ...(detailed ? { detailed_status: detailed } : {}),
      payment_method: paymentMethodOf(parsed),
      processor_time: notifiedAt,
      ...volt,
      amount,
    },
  };
}

const EMPTY = { contentType: 'text/plain; charset=utf-8', body: '' };

/**
 * Volt's acknowledgement: an empty 200 when the notification was valid (recorded, a duplicate, or a test),
 * an empty 400 when it was not; a temporary failure answers 503 so that Volt retries it.
 */
export function replyToVoltNotification(result: NotificationResult): HttpReply {
  if (result.kind === 'recorded') return { statusCode: 200, ...EMPTY };
  if (result.kind === 'temporary_error') return { statusCode: 503, ...EMPTY };
  if (result.code === VOLT_NOTIFICATION_ERRORS.testNotification) return { statusCode: 200, ...EMPTY };
  return { statusCode: 400, ...EMPTY };
}
