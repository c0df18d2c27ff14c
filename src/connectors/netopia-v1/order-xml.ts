/**
 * NETOPIA v1 payment request XML (`<order type="card">`): built by the hub, parsed by the hub's NETOPIA
 * emulator. Pure functions, no I/O.
 *
 * Layout and encoding follow NETOPIA's reference PHP library (mobilpay/PHP_CARD): free-text values —
 * `details`, contact fields, item code/name/unit, param values — are PHP-`urlencode`d inside CDATA, which
 * keeps diacritics and markup characters out of NETOPIA's parser; NETOPIA echoes them in the IPN as sent.
 */
import { V1XmlError } from './errors.js';
import {
  XML_DECLARATION,
  childElement,
  compact,
  encodedCdata,
  nonEmpty,
  optionalCdata,
  optionalChildText,
  optionalText,
  parseXmlDocument,
  serializeXml,
  textContent,
  xmlText,
  type XmlElement,
  type XmlTree,
} from './xml.js';

/** The `<params>` entry that carries the merchant's own order reference (the order id is the hub's attempt id). */
export const ORDER_REFERENCE_PARAM = 'order_reference';
export interface V1Address {
  type?: 'person' | 'company';
  first_name?: string;
  last_name?: string;
  address?: string;
  email?: string;
  mobile_phone?: string;
  fiscal_number?: string;
  identity_number?: string;
  country?: string;
  county?: string;
  city?: string;
  zip_code?: string;
  bank?: string;
  iban?: string;
}

export interface V1Item {
  code: string;
  name: string;
  measurment?: string; // sic: NETOPIA's element name
  quantity: string;
  price: string;
  vat?: string;
}

export interface V1Order {
  /** Merchant order id, at most 64 characters, unique per POS signature. */
  id: string;
  /** Merchant server time, `YYYYMMDDHHMMSS` (see `formatTimestamp`). */
  timestamp: string;
  /** POS signature, `XXXX-XXXX-XXXX-XXXX-XXXX`. */
  signature: string;
  invoice: {
    currency: string;
    /** Decimal with a dot, e.g. "12.34". */
    amount: string;
    installments?: string;
    selected_installments?: string;
    customer_type?: string;
    customer_id?: string;
    token_id?: string;
    pan_masked?: string;
    promotion_code?: string;
    details: string;
    billing?: V1Address;
    shipping?: V1Address;
    items?: V1Item[];
  };
  ipn_cipher?: 'aes-256-cbc' | 'rc4';
  params?: Array<{ name: string; value: string }>;
  url: { return: string; confirm: string };
}

export function readAddress(element: XmlElement | undefined): V1Address | undefined {
  if (!element) return undefined;
  const type = element.attributes.get('type');
  const fields = Object.fromEntries(V1_ADDRESS_FIELDS.map((field) => [field, optionalChildText(element, field, true)]));
  // An unknown type is informational only; dropping it beats refusing a notification over it.
  const address: V1Address = compact({ type: type === 'person' || type === 'company' ? type : undefined, ...fields });
  return Object.keys(address).length > 0 ? address : undefined;
}

export function addressTree(address: V1Address | undefined): XmlTree | undefined {
  if (!address) return undefined;
  const tree: XmlTree = { '@_type': optionalText(address.type, 'address type') };
  for (const field of V1_ADDRESS_FIELDS) tree[field] = optionalCdata(address[field]);
  return Object.values(tree).some((v) => v !== undefined) ? tree : undefined;
}

const MAX_ORDER_ID_LENGTH = 64;

/** Address children in the order the PHP library emits them; the last eight are sent by some clients only. */
export const V1_ADDRESS_FIELDS = [
  'first_name',
  'last_name',
  'address',
  'email',
  'mobile_phone',
  'fiscal_number',
  'identity_number',
  'country',
  'county',
  'city',
  'zip_code',
  'bank',
  'iban',
] as const;

const IPN_CIPHERS: ReadonlySet<string> = new Set(['aes-256-cbc', 'rc4']);

// ---------------------------------------------------------------------------------------------------
// Order request

/** Protocol invariants shared by the builder (catch hub bugs early) and the parser (emulate NETOPIA). */
function assertOrder(order: V1Order): void {
  if (!order.id) throw new V1XmlError('order id is required');
  if (order.id.length > MAX_ORDER_ID_LENGTH) throw new V1XmlError(`order id is longer than ${MAX_ORDER_ID_LENGTH} characters`);
  if (!order.signature) throw new V1XmlError('order signature is required');
  if (!order.invoice.currency) throw new V1XmlError('invoice currency is required');
  if (!order.invoice.amount) throw new V1XmlError('invoice amount is required');
  if (!order.url.confirm) throw new V1XmlError('url/confirm is required');
  if (order.ipn_cipher !== undefined && !IPN_CIPHERS.has(order.ipn_cipher)) {
    throw new V1XmlError(`unsupported ipn_cipher ${JSON.stringify(order.ipn_cipher)}`);
  }
}

