import { parseDecimalString, toDecimalString, MoneyError } from '../../core/money.js';
import type { ProcessorOutcome } from '../../core/transitions.js';
import type {
  Connector,
  ConnectionConfig,
  Environment,
  HttpReply,
  InboundNotification,
  NotificationResult,
  NotificationVerdict,
  Party,
  PaymentRedirectInput,
  Redirect,
} from '../types.js';
import { EnvelopeError, openEnvelope, sealEnvelope } from './envelope.js';
import { buildOrderXml, formatTimestamp, ORDER_REFERENCE_PARAM, type V1Address } from './order-xml.js';
import { parseIpnXml, type V1Ipn } from './ipn-xml.js';
import { crcError, crcSuccess } from './crc-reply.js';
import { V1XmlError } from './errors.js';
import {
  NETOPIA_V1_CREDENTIALS,
  NETOPIA_V1_CURRENCIES,
  NETOPIA_V1_LANGUAGES,
  NETOPIA_V1_SETTINGS,
  netopiaV1PublicFields,
  parseNetopiaV1Credentials,
  parseNetopiaV1Settings,
  type NetopiaV1Credentials,
  type NetopiaV1Settings,
} from './config.js';

export type { NetopiaV1Credentials, NetopiaV1Settings } from './config.js';

const CURRENCIES = NETOPIA_V1_CURRENCIES;

/**
 * `error_code` values of the hub's crc replies: NETOPIA's SDK constants where one fits (f3, f5, f6), the hub's
 * own codes in the same range for the rest (the code is the merchant's to choose; NETOPIA only shows it).
 */
export const V1_CONFIRM_ERRORS = {
  invalidPostParameters: 0x300000f5,
  invalidAction: 0x300000f6,
  decryptFailed: 0x300000f3,
  unknownOrder: 0x300000f7,
  integrity: 0x300000f8,
  storage: 0x300000f9,
} as const;

function toAddress(p: Party): V1Address {
  const address = [p.address, p.city, p.county, p.zip_code].filter(Boolean).join(', ');
  return {
    type: p.type ?? (p.company ? 'company' : 'person'),
    first_name: p.first_name,
    last_name: p.last_name,
    address: address || undefined,
    email: p.email,
    mobile_phone: p.phone,
    fiscal_number: p.fiscal_number,
    country: p.country,
    county: p.county,
    city: p.city,
    zip_code: p.zip_code,
  };
}

/**
 * Converts an IPN amount to the invoice currency. NETOPIA reports `original_amount`/`processed_amount` in RON
 * when it converted a foreign-currency invoice (USD 33.00 → 132.69 RON), so foreign amounts are taken as the
 * same share of the invoice: exact integer arithmetic, half-up rounding.
 */
export function ipnAmountToInvoice(text: string, originalText: string, invoiceMinor: number, invoiceCurrency: string): number {
  if (invoiceCurrency === 'RON') return parseDecimalString(text, 'RON');
  const part = BigInt(parseDecimalString(text, 'RON'));
  const whole = BigInt(parseDecimalString(originalText, 'RON'));
  if (whole === 0n) return part === 0n ? 0 : invoiceMinor;
  if (part === whole) return invoiceMinor;
  return Number((part * BigInt(invoiceMinor) * 2n + whole) / (2n * whole));
}

/** Maps an IPN's `action` and `error@code` onto the ledger's vocabulary. */
export function outcomeOf(ipn: V1Ipn, invoiceMinor: number): ProcessorOutcome {
  const m = ipn.mobilpay;
  const code = m.error.code;
  const amount = () => ipnAmountToInvoice(m.processed_amount, m.original_amount, invoiceMinor, ipn.order.invoice.currency);
  if (code !== 0) {
    // A non-zero code means the action failed: for a payment action that is a declined attempt; for an
    // operation on an existing payment (credit, cancel) the payment is unchanged.
    if (m.action === 'credit' || m.action === 'canceled') return { kind: 'operation_failed', code: String(code), message: m.error.message };
    return { kind: 'failed', code: String(code), message: m.error.message };
  }
  switch (m.action) {
    case 'new':
      return { kind: 'informational' };
    case 'paid_pending':
    case 'confirmed_pending':
      return { kind: 'pending_review' };
    case 'paid':
      return { kind: 'authorized', amount: amount() };
    case 'confirmed':
      return { kind: 'captured', amount: amount() };
    case 'canceled':
      return { kind: 'canceled' };
    case 'credit':
      // processed_amount of a credit is the credited total so far (a full credit equals original_amount).
      return { kind: 'refunded', totalRefunded: amount() };
  }
}

