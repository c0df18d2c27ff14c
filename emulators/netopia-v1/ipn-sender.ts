import { sql } from 'kysely';
import type { FastifyBaseLogger } from 'fastify';
import { parseCrcReply } from '../../src/connectors/netopia-v1/crc-reply.js';
import { loadPublicKey, sealEnvelope } from '../../src/connectors/netopia-v1/envelope.js';
import { buildIpnXml, type V1Mobilpay } from '../../src/connectors/netopia-v1/ipn-xml.js';
import { DeliveryWorker, doublingSchedule, type AttemptReport, type AttemptVerdict, type DoublingRetryOptions } from '../shared/delivery-worker.js';
import { callMerchant, type MerchantReply } from '../shared/merchant-call.js';
import { IPN_QUEUE, type EmuDb, type IpnCipher } from './schema.js';

interface ClaimedDelivery {
  id: number;
  attempts: number;
  mobilpay: V1Mobilpay;
  request_xml: string;
  confirm_url: string;
  ipn_cipher: IpnCipher;
  ipn_public_key_pem: string;
}

/**
 * How NETOPIA judges a confirm URL's answer (protocols/netopia.md §1.6). A permanent error in the crc reply
 * wins over the HTTP status (some merchants answer it with a 4xx); otherwise only a 2xx `<crc>` without
 * error_type counts as delivered, and everything else — error_type 1, another status, no answer, an
 * unreadable body — is retried.
 */
function judge(reply: MerchantReply): AttemptVerdict {
  if (reply.status === undefined) return { outcome: 'retry', error: reply.error ?? 'no reply' };
  const crc = parseCrcReply(reply.body);
  if (crc.errorType === 2) return { outcome: 'failed', error: `permanent error (error_type 2, error_code ${crc.errorCode}): ${crc.message}` };
  if (reply.status < 200 || reply.status > 299) return { outcome: 'retry', error: `HTTP ${reply.status}` };
  if (crc.errorType === 0) return { outcome: 'delivered', error: null };
  return { outcome: 'retry', error: `temporary error (error_type 1, error_code ${crc.errorCode}): ${crc.message}` };
}

/**
 * Sends IPNs to merchants' confirm URLs, sealed with the account's public key, and retries them from the
 * deliveries table (see DeliveryWorker). NETOPIA calls the confirm URL before it sends the customer back, so
 * the request that queued an IPN makes its first attempt (deliverNow).
 */
export class IpnSender extends DeliveryWorker<ClaimedDelivery> {
  constructor(db: EmuDb, options: DoublingRetryOptions, log: FastifyBaseLogger) {
    super(db, {
      queue: {
        ...IPN_QUEUE,
        join: { from: sql`emu_netopia_v1_orders o JOIN emu_netopia_v1_accounts a ON a.signature = o.signature`, on: sql`o.purchase = q.purchase` },
        carries: sql`q.mobilpay, o.request_xml, o.confirm_url, o.ipn_cipher, a.ipn_public_key_pem`,
      },
      retry: doublingSchedule(options),
      log,
      failureMessage: 'NETOPIA emulator: IPN delivery failed to run',
    });
  }

  protected async send(delivery: ClaimedDelivery): Promise<AttemptReport> {
    let form: Record<string, string>;
    try {
      const xml = buildIpnXml(delivery.request_xml, delivery.mobilpay);
      const sealed = sealEnvelope(xml, loadPublicKey(delivery.ipn_public_key_pem), delivery.ipn_cipher);
      // NETOPIA names the cipher on every IPN; iv exists only with AES.
      form = { env_key: sealed.env_key, data: sealed.data, cipher: sealed.cipher };
      if (sealed.iv) form.iv = sealed.iv;
    } catch (err) {
      // Stored data that cannot be sealed would fail the same way on every retry: record it once, as final.
      return { outcome: 'failed', error: `the IPN could not be built: ${err instanceof Error ? err.message : String(err)}`, reply: { body: '' } };
    }
    const reply = await callMerchant(delivery.confirm_url, {
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'NETOPIA-emulator (incasso)' },
      body: new URLSearchParams(form).toString(),
      timeoutMs: this.timeoutMs,
      urlName: 'confirm URL',
    });
    return { ...judge(reply), reply };
  }
}