/** UTC `YYYYMMDDHHMMSS`, the `timestamp` format of v1 documents. */
export function formatTimestamp(d: Date): string {
  if (Number.isNaN(d.getTime())) throw new V1XmlError('cannot format an invalid Date');
  return d.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

function itemTree(item: V1Item): XmlTree {
  return {
    code: encodedCdata(item.code),
    name: encodedCdata(item.name),
    measurment: optionalCdata(item.measurment),
    quantity: xmlText(item.quantity, 'item quantity'),
    price: xmlText(item.price, 'item price'),
    vat: optionalText(item.vat, 'item vat'),
  };
}

/**
 * The request document, children in the order the PHP library emits them: signature, invoice (details,
 * contact_info (billing, shipping), items), ipn_cipher, params, url (return, confirm).
 */
export function buildOrderXml(order: V1Order): string {
  assertOrder(order);
  const invoice = order.invoice;
  const billing = addressTree(invoice.billing);
  const shipping = addressTree(invoice.shipping);
  const tree: XmlTree = {
    order: {
      '@_type': 'card',
      '@_id': xmlText(order.id, 'order id'),
      '@_timestamp': optionalText(order.timestamp, 'order timestamp'),
      signature: xmlText(order.signature, 'signature'),
      invoice: {
        '@_currency': xmlText(invoice.currency, 'invoice currency'),
        '@_amount': xmlText(invoice.amount, 'invoice amount'),
        '@_installments': optionalText(invoice.installments, 'installments'),
        '@_selected_installments': optionalText(invoice.selected_installments, 'selected_installments'),
        '@_customer_type': optionalText(invoice.customer_type, 'customer_type'),
        '@_customer_id': optionalText(invoice.customer_id, 'customer_id'),
        '@_token_id': optionalText(invoice.token_id, 'token_id'),
        '@_pan_masked': optionalText(invoice.pan_masked, 'pan_masked'),
        '@_promotion_code': optionalText(invoice.promotion_code, 'promotion_code'),
        details: optionalCdata(invoice.details),
        contact_info: billing || shipping ? { billing, shipping } : undefined,
        items: invoice.items?.length ? { item: invoice.items.map(itemTree) } : undefined,
      },
      ipn_cipher: order.ipn_cipher,
      params: order.params?.length ? { param: order.params.map((p) => ({ name: xmlText(p.name, 'param name'), value: encodedCdata(p.value) })) } : undefined,
      url: {
        return: optionalText(order.url.return, 'url/return'),
        confirm: xmlText(order.url.confirm, 'url/confirm'),
      },
    },
  };
  return XML_DECLARATION + serializeXml(tree);
}

function readItem(element: XmlElement): V1Item {
  const required = (name: string, urlEncoded: boolean): string => {
    const value = optionalChildText(element, name, urlEncoded);
    if (value === undefined) throw new V1XmlError(`invoice item without ${name}`);
    return value;
  };
  return compact({
    code: required('code', true),
    name: required('name', true),
    measurment: optionalChildText(element, 'measurment', true),
    quantity: required('quantity', false),
    price: required('price', false),
    vat: optionalChildText(element, 'vat'),
  });
}

function readParam(element: XmlElement): { name: string; value: string } {
  const name = optionalChildText(element, 'name');
  if (name === undefined) throw new V1XmlError('param without name');
  return { name, value: optionalChildText(element, 'value', true) ?? '' };
}

/** Reads an `<order>` element (a request, or the echoed request inside an IPN); unknown children are ignored. */
export function readOrder(root: XmlElement): V1Order {
  if (root.name !== 'order') throw new V1XmlError(`root element is <${root.name}>, expected <order>`);
  const type = root.attributes.get('type');
  if (type !== 'card') throw new V1XmlError(`order type must be "card", got ${JSON.stringify(type ?? null)}`);
  const invoiceElement = childElement(root, 'invoice');
  if (!invoiceElement) throw new V1XmlError('order has no invoice');
  const attr = (name: string): string | undefined => nonEmpty(invoiceElement.attributes.get(name));
  const contact = childElement(invoiceElement, 'contact_info');
  const items = childElement(invoiceElement, 'items')
    ?.children.filter((c) => c.name === 'item')
    .map(readItem);
  const params = childElement(root, 'params')
    ?.children.filter((c) => c.name === 'param')
    .map(readParam);
  const url = childElement(root, 'url');
  const ipnCipher = optionalChildText(root, 'ipn_cipher');
  const order: V1Order = compact({
    id: root.attributes.get('id') ?? '',
    timestamp: root.attributes.get('timestamp') ?? '',
    signature: optionalChildText(root, 'signature') ?? '',
    invoice: compact({
      currency: attr('currency') ?? '',
      amount: attr('amount') ?? '',
      installments: attr('installments'),
      selected_installments: attr('selected_installments'),
      customer_type: attr('customer_type'),
      customer_id: attr('customer_id'),
      token_id: attr('token_id'),
      pan_masked: attr('pan_masked'),
      promotion_code: attr('promotion_code'),
      details: optionalChildText(invoiceElement, 'details', true) ?? '',
      billing: contact && readAddress(childElement(contact, 'billing')),
      shipping: contact && readAddress(childElement(contact, 'shipping')),
      items: items?.length ? items : undefined,
    }),
    ipn_cipher: ipnCipher as V1Order['ipn_cipher'], // checked by assertOrder
    params: params?.length ? params : undefined,
    url: {
      return: (url && optionalChildText(url, 'return')) ?? '',
      confirm: (url && optionalChildText(url, 'confirm')) ?? '',
    },
  });
  assertOrder(order);
  return order;
}

/** Parses a request document strictly (type "card", id, signature, invoice currency and amount, url/confirm). */
export function parseOrderXml(xml: string): V1Order {
  return readOrder(parseXmlDocument(xml));
}
