/**
 * NETOPIA v1 IPN payload: the merchant's original request XML, unchanged, with a `<mobilpay>` element
 * appended inside `<order>`. Built by the hub's NETOPIA emulator, parsed by the connector from decrypted,
 * untrusted bytes. Pure functions, no I/O.
 */
import { V1XmlError } from './errors.js';
import { addressTree, readAddress, readOrder, type V1Address, type V1Order } from './order-xml.js';
import {
  childElement,
  compact,
  optionalChildText,
  optionalText,
  parseXmlDocument,
  serializeXml,
  textContent,
  xmlText,
  type XmlElement,
  type XmlTree,
} from './xml.js';

/**
 * What NETOPIA attempted — not the payment status: every action can succeed (`error@code` 0) or fail.
 * `paid` = authorized, `confirmed` = captured, `*_pending` = under antifraud review, `canceled` = voided,
 * `credit` = refunded (partially when processed_amount < original_amount).
 */
export type V1Action = 'new' | 'paid_pending' | 'confirmed_pending' | 'paid' | 'confirmed' | 'canceled' | 'credit';

export const V1_ACTIONS: readonly V1Action[] = ['new', 'paid_pending', 'confirmed_pending', 'paid', 'confirmed', 'canceled', 'credit'];

export interface V1Mobilpay {
  /** NETOPIA time, `YYYYMMDDHHMMSS`. */
  timestamp: string;
  /** Opaque id of this notification; the merchant echoes it in its `<crc>` reply. */
  crc: string;
  action: V1Action;
  customer?: V1Address;
  /** NETOPIA's purchase id, unique on the platform. */
  purchase: string;
  /** Decimal strings, possibly in RON when NETOPIA converted the invoice currency. */
  original_amount: string;
  processed_amount: string;
  promotion_amount?: string;
  current_payment_count?: string;
  pan_masked?: string;
  rrn?: string;
  payment_instrument_id?: string;
  token_id?: string;
  token_expiration_date?: string;
  installments?: string;
  issuer?: string;
  /** code 0 = the action succeeded; see V1_ERROR_CODES. */
  error: { code: number; message: string };
}

export interface V1Ipn {
  order: V1Order;
  mobilpay: V1Mobilpay;
}

const ACTIONS: ReadonlySet<string> = new Set(V1_ACTIONS);

const INTEGER_RE = /^-?\d{1,15}$/;

function assertMobilpay(m: V1Mobilpay): void {
  if (!m.crc) throw new V1XmlError('mobilpay@crc is required');
  if (!ACTIONS.has(m.action)) throw new V1XmlError(`unknown mobilpay action ${JSON.stringify(m.action)}`);
  if (!m.purchase) throw new V1XmlError('mobilpay/purchase is required');
  if (!m.original_amount) throw new V1XmlError('mobilpay/original_amount is required');
  if (!m.processed_amount) throw new V1XmlError('mobilpay/processed_amount is required');
  if (!Number.isSafeInteger(m.error.code)) throw new V1XmlError(`mobilpay error code must be an integer, got ${m.error.code}`);
}

/**
 * Children in the order seen in NETOPIA's IPNs and its PHP library: action, customer, purchase, amounts,
 * payment count, card data, token, issuer, installments, error. Error message as CDATA, not url-encoded.
 */
