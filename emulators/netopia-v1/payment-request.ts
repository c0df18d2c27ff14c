import type { KeyObject } from 'node:crypto';
import { EnvelopeError, openEnvelope } from '../../src/connectors/netopia-v1/envelope.js';
import { V1XmlError } from '../../src/connectors/netopia-v1/errors.js';
import { readOrder, type V1Order } from '../../src/connectors/netopia-v1/order-xml.js';
import { optionalChildText, parseXmlDocument, type XmlElement } from '../../src/connectors/netopia-v1/xml.js';
import { isSupportedCurrency, MAX_INVOICE_MINOR, parseAmount, toRonMinor } from './amounts.js';

/**
 * Reading a payment request the way sandboxsecure.mobilpay.ro does: open the envelope with the platform key,
 * read the order XML, check it. Failures carry NETOPIA's page wording as `title` — "Failed decrypting data"
 * when the envelope does not open, "signature is missing" when what it holds is not an order (NETOPIA then
 * falls back to its SMS parser, which reports exactly that), and "<reason> (<code>)" for a readable order
 * that breaks a rule — plus our own `detail` to help the integrator.
 */

export interface RequestProblem {
  title: string;
  detail: string;
}

export interface OpenedRequest {
  /** The decrypted document, kept verbatim: IPNs echo it. */
  xml: string;
  /** The order's XML root, read far enough to find the seller account. */
  root: XmlElement;
  signature: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function field(form: Record<string, string>, name: string): string | undefined {
  return Object.prototype.hasOwnProperty.call(form, name) ? form[name] : undefined;
}

/** Opens the posted envelope and finds the seller signature inside. */
export function openRequest(form: Record<string, string> | undefined, platformKey: KeyObject): OpenedRequest | RequestProblem {
  if (!form) return { title: 'Failed decrypting data', detail: 'expected a browser form post (application/x-www-form-urlencoded) with env_key and data' };
  let plaintext: Buffer;
  try {
    plaintext = openEnvelope({ env_key: field(form, 'env_key'), data: field(form, 'data'), cipher: field(form, 'cipher'), iv: field(form, 'iv') }, platformKey);
  } catch (e) {
    if (e instanceof EnvelopeError) return { title: 'Failed decrypting data', detail: e.message };
    throw e;
  }
  const notAnOrder = (why: string): RequestProblem => ({
    title: 'signature is missing',
    detail: `the decrypted data is not an order document (${why}); check that it was sealed with this platform's certificate and that cipher and iv match`,
  });
  let xml: string;
  let root: XmlElement;
  try {
    xml = utf8.decode(plaintext);
    root = parseXmlDocument(xml);
  } catch (e) {
    if (e instanceof V1XmlError) return notAnOrder(e.message);
    if (e instanceof TypeError) return notAnOrder('not UTF-8 text');
    throw e;
  }
  const signature = root.name === 'order' ? optionalChildText(root, 'signature') : undefined;
  if (signature === undefined) return notAnOrder(root.name === 'order' ? 'no <signature>' : `root element <${root.name}>`);
  return { xml, root, signature };
}

export interface ValidOrder {
  order: V1Order;
  amountMinor: number;
  amountRon: number;
}

function httpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

/** The rules NETOPIA enforces on a readable order (protocols/netopia.md §1.4). */
export function validateOrder(root: XmlElement): ValidOrder | RequestProblem {
  let order: V1Order;
  try {
    order = readOrder(root);
  } catch (e) {
    if (e instanceof V1XmlError) return { title: 'invalid request (48)', detail: e.message };
    throw e;
  }
  const { currency, amount } = order.invoice;
  if (!/^[A-Z]{3}$/.test(currency) || !isSupportedCurrency(currency)) {
    return { title: 'incorrect currency (33)', detail: `currency ${JSON.stringify(currency)} is not enabled for this sandbox account (RON, EUR, USD, GBP)` };
  }
  const amountMinor = parseAmount(amount, currency);
  if (amountMinor === undefined)
    return { title: 'incorrect amount (32)', detail: `amount ${JSON.stringify(amount)} is not a decimal with at most two decimals` };
  if (amountMinor > MAX_INVOICE_MINOR) return { title: 'incorrect amount (32)', detail: 'the amount is above the 99999.00 limit' };
  if (!httpUrl(order.url.confirm)) return { title: 'invalid request (48)', detail: 'url/confirm must be an absolute http(s) URL' };
  if (!httpUrl(order.url.return)) return { title: 'invalid request (48)', detail: 'url/return must be an absolute http(s) URL' };
  return { order, amountMinor, amountRon: toRonMinor(amountMinor, currency) };
}

export function isProblem(value: object): value is RequestProblem {
  return 'title' in value;
}
