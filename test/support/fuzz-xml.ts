// Hostile XML for the NETOPIA v1 parsers: valid documents (orders, IPNs, crc replies) and mutations of them —
// DOCTYPE and entity declarations, billion laughs, external entities, deep nesting, huge attributes, too many
// elements, processing instructions, byte flips, truncation, insertions — plus arbitrary text.
import { readFileSync, readdirSync } from 'node:fs';
import fc from 'fast-check';
import { buildIpnXml, V1_ACTIONS, type V1Mobilpay } from '../../src/connectors/netopia-v1/ipn-xml.js';
import { buildOrderXml, type V1Order } from '../../src/connectors/netopia-v1/order-xml.js';
import { crcError, crcSuccess } from '../../src/connectors/netopia-v1/crc-reply.js';
import { anyString } from './fuzz.js';

const fixturesDir = new URL('../fixtures/netopia-v1/', import.meta.url);

/** The recorded IPN fixtures (NETOPIA's own layout: indentation, CDATA with whitespace, `<service/>`). */
export const FIXTURE_IPNS: readonly string[] = readdirSync(fixturesDir)
  .filter((n) => n.endsWith('.xml'))
  .sort()
  .map((n) => readFileSync(new URL(n, fixturesDir), 'utf8'));

export function sampleOrder(overrides: Partial<V1Order> = {}, invoice: Partial<V1Order['invoice']> = {}): V1Order {
  return {
    id: 'att_01hrx4t3q9abcdefghjkmnpqrs',
    timestamp: '20261123120000',
    signature: 'TEST-ABCD-1234-EFGH-5678',
    invoice: {
      currency: 'RON',
      amount: '49.90',
      details: 'Cafea boabe 1kg & "ceai" <verde> 100%',
      billing: {
        type: 'person',
        first_name: 'Ștefan',
        last_name: 'Țăran',
        email: 'stefan+shop@example.ro',
        mobile_phone: '+40740123456',
        address: 'Str. Lalelelor 7, Iași',
        country: 'RO',
        city: 'Iași',
      },
      items: [{ code: 'SKU-1', name: 'Cafea', quantity: '1', price: '49.90' }],
      ...invoice,
    },
    ipn_cipher: 'aes-256-cbc',
    params: [{ name: 'incasso_payment', value: 'pay_01hrx4t3q9' }],
    url: { return: 'https://hub.example/pay/pay_1/return', confirm: 'https://hub.example/notify/netopia-v1/con_1' },
    ...overrides,
  };
}

export function sampleMobilpay(overrides: Partial<V1Mobilpay> = {}): V1Mobilpay {
  return {
    timestamp: '20261123120500',
    crc: '7c1e0a4fb2d94c5e8a61d0f3b9e2a7c4',
    action: 'confirmed',
    purchase: '48213907',
    original_amount: '49.90',
    processed_amount: '49.90',
    pan_masked: '9****5098',
    error: { code: 0, message: 'Tranzactia aprobata' },
    ...overrides,
  };
}

export const VALID_ORDERS: readonly string[] = [
  buildOrderXml(sampleOrder()),
  buildOrderXml(sampleOrder({ ipn_cipher: undefined, params: undefined }, { currency: 'EUR', amount: '12.30', items: undefined, billing: undefined })),
];

export const VALID_IPNS: readonly string[] = [
  ...V1_ACTIONS.map((action) => buildIpnXml(VALID_ORDERS[0]!, sampleMobilpay({ action }))),
  buildIpnXml(VALID_ORDERS[1]!, sampleMobilpay({ action: 'paid', error: { code: 20, message: 'Fonduri insuficiente' } })),
  ...FIXTURE_IPNS,
];

export const VALID_CRC_REPLIES: readonly string[] = [
  crcSuccess('7c1e0a4fb2d94c5e8a61d0f3b9e2a7c4'),
  crcError(1, 0x300000f9, 'could not record the notification; please retry'),
  crcError(2, 0x300000f7, 'unknown order'),
  '<crc>ok</crc>',
  '<?xml version="1.0" encoding="utf-8"?>\n<crc error_code="5">x</crc>',
];

