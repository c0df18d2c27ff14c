/**
 * NETOPIA v2 IPNs (notes §2.7): a JSON body POSTed to `notifyUrl`, often without a Content-Type, authenticated by
 * the `Verification-token` JWT over its exact bytes; and the JSON reply NETOPIA expects.
 */
import { MoneyError, isKnownCurrency } from '../../core/money.js';
import type { HttpReply, InboundNotification, NotificationResult, NotificationVerdict } from '../types.js';
import { majorToMinor } from './amounts.js';
import type { V2Config } from './answers.js';
import { asCode, asNtpId, asObject, asStatus, asString, panMaskedOf, processorResponse, summaryOf, type JsonObject } from './documents.js';
import { VERIFICATION_ERRORS, verifyVerificationToken } from './jwt.js';
import { dedupeKeyOf, outcomeOfStatus } from './statuses.js';
import { isStorableValue } from '../../core/storable-text.js';

export const VERIFICATION_HEADER = 'verification-token';

type Rejection = Extract<NotificationVerdict, { ok: false }>;
const reject = (code: number, reason: string): Rejection => ({ ok: false, permanent: true, code, reason });

/**
 * The `Verification-token` header, looked up case-insensitively (the hub lower-cases names; other callers may
 * not). Several different values are ambiguous and refused.
 */
export function verificationToken(headers: InboundNotification['headers']): string | Rejection {
  const values: string[] = [];
  if (typeof headers === 'object' && headers !== null) {
    for (const [name, value] of Object.entries(headers)) {
      if (name.toLowerCase() !== VERIFICATION_HEADER) continue;
      if (typeof value === 'string') values.push(value);
      else if (Array.isArray(value)) for (const v of value) if (typeof v === 'string') values.push(v);
    }
  }
  if (values.length === 0) return reject(VERIFICATION_ERRORS.general, 'the Verification-token header is missing');
  if (values.some((v) => v !== values[0])) return reject(VERIFICATION_ERRORS.general, 'several different Verification-token headers');
  return values[0]!;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Verifies and reads an IPN. Never rejects: an unexpected failure is a temporary rejection, so NETOPIA retries. */
export async function verifyIpn(config: V2Config, n: InboundNotification, now = new Date()): Promise<NotificationVerdict> {
  try {
    return await verifyIpnOrThrow(config, n, now);
  } catch {
    return { ok: false, permanent: false, code: VERIFICATION_ERRORS.general, reason: 'internal error while verifying the notification' };
  }
}

async function verifyIpnOrThrow(config: V2Config, n: InboundNotification, now: Date): Promise<NotificationVerdict> {
  const token = verificationToken(n.headers);
  if (typeof token !== 'string') return token;
  const body = Buffer.isBuffer(n.body) ? n.body : Buffer.from(n.body ?? []);
  const checked = await verifyVerificationToken({ token, body, keys: config.credentials.notifyKeys, posSignature: config.credentials.pos_signature, now });
  if (!checked.ok) return reject(checked.code, checked.reason);

  // Only now, with the bytes proven to be NETOPIA's, is the body read.
  const format = (what: string) => reject(VERIFICATION_ERRORS.payloadFormat, `the IPN body ${what}`);
  let doc: JsonObject | undefined;
  try {
    doc = asObject(JSON.parse(utf8.decode(body)));
  } catch {
    return format('is not JSON (UTF-8)');
  }
  if (!doc) return format('is not a JSON object');
  const order = asObject(doc.order);
  const payment = asObject(doc.payment);
  const reference = asString(order?.orderID);
  if (!reference || reference.length > 200) return format('has no order.orderID');
  if (!payment) return format('has no payment');
  const status = asStatus(payment.status);
  if (status === undefined) return format('has no payment.status');
  const ntpID = asNtpId(payment.ntpID);
  if (!ntpID) return format('has no payment.ntpID');
  const currency = asString(payment.currency);
  if (!currency || !isKnownCurrency(currency)) return format('has no known payment.currency');
  let amountMinor: number;
  try {
    amountMinor = majorToMinor(payment.amount, currency);
  } catch (e) {
    if (e instanceof MoneyError) return format(`has an unreadable payment.amount: ${e.message}`);
    throw e;
  }
  const topError = asObject(doc.error);
  const code = asCode(payment.code) ?? asCode(topError?.code);
  const message = asString(payment.message) ?? asString(topError?.message);
  const facts = { status, amountMinor, ...(code !== undefined ? { code } : {}), ...(message !== undefined ? { message } : {}) };
  const verdict = outcomeOfStatus(facts);
  // The IPN carries its code and message on `payment`; the recorded document shows them as `error`, like an answer.
  const errorPart = topError ?? (payment.code !== undefined || payment.message !== undefined ? { code: payment.code, message: payment.message } : undefined);
  const verified: NotificationVerdict = {
    ok: true,
    reference,
    outcome: verdict.outcome,
    dedupeKey: dedupeKeyOf(ntpID, facts, verdict),
    // A credit (8) or accepted chargeback (10) reports the refunded total, not the order's amount: currency only.
    expected: verdict.amountIsRefundTotal ? { currency } : { amount: amountMinor, currency },
    processorReference: ntpID,
    summary: summaryOf({ ntpID, facts, verdict, processorResponse: processorResponse(errorPart, payment), panMasked: panMaskedOf(payment) }),
  };
  // Signed, but not storable: PostgreSQL text and jsonb cannot hold U+0000, nor UTF-8 a lone surrogate. Answered
  // as a permanent format error, since sending the same bytes again can never succeed.
  return isStorableValue(verified) ? verified : format('holds a NUL character or malformed Unicode');
}

/**
 * NETOPIA's reply: HTTP 200, `{"errorType":0,"errorCode":null,"errorMessage":""}` when recorded (a declined card
 * is recorded fine); errorType 1 (temporary: NETOPIA sends again) or 2 (permanent) with the hub's code otherwise.
 */
export function ipnReply(result: NotificationResult): HttpReply {
  const body =
    result.kind === 'recorded'
      ? { errorType: 0, errorCode: null, errorMessage: '' }
      : { errorType: result.kind === 'temporary_error' ? 1 : 2, errorCode: result.code, errorMessage: result.message };
  return { statusCode: 200, contentType: 'application/json; charset=utf-8', body: JSON.stringify(body) };
}