function mobilpayTree(m: V1Mobilpay): XmlTree {
  return {
    mobilpay: {
      '@_timestamp': optionalText(m.timestamp, 'mobilpay timestamp'),
      '@_crc': xmlText(m.crc, 'mobilpay crc'),
      action: m.action,
      customer: addressTree(m.customer),
      purchase: xmlText(m.purchase, 'purchase'),
      original_amount: xmlText(m.original_amount, 'original_amount'),
      processed_amount: xmlText(m.processed_amount, 'processed_amount'),
      promotion_amount: optionalText(m.promotion_amount, 'promotion_amount'),
      current_payment_count: optionalText(m.current_payment_count, 'current_payment_count'),
      pan_masked: optionalText(m.pan_masked, 'pan_masked'),
      rrn: optionalText(m.rrn, 'rrn'),
      payment_instrument_id: optionalText(m.payment_instrument_id, 'payment_instrument_id'),
      token_id: optionalText(m.token_id, 'token_id'),
      token_expiration_date: optionalText(m.token_expiration_date, 'token_expiration_date'),
      issuer: optionalText(m.issuer, 'issuer'),
      installments: optionalText(m.installments, 'installments'),
      error: { '@_code': String(m.error.code), '#cdata': xmlText(m.error.message, 'error message') },
    },
  };
}

/**
 * Appends `<mobilpay>` right before the closing `</order>` of the original request text, leaving every
 * other byte as the merchant sent it (NETOPIA echoes the request unchanged).
 */
export function buildIpnXml(originalOrderXml: string, mobilpay: V1Mobilpay): string {
  assertMobilpay(mobilpay);
  const at = originalOrderXml.lastIndexOf('</order');
  if (at === -1 || !/^<\/order\s*>\s*$/.test(originalOrderXml.slice(at))) {
    throw new V1XmlError('original order XML does not end with </order>');
  }
  return originalOrderXml.slice(0, at) + serializeXml(mobilpayTree(mobilpay)) + originalOrderXml.slice(at);
}

/** Missing required values read as '' and are reported by assertMobilpay with the field's name. */
function textOrEmpty(parent: XmlElement, name: string): string {
  return optionalChildText(parent, name) ?? '';
}

function readMobilpay(element: XmlElement): V1Mobilpay {
  const errorElement = childElement(element, 'error');
  if (!errorElement) throw new V1XmlError('mobilpay/error is missing');
  const code = errorElement.attributes.get('code') ?? '';
  if (!INTEGER_RE.test(code)) throw new V1XmlError(`mobilpay error code must be an integer, got ${JSON.stringify(code)}`);
  const mobilpay: V1Mobilpay = compact({
    timestamp: element.attributes.get('timestamp') ?? '',
    crc: element.attributes.get('crc') ?? '',
    action: textOrEmpty(element, 'action') as V1Action, // checked by assertMobilpay
    customer: readAddress(childElement(element, 'customer')),
    purchase: textOrEmpty(element, 'purchase'),
    original_amount: textOrEmpty(element, 'original_amount'),
    processed_amount: textOrEmpty(element, 'processed_amount'),
    promotion_amount: optionalChildText(element, 'promotion_amount'),
    current_payment_count: optionalChildText(element, 'current_payment_count'),
    pan_masked: optionalChildText(element, 'pan_masked'),
    rrn: optionalChildText(element, 'rrn'),
    payment_instrument_id: optionalChildText(element, 'payment_instrument_id'),
    token_id: optionalChildText(element, 'token_id'),
    token_expiration_date: optionalChildText(element, 'token_expiration_date'),
    installments: optionalChildText(element, 'installments'),
    issuer: optionalChildText(element, 'issuer'),
    error: { code: Number(code), message: textContent(errorElement) },
  });
  assertMobilpay(mobilpay);
  return mobilpay;
}

/**
 * Parses a decrypted IPN. Throws only V1XmlError: hostile or malformed XML (see parseXmlDocument), an
 * echoed order that is not a valid request, a missing `<mobilpay>`, an unknown action, or a non-integer
 * `error@code`. Amounts stay decimal strings; unknown elements (e.g. `<service/>`) are ignored.
 */
export function parseIpnXml(xml: string): V1Ipn {
  const root = parseXmlDocument(xml);
  const order = readOrder(root);
  const mobilpayElement = childElement(root, 'mobilpay');
  if (!mobilpayElement) throw new V1XmlError('IPN has no <mobilpay> element');
  return { order, mobilpay: readMobilpay(mobilpayElement) };
}