const DTD_PAYLOADS: readonly string[] = [
  '<!DOCTYPE order>',
  '<!DOCTYPE order [<!ENTITY e "expanded">]>',
  '<!DOCTYPE order [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
  '<!DOCTYPE order [<!ENTITY xxe SYSTEM "http://127.0.0.1:1/xxe">]>',
  '<!DOCTYPE order [<!ENTITY % p SYSTEM "http://127.0.0.1:1/evil.dtd"> %p;]>',
  '<!DOCTYPE order SYSTEM "http://127.0.0.1:1/order.dtd">',
  '<!DOCTYPE order PUBLIC "-//X//Y" "file:///dev/random">',
  '<!doctype order [<!entity e "lower case">]>',
  '<!ELEMENT order ANY>',
  '<!ATTLIST order id CDATA #FIXED "forced">',
  '<!NOTATION n SYSTEM "x">',
  '<!>',
  '<! DOCTYPE order>',
];

/** The classic: nine levels of ten-fold entity expansion, referenced from an attribute and from text. */
export const BILLION_LAUGHS_DTD =
  '<!DOCTYPE order [\n <!ENTITY lol "lol">\n' +
  Array.from({ length: 9 }, (_, i) => ` <!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">`).join('\n') +
  '\n]>\n';

const ENTITY_REFERENCES = [
  '&e;',
  '&xxe;',
  '&lol9;',
  '&lol;',
  '&#0;',
  '&#x0;',
  '&#xD800;',
  '&#xDFFF;',
  '&#xFFFE;',
  '&#1114112;',
  '&#x110000;',
  '&#99999999999999999999;',
  '&#65;',
  '&#x41;',
  '&amp;',
  '&lt;',
  '&apos;',
  '&',
  '&;',
  '&#;',
  '&#x;',
  '&nbsp;',
  '&__proto__;',
  '&constructor;',
];

const FRAGMENTS: readonly string[] = [
  ...DTD_PAYLOADS,
  ...ENTITY_REFERENCES,
  '<?php echo 1; ?>',
  '<?xml version="1.0"?>',
  '<?xml-stylesheet href="x"?>',
  '<?xml version="1.1" encoding="utf-16"?>',
  '<?',
  '?>',
  '<![CDATA[',
  ']]>',
  '<![CDATA[]]]]><![CDATA[>]]>',
  '<![CDATA[%00%C0%80%ZZ]]>',
  '<!--',
  '-->',
  '<!-- - -->',
  '<!-- a -- b -->',
  '<x>',
  '</x>',
  '<x/>',
  '<>',
  '</>',
  '< x>',
  '<x y>',
  '<x y=1>',
  '<x y="1" y="2"/>',
  '<__proto__/>',
  '<__proto__>p</__proto__>',
  '<constructor>c</constructor>',
  '<a __proto__="1" constructor="2"/>',
  '<:a/>',
  '<a:b xmlns:a="urn:a"/>',
  '<mobilpay/>',
  '<error code="x"/>',
  '<order type="card">',
  '</order>',
  '<invoice currency="RON" amount="1.00">',
  '</invoice>',
  '<action>credit</action>',
  '\u0000',
  '\u0001',
  '\u000b',
  '\ud800',
  '\udc00',
  '\ufffe',
  '\uffff',
  '\ufeff',
  '\u2028',
  '\r\n',
  '\t',
  ' ',
  '"',
  "'",
  '=',
  '/',
];

/** A change to a document: positions are taken modulo the document's length. */
type Mutation = (doc: string) => string;

const position = fc.nat();
const at = (doc: string, n: number) => n % (doc.length + 1);

