import { createHash, type KeyObject } from 'node:crypto';
import { sql } from 'kysely';
import { SignJWT } from 'jose';
import type { FastifyBaseLogger } from 'fastify';
import { DeliveryWorker, doublingSchedule, type AttemptReport, type AttemptVerdict, type DoublingRetryOptions } from '../shared/delivery-worker.js';
import { callMerchant, type MerchantReply } from '../shared/merchant-call.js';
import { IPN_QUEUE, type EmuV2Db } from './schema.js';

export const JWT_ISSUER = 'NETOPIA Payments';

interface ClaimedDelivery {
  id: number;
  attempts: number;
  body: string;
  notify_url: string;
  signature: string;
}

/** `errorType`/`errorCode` as a number; PHP merchants sometimes send them as numeric strings. */
function numeric(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string' && /^\d{1,9}$/.test(value)) return Number(value);
  return undefined;
}

function parseReply(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * How the merchant's answer is judged (protocols/netopia.md §2.7: `{"errorType":0,"errorCode":null,
 * "errorMessage":""}`). A permanent error (errorType 2) stops the IPN whatever the HTTP status; otherwise it is
 * delivered only with HTTP 200 and errorType 0 — or no errorType and errorCode 0, the reply of the clients that
 * follow netopia-card's README — and everything else (errorType 1, another status, no answer, an unreadable
 * body) is retried.
 */
export function judgeReply(result: MerchantReply): AttemptVerdict {
  if (result.status === undefined) return { outcome: 'retry', error: result.error ?? 'no reply' };
  const reply = parseReply(result.body);
  const errorType = numeric(reply?.errorType);
  const errorCode = reply?.errorCode;
  const detail = () => `errorCode ${JSON.stringify(errorCode ?? null)}, errorMessage ${JSON.stringify(reply?.errorMessage ?? '')}`;
  if (errorType === 2) return { outcome: 'failed', error: `permanent error (errorType 2, ${detail()})` };
  if (result.status !== 200) return { outcome: 'retry', error: `HTTP ${result.status}` };
  if (!reply) return { outcome: 'retry', error: 'the reply is not a JSON object' };
  if (errorType === 0 || (reply.errorType === undefined && numeric(errorCode) === 0)) return { outcome: 'delivered', error: null };
  if (errorType === 1) return { outcome: 'retry', error: `temporary error (errorType 1, ${detail()})` };
  return { outcome: 'retry', error: `unexpected reply (errorType ${JSON.stringify(reply.errorType ?? null)})` };
}

/**
 * The `Verification-token` of one IPN: a JWT, header {alg: RS512, typ: JWT}, claims iss "NETOPIA Payments",
 * aud the POS signature, iat in seconds and sub = base64(SHA-512(raw body)), standard alphabet, padded.
 */
export async function verificationToken(body: string, posSignature: string, key: KeyObject): Promise<string> {
  const sub = createHash('sha512').update(body, 'utf8').digest('base64');
  return new SignJWT({})
    .setProtectedHeader({ alg: 'RS512', typ: 'JWT' })
    .setIssuer(JWT_ISSUER)
    .setAudience(posSignature)
    .setIssuedAt()
    .setSubject(sub)
    .sign(key);
}

/**
 * Sends IPNs to merchants' notify URLs and retries them from the deliveries table (see DeliveryWorker), as the
 * v1 emulator does. Each attempt carries a fresh Verification-token.
 */
export class IpnSender extends DeliveryWorker<ClaimedDelivery> {
  constructor(
    db: EmuV2Db,
    private readonly signingKey: KeyObject,
    options: DoublingRetryOptions,
    log: FastifyBaseLogger,
  ) {
    super(db, {
      queue: { ...IPN_QUEUE, join: { from: sql`emu_netopia_v2_orders o`, on: sql`o.ntp_id = q.ntp_id` }, carries: sql`q.body, o.notify_url, o.signature` },
      retry: doublingSchedule(options),
      log,
      failureMessage: 'NETOPIA v2 emulator: IPN delivery failed to run',
    });
  }

  /** The first attempt, started without waiting for it: API answers do not wait on the merchant's IPN handler. */
  deliverSoon(deliveryId: number): void {
    void this.deliverNow(deliveryId);
  }

  /**
   * POSTs the IPN the way NETOPIA's Zend_Http_Client does (protocols/netopia.md §2.7): the raw JSON bytes with
   * `User-Agent: Zend_Http_Client`, `Verification-token` and Content-Length, spelt as Zend spells them, and NO
   * Content-Type.
   */
  protected async send(delivery: ClaimedDelivery): Promise<AttemptReport> {
    // A fresh token per attempt (its iat is the send time); the body, and so its sub, never changes.
    const token = await verificationToken(delivery.body, delivery.signature, this.signingKey);
    const reply = await callMerchant(delivery.notify_url, {
      headers: { 'User-Agent': 'Zend_Http_Client', 'Verification-token': token, 'Content-Length': Buffer.byteLength(delivery.body), Connection: 'close' },
      body: delivery.body,
      timeoutMs: this.timeoutMs,
      urlName: 'notify URL',
    });
    return { ...judgeReply(reply), reply };
  }
}