export const netopiaV1: Connector<NetopiaV1Credentials, NetopiaV1Settings, NotificationVerdict> = {
  provider: 'netopia-v1',
  displayName: 'NETOPIA Payments (API v1, mobilPay XML)',
  // `amount` max 99999 units (seed 001); contact_info is optional in v1.
  // The payer's browser posts the sealed order to NETOPIA (`createRedirect`); refunds and captures of a
  // preauthorization are made in NETOPIA's back office and reach the hub as IPNs.
  capabilities: {
    currencies: CURRENCIES,
    minAmountMinor: 1,
    maxAmountMinor: 9_999_900,
    requiredPayerFields: [],
    refunds: 'none',
    manualCapture: true,
    flows: ['redirect'],
  },

  schemas: { credentials: NETOPIA_V1_CREDENTIALS, settings: NETOPIA_V1_SETTINGS },
  parseCredentials: parseNetopiaV1Credentials,
  parseSettings: parseNetopiaV1Settings,
  publicCredentialFields: netopiaV1PublicFields,

  defaultEndpoint(environment: Environment, emulatorBaseUrl: string) {
    if (environment === 'live') return 'https://secure.mobilpay.ro';
    if (environment === 'sandbox') return 'https://sandboxsecure.mobilpay.ro';
    return `${emulatorBaseUrl}/sandbox/netopia/v1`;
  },

  createRedirect(config: ConnectionConfig<NetopiaV1Credentials, NetopiaV1Settings>, input: PaymentRedirectInput): Redirect {
    const xml = buildOrderXml({
      id: input.reference,
      timestamp: formatTimestamp(input.now),
      signature: config.credentials.signature,
      invoice: {
        currency: input.currency,
        amount: toDecimalString(input.amount, input.currency),
        details: input.description,
        billing: toAddress(input.billing),
        shipping: input.shipping ? toAddress(input.shipping) : undefined,
      },
      // Without <ipn_cipher> NETOPIA seals IPNs with RC4; ask for the cipher the requests use.
      ipn_cipher: config.settings.cipher === 'aes-256-cbc' ? 'aes-256-cbc' : undefined,
      url: { return: input.urls.return, confirm: input.urls.notify },
      // NETOPIA's order id is the attempt (unique per try); the merchant's own reference travels as a parameter,
      // which NETOPIA keeps with the order and sends back in the IPN.
      params: input.merchantOrderId ? [{ name: ORDER_REFERENCE_PARAM, value: input.merchantOrderId }] : undefined,
    });
    const sealed = sealEnvelope(xml, config.credentials.publicKey, config.settings.cipher);
    const fields: Record<string, string> = { env_key: sealed.env_key, data: sealed.data, cipher: sealed.cipher };
    if (sealed.iv) fields.iv = sealed.iv;
    const base = config.endpoint.replace(/\/+$/, '');
    // The page's language is the URL's last segment (none for Romanian): the payer's, if NETOPIA has it, else the setting's.
    const asked = input.language?.toLowerCase();
    const language = asked && (NETOPIA_V1_LANGUAGES as readonly string[]).includes(asked) ? asked : config.settings.language;
    const url = language === 'ro' ? `${base}/` : `${base}/${language}`;
    return { method: 'POST', url, fields };
  },

  verifyNotification(config, notification: InboundNotification): NotificationVerdict {
    const reject = (code: number, reason: string): NotificationVerdict => ({ ok: false, permanent: true, code, reason });
    const form = new URLSearchParams(notification.body.toString('latin1'));
    const envKey = form.get('env_key');
    const data = form.get('data');
    if (!envKey || !data) return reject(V1_CONFIRM_ERRORS.invalidPostParameters, 'env_key and data are required');
    let ipn: V1Ipn;
    try {
      const xml = openEnvelope(
        { env_key: envKey, data, cipher: form.get('cipher') ?? undefined, iv: form.get('iv') ?? undefined },
        config.credentials.privateKey,
      );
      ipn = parseIpnXml(xml.toString('utf8'));
    } catch (e) {
      if (e instanceof EnvelopeError) return reject(e.code, e.message);
      if (e instanceof V1XmlError) return reject(V1_CONFIRM_ERRORS.decryptFailed, 'the envelope could not be opened');
      throw e;
    }
    if (ipn.order.signature !== config.credentials.signature) return reject(V1_CONFIRM_ERRORS.integrity, 'the POS signature does not match this connection');
    let invoiceMinor: number;
    let outcome: ProcessorOutcome;
    try {
      invoiceMinor = parseDecimalString(ipn.order.invoice.amount, ipn.order.invoice.currency);
      outcome = outcomeOf(ipn, invoiceMinor);
    } catch (e) {
      if (e instanceof MoneyError) return reject(V1_CONFIRM_ERRORS.invalidPostParameters, `unreadable amount: ${e.message}`);
      throw e;
    }
    // NETOPIA never processes more than the order was for: anything else is not a NETOPIA notification.
    const moved = 'amount' in outcome ? outcome.amount : 'totalRefunded' in outcome ? outcome.totalRefunded : 0;
    if (!Number.isSafeInteger(moved) || moved < 0 || moved > invoiceMinor) {
      return reject(
        V1_CONFIRM_ERRORS.integrity,
        `processed_amount ${ipn.mobilpay.processed_amount} exceeds the order (original_amount ${ipn.mobilpay.original_amount})`,
      );
    }
    const m = ipn.mobilpay;
    return {
      ok: true,
      reference: ipn.order.id,
      outcome,
      dedupeKey: `${ipn.order.id}:${m.purchase}:${m.action}:${m.error.code}:${m.processed_amount}`,
      expected: { amount: invoiceMinor, currency: ipn.order.invoice.currency },
      processorReference: m.purchase,
      summary: {
        action: m.action,
        crc: m.crc,
        purchase: m.purchase,
        error_code: m.error.code,
        error_message: m.error.message,
        original_amount: m.original_amount,
        processed_amount: m.processed_amount,
        ...(m.pan_masked ? { pan_masked: m.pan_masked } : {}),
        ...(m.rrn ? { rrn: m.rrn } : {}),
        timestamp: m.timestamp,
      },
    };
  },

  replyToNotification(result: NotificationResult): HttpReply {
    const xml = (body: string): HttpReply => ({ statusCode: 200, contentType: 'application/xml; charset=utf-8', body });
    if (result.kind === 'recorded') return xml(crcSuccess(String(result.verdict?.summary.crc ?? 'ok')));
    return xml(crcError(result.kind === 'temporary_error' ? 1 : 2, result.code, result.message));
  },

  emulator: {
    accountPath: '/sandbox/netopia/v1/accounts',
    credentialsFrom(account: unknown) {
      const a = account as Record<string, unknown>;
      return { signature: String(a.signature), certificate: String(a.certificate), private_key: String(a.private_key) };
    },
  },
};