const fragment = fc.oneof({ arbitrary: fc.constantFrom(...FRAGMENTS), weight: 3 }, { arbitrary: anyString(40), weight: 1 });

/** Where the root element starts (after the XML declaration, if any). */
function rootStart(doc: string): number {
  const m = /<[A-Za-z_:]/.exec(doc.replace(/^<\?xml[^>]*\?>/, (s) => ' '.repeat(s.length)));
  return m ? m.index : 0;
}

/** Just after the root's start tag, where children go. */
function insideRoot(doc: string): number {
  const end = doc.indexOf('>', rootStart(doc));
  return end === -1 ? doc.length : end + 1;
}

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  // byte flips: one character replaced
  fc.tuple(position, fragment).map(
    ([p, s]): Mutation =>
      (d) => {
        const i = at(d, p);
        return d.slice(0, i) + s.slice(0, 1) + d.slice(i + 1);
      },
  ),
  // truncation
  position.map(
    (p): Mutation =>
      (d) =>
        d.slice(0, at(d, p)),
  ),
  // insertion of a markup fragment or arbitrary text
  fc.tuple(position, fragment).map(
    ([p, s]): Mutation =>
      (d) => {
        const i = at(d, p);
        return d.slice(0, i) + s + d.slice(i);
      },
  ),
  // deletion of a range
  fc.tuple(position, fc.integer({ min: 1, max: 200 })).map(
    ([p, n]): Mutation =>
      (d) => {
        const i = at(d, p);
        return d.slice(0, i) + d.slice(i + n);
      },
  ),
  // a DOCTYPE (internal subset, external entities, parameter entities) before the root, its entity used inside
  fc.tuple(fc.constantFrom(...DTD_PAYLOADS), fc.constantFrom('&e;', '&xxe;', '')).map(
    ([dtd, ref]): Mutation =>
      (d) => {
        const r = rootStart(d);
        const i = insideRoot(d);
        return d.slice(0, r) + dtd + '\n' + d.slice(r, i) + ref + d.slice(i);
      },
  ),
  // billion laughs, referenced in text and in an attribute
  fc.constant<Mutation>((d) => {
    const r = rootStart(d);
    const i = insideRoot(d);
    return d.slice(0, r) + BILLION_LAUGHS_DTD + d.slice(r, i).replace(/ id="[^"]*"/, ' id="&lol9;"') + '<details>&lol9;</details>' + d.slice(i);
  }),
  // deep nesting inside the root
  fc.integer({ min: 20, max: 5000 }).map(
    (n): Mutation =>
      (d) => {
        const i = insideRoot(d);
        return d.slice(0, i) + '<a>'.repeat(n) + '</a>'.repeat(n) + d.slice(i);
      },
  ),
  // unbalanced deep nesting
  fc.integer({ min: 20, max: 3000 }).map(
    (n): Mutation =>
      (d) => {
        const i = insideRoot(d);
        return d.slice(0, i) + '<a>'.repeat(n) + d.slice(i);
      },
  ),
  // a huge attribute on the root (just under, at and over the 4 KiB limit, and over the 256 KiB document limit)
  fc.constantFrom(4095, 4096, 4097, 5000, 70_000, 262_145, 300_000).map(
    (n): Mutation =>
      (d) => {
        const r = rootStart(d);
        const sp = d.indexOf(' ', r);
        const i = sp === -1 ? r : sp;
        return d.slice(0, i) + ` huge="${'A'.repeat(n)}"` + d.slice(i);
      },
  ),
  // many sibling elements
  fc.integer({ min: 1990, max: 6000 }).map(
    (n): Mutation =>
      (d) => {
        const i = insideRoot(d);
        return d.slice(0, i) + '<x/>'.repeat(n) + d.slice(i);
      },
  ),
  // many attributes
  fc.integer({ min: 50, max: 3000 }).map(
    (n): Mutation =>
      (d) => {
        const r = rootStart(d);
        const sp = d.indexOf(' ', r);
        const i = sp === -1 ? r : sp;
        return d.slice(0, i) + Array.from({ length: n }, (_, k) => ` a${k}="${k}"`).join('') + d.slice(i);
      },
  ),
  // the text of some element replaced by arbitrary (unescaped) text
  fc.tuple(position, anyString(80)).map(
    ([p, s]): Mutation =>
      (d) => {
        const i = d.indexOf('>', at(d, p));
        const j = i === -1 ? -1 : d.indexOf('<', i);
        return i === -1 || j === -1 ? d : d.slice(0, i + 1) + s + d.slice(j);
      },
  ),
  // some attribute's value replaced by arbitrary text
  fc.tuple(position, anyString(80)).map(
    ([p, s]): Mutation =>
      (d) => {
        const i = d.indexOf('="', at(d, p));
        const j = i === -1 ? -1 : d.indexOf('"', i + 2);
        return i === -1 || j === -1 ? d : d.slice(0, i + 2) + s + d.slice(j);
      },
  ),
  // a processing instruction, a comment or CDATA in the middle
  fc.tuple(position, fc.constantFrom('<?php system("id"); ?>', '<?xml version="1.0"?>', '<!-- c -->', '<![CDATA[<order>]]>', '<![CDATA[]]>', '<!---->')).map(
    ([p, s]): Mutation =>
      (d) => {
        const i = at(d, p);
        return d.slice(0, i) + s + d.slice(i);
      },
  ),
  // prefixes: BOM, whitespace, another declaration, a UTF-16 declaration
  fc
    .constantFrom('\ufeff', ' ', '\n', '<?xml version="1.0" encoding="UTF-16"?>', '<?xml version="1.0" encoding="ISO-8859-1"?>\n', '\ufeff\ufeff', '\u0000')
    .map(
      (s): Mutation =>
        (d) =>
          s + d,
    ),
  // a second root, trailing garbage
  fc.constantFrom('<order type="card"/>', '<x/>', 'trailing text', '<', '&lol9;').map(
    (s): Mutation =>
      (d) =>
        d + s,
  ),
  fc.constant<Mutation>((d) => d + d),
  // renamed or namespaced root, changed case
  fc.constantFrom<Mutation>(
    (d) => d.replace(/<order\b/, '<x:order xmlns:x="urn:x"').replace(/<\/order>\s*$/, '</x:order>'),
    (d) => d.replace(/<order\b/, '<Order').replace(/<\/order>/, '</Order>'),
    (d) => d.replace(/<(\/?)(\w+)/g, '<$1__proto__'),
    (d) => d.replace(/<(\/?)mobilpay\b/g, '<$1constructor'),
    (d) => d.replace(/ (\w+)="/g, ' __proto__="'),
    (d) => d.replace(/<!\[CDATA\[/g, '').replace(/\]\]>/g, ''),
    (d) => d.replace(/>\s+</g, '><'),
    (d) => d.replace(/\n/g, '\r\n'),
  ),
);

/**
 * Hostile XML: mostly valid documents with one to three mutations, plus XML-looking token soup and arbitrary
 * text. Every document is a string; sizes stay below a few hundred KiB.
 */
export function hostileXml(seeds: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    {
      arbitrary: fc.tuple(fc.constantFrom(...seeds), fc.array(mutation, { minLength: 1, maxLength: 3 })).map(([doc, ms]) => ms.reduce((d, m) => m(d), doc)),
      weight: 12,
    },
    {
      arbitrary: fc
        .array(fc.oneof(fc.constantFrom(...FRAGMENTS), fc.constantFrom('order', 'crc', 'mobilpay', ' type="card"', ' error_type="2"', 'x')), { maxLength: 40 })
        .map((parts) => parts.join('')),
      weight: 2,
    },
    { arbitrary: anyString(200), weight: 1 },
    { arbitrary: fc.constantFrom(...seeds), weight: 1 },
  );
}
