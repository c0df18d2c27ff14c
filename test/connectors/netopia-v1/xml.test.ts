import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { V1XmlError, V1_ERROR_CODES } from '../../../src/connectors/netopia-v1/errors.js';
import { buildOrderXml, formatTimestamp, parseOrderXml, type V1Order } from '../../../src/connectors/netopia-v1/order-xml.js';
import { phpUrlDecode, phpUrlEncode, V1_XML_LIMITS } from '../../../src/connectors/netopia-v1/xml.js';
import { buildIpnXml, parseIpnXml, type V1Mobilpay } from '../../../src/connectors/netopia-v1/ipn-xml.js';
import { CRC_ERROR_TYPE, crcError, crcSuccess, parseCrcReply } from '../../../src/connectors/netopia-v1/crc-reply.js';

const fixture = (name: string): string => readFileSync(new URL(`../../fixtures/netopia-v1/${name}`, import.meta.url), 'utf8');

const NASTY = `&<>"' +1 100% a+b%20c`;

const fullOrder: V1Order = {
  id: 'INC-42/"&<>\'',
  timestamp: '20240312094501',
  signature: 'NTP1-4QX7-LM2C-8KD3-ZP9W',
  invoice: {
    currency: 'RON',
    amount: '1234.50',
    installments: '2,3,6',
    selected_installments: '3',
    customer_type: '2',
    customer_id: 'cust&1',
    token_id: 'dG9rZW4=',
    pan_masked: '990000****5098',
    promotion_code: 'SPRING<24>',
    details: `Comanda Ștefan Țăran ${NASTY}`,
    billing: {
      type: 'person',
      first_name: 'Ștefan',
      last_name: 'Țăran',
      address: `Str. Lalelelor 7, Iași ${NASTY}`,
      email: 'stefan+shop@example.ro',
      mobile_phone: '+40740123456',
      fiscal_number: '1800101223344',
      identity_number: 'IS 123456',
      country: 'Romania',
      county: 'Iași',
      city: 'Iași',
      zip_code: '700001',
      bank: 'Banca Transilvania',
      iban: 'RO49AAAA1B31007593840000',
    },
    shipping: {
      type: 'company',
      first_name: 'Depozit',
      last_name: 'Nord SRL',
      address: 'Bd. Independenței 12',
      email: 'x%y@example.ro',
      mobile_phone: '0232 000 111',
    },
    items: [
      { code: 'SKU-1', name: 'Cană „ceramică" & farfurie', measurment: 'buc', quantity: '2', price: '12.50', vat: '0.19' },
      { code: 'SKU+2', name: 'Livrare', quantity: '1', price: '15.00' },
    ],
  },
  ipn_cipher: 'aes-256-cbc',
  params: [
    { name: 'incasso_payment', value: 'pay_01HRX4T3Q9' },
    { name: 'note', value: NASTY },
    { name: 'empty', value: '' },
  ],
  url: { return: 'https://shop.example.ro/return?a=1&b=2', confirm: 'https://hub.example.ro/ipn?x=<1>' },
};

const minimalOrder: V1Order = {
  id: 'TEST-1',
  timestamp: '20240101120000',
  signature: 'AAAA-BBBB-CCCC-DDDD-EEEE',
  invoice: { currency: 'RON', amount: '1.00', details: 'Test payment' },
  url: { return: 'https://example.com/return', confirm: 'https://example.com/confirm' },
};

const mobilpayAll: V1Mobilpay = {
  timestamp: '20240312094733',
  crc: '7c1e0a4fb2d94c5e8a61d0f3b9e2a7c4',
  action: 'confirmed',
  customer: { type: 'person', first_name: 'Ștefan', last_name: 'Țăran', address: `Iași ${NASTY}`, email: 'stefan+shop@example.ro', mobile_phone: '0740123456' },
  purchase: '48213907',
  original_amount: '1234.50',
  processed_amount: '1234.50',
  promotion_amount: '0.00',
  current_payment_count: '1',
  pan_masked: '9****5098',
  rrn: '405212345678',
  payment_instrument_id: '77120',
  token_id: 'MTIzNA==',
  token_expiration_date: '2027-12-31 00:00:00',
  installments: '3',
  issuer: 'Banca Transilvania',
  error: { code: 0, message: 'Tranzacția aprobată <ok> & ]]> done' },
};

/** The position of each tag must increase: the document follows the reference PHP library's order. */
function assertTagOrder(xml: string, tags: string[]): void {
  let last = -1;
  for (const tag of tags) {
    const at = xml.indexOf(tag);
    assert.ok(at > last, `${tag} expected after the previous tag`);
    last = at;
  }
}

describe('NETOPIA v1 order XML', () => {
  it('round-trips every field, with diacritics and markup/percent/plus characters', () => {
    const xml = buildOrderXml(fullOrder);
    assert.ok(xml.startsWith('<?xml version="1.0" encoding="utf-8"?>\n<order type="card" id="'));
    assert.deepEqual(parseOrderXml(xml), fullOrder);
  });

  it('emits elements in the PHP library order, free text url-encoded in CDATA, attributes escaped', () => {
    const xml = buildOrderXml(fullOrder);
    assertTagOrder(xml, [
      '<signature>',
      '<invoice ',
      '<details>',
      '<contact_info>',
      '<billing ',
      '<shipping ',
      '<items>',
      '</invoice>',
      '<ipn_cipher>',
      '<params>',
      '<url>',
      '<return>',
      '<confirm>',
    ]);
    assertTagOrder(xml, [
      '<first_name>',
      '<last_name>',
      '<address>',
      '<email>',
      '<mobile_phone>',
      '<fiscal_number>',
      '<identity_number>',
      '<country>',
      '<county>',
      '<city>',
      '<zip_code>',
      '<bank>',
      '<iban>',
    ]);
    assert.ok(xml.includes('id="INC-42/&quot;&amp;&lt;&gt;&apos;"'));
    assert.ok(xml.includes('<first_name><![CDATA[%C8%98tefan]]></first_name><last_name><![CDATA[%C8%9A%C4%83ran]]></last_name>'));
    assert.ok(xml.includes('<email><![CDATA[stefan%2Bshop%40example.ro]]></email>'));
    assert.ok(xml.includes('<value><![CDATA[%26%3C%3E%22%27+%2B1+100%25+a%2Bb%2520c]]></value>'));
    assert.ok(xml.includes('<value><![CDATA[]]></value>'));
    assert.ok(xml.includes('<quantity>2</quantity><price>12.50</price><vat>0.19</vat>'));
    assert.ok(xml.includes('<return>https://shop.example.ro/return?a=1&amp;b=2</return><confirm>https://hub.example.ro/ipn?x=&lt;1&gt;</confirm>'));
  });

  it('builds the minimal request exactly, leaving out empty optional elements', () => {
    assert.equal(
      buildOrderXml(minimalOrder),
      '<?xml version="1.0" encoding="utf-8"?>\n' +
        '<order type="card" id="TEST-1" timestamp="20240101120000"><signature>AAAA-BBBB-CCCC-DDDD-EEEE</signature>' +
        '<invoice currency="RON" amount="1.00"><details><![CDATA[Test+payment]]></details></invoice>' +
        '<url><return>https://example.com/return</return><confirm>https://example.com/confirm</confirm></url></order>',
    );
    const sparse = buildOrderXml({
      ...minimalOrder,
      invoice: { ...minimalOrder.invoice, installments: '', details: '', billing: {}, items: [] },
      params: [],
      url: { return: '', confirm: 'https://example.com/confirm' },
    });
    for (const absent of ['installments', '<details>', '<contact_info>', '<billing', '<items>', '<params>', '<return>', '<ipn_cipher>']) {
      assert.ok(!sparse.includes(absent), absent);
    }
    assert.deepEqual(parseOrderXml(buildOrderXml(minimalOrder)), minimalOrder);
  });

  it('url-encodes like PHP urlencode and decodes like urldecode', () => {
    assert.equal(phpUrlEncode("a b!'()*~-_.Az09"), 'a+b%21%27%28%29%2A%7E-_.Az09');
    assert.equal(phpUrlEncode('Ștefan Țăran'), '%C8%98tefan+%C8%9A%C4%83ran');
    assert.equal(phpUrlEncode('a+b%c@d'), 'a%2Bb%25c%40d');
    assert.equal(phpUrlDecode('F%C3%BCl%C3%B6p+Attila'), 'Fülöp Attila');
    assert.equal(phpUrlDecode('Garda+deSus%2+Strada'), 'Garda+deSus%2+Strada', 'malformed: raw text kept');
    assert.equal(phpUrlDecode('%C3%28'), '%C3%28', 'not UTF-8: raw text kept');
    assert.throws(() => phpUrlEncode('\uD800'), V1XmlError);
  });

  it('formats timestamps as UTC YYYYMMDDHHMMSS', () => {
    assert.equal(formatTimestamp(new Date('2024-04-25T02:03:04.999Z')), '20240425020304');
    assert.equal(formatTimestamp(new Date(Date.UTC(2024, 11, 31, 23, 59, 59))), '20241231235959');
    assert.throws(() => formatTimestamp(new Date('nope')), V1XmlError);
  });

  it('refuses to build what NETOPIA would reject', () => {
    assert.throws(() => buildOrderXml({ ...minimalOrder, id: 'x'.repeat(65) }), /longer than 64/);
    assert.doesNotThrow(() => buildOrderXml({ ...minimalOrder, id: 'x'.repeat(64) }));
    assert.throws(() => buildOrderXml({ ...minimalOrder, id: '' }), V1XmlError);
    assert.throws(() => buildOrderXml({ ...minimalOrder, signature: '' }), V1XmlError);
    assert.throws(() => buildOrderXml({ ...minimalOrder, url: { return: '', confirm: '' } }), V1XmlError);
    assert.throws(() => buildOrderXml({ ...minimalOrder, signature: 'AB\u0001' }), /characters that XML does not allow/);
  });

  it('parses strictly', () => {
    const xml = buildOrderXml(minimalOrder);
    const cases: Array<[string, RegExp]> = [
      [xml.replace('type="card"', 'type="sms"'), /type must be "card"/],
      [xml.replace(' type="card"', ''), /type must be "card"/],
      [xml.replace(' id="TEST-1"', ''), /order id is required/],
      [xml.replace('id="TEST-1"', `id="${'x'.repeat(65)}"`), /longer than 64/],
      [xml.replace(/<signature>.*<\/signature>/, ''), /signature is required/],
      [xml.replace(' currency="RON"', ''), /currency is required/],
      [xml.replace(' amount="1.00"', ''), /amount is required/],
      [xml.replace(/<confirm>.*<\/confirm>/, ''), /url\/confirm is required/],
      [xml.replace(/<invoice.*<\/invoice>/, ''), /no invoice/],
      [xml.replace('</signature>', '</signature><ipn_cipher>des</ipn_cipher>'), /unsupported ipn_cipher/],
      [xml.replace('</details>', '</details><items><item><code>a</code></item></items>'), /item without name/],
      ['<?xml version="1.0" encoding="utf-8"?>\n<crc>x</crc>', /expected <order>/],
    ];
    for (const [input, message] of cases)
      assert.throws(
        () => parseOrderXml(input),
        (e: unknown) => e instanceof V1XmlError && message.test(e.message),
        String(message),
      );
  });

  it("parses the v1.x documentation's request example (plain text, no CDATA)", () => {
    const seed = `<?xml version="1.0" encoding="utf-8"?>
<order type="card" id="ORDER_ID" timestamp="YYYYMMDDHHMMSS">
<signature>XXXX-XXXX-XXXX-XXXX</signature>
<invoice currency="RON" amount="XX.YY">
<details>Payment Description</details>
<contact_info>
<billing type="company|person">
<first_name>John</first_name>
<last_name>Doe</last_name>
<email>john.doe@example.com</email>
<mobile_phone>+40712345678</mobile_phone>
<address>123 Main St, Bucharest</address>
</billing>
</contact_info>
</invoice>
<ipn_cipher>aes-256-cbc</ipn_cipher>
<params>
<param>
<name>custom_param</name>
<value>value123</value>
</param>
</params>
<url>
<confirm>https://yourdomain.com/confirm</confirm>
<return>https://yourdomain.com/return</return>
</url>
</order>`;
    assert.deepEqual(parseOrderXml(seed), {
      id: 'ORDER_ID',
      timestamp: 'YYYYMMDDHHMMSS',
      signature: 'XXXX-XXXX-XXXX-XXXX',
      invoice: {
        currency: 'RON',
        amount: 'XX.YY',
        details: 'Payment Description',
        // The placeholder "company|person" is no address type; plain text is not url-decoded ("+40…" stays).
        billing: { first_name: 'John', last_name: 'Doe', email: 'john.doe@example.com', mobile_phone: '+40712345678', address: '123 Main St, Bucharest' },
      },
      ipn_cipher: 'aes-256-cbc',
      params: [{ name: 'custom_param', value: 'value123' }],
      url: { return: 'https://yourdomain.com/return', confirm: 'https://yourdomain.com/confirm' },
    });
  });
});

describe('NETOPIA v1 IPN XML', () => {
  it('appends <mobilpay> to the unchanged request and round-trips every field', () => {
    const request = buildOrderXml(fullOrder) + '\n';
    const ipn = buildIpnXml(request, mobilpayAll);
    const at = request.lastIndexOf('</order>');
    assert.ok(
      ipn.startsWith(
        request.slice(0, at) + '<mobilpay timestamp="20240312094733" crc="7c1e0a4fb2d94c5e8a61d0f3b9e2a7c4"><action>confirmed</action><customer type="person">',
      ),
    );
    assert.ok(ipn.endsWith('</mobilpay></order>\n'));
    assertTagOrder(ipn, [
      '<action>',
      '<customer ',
      '<purchase>',
      '<original_amount>',
      '<processed_amount>',
      '<promotion_amount>',
      '<current_payment_count>',
      '<pan_masked>9',
      '<rrn>',
      '<payment_instrument_id>',
      '<token_id>M',
      '<token_expiration_date>',
      '<issuer>',
      '<installments>',
      '<error ',
    ]);
    assert.ok(ipn.includes('<error code="0"><![CDATA[Tranzacția aprobată <ok> & ]]]]><![CDATA[> done]]></error>'));
    assert.deepEqual(parseIpnXml(ipn), { order: fullOrder, mobilpay: mobilpayAll });
  });

  it('keeps a pretty-printed original intact and refuses text that is no order', () => {
    const pretty = fixture('ipn-expired-card.xml').replace(/\s*<mobilpay[\s\S]*<\/mobilpay>/, '');
    const ipn = buildIpnXml(pretty, { ...mobilpayAll, customer: undefined, action: 'paid', error: { code: 19, message: 'Card expirat' } });
    assert.ok(ipn.startsWith(pretty.slice(0, pretty.lastIndexOf('</order>'))));
    assert.equal(parseIpnXml(ipn).mobilpay.error.code, 19);
    assert.throws(() => buildIpnXml('<order type="card"/>', mobilpayAll), /does not end with <\/order>/);
    assert.throws(() => buildIpnXml(buildOrderXml(minimalOrder) + '<!-- x -->', mobilpayAll), V1XmlError);
    assert.throws(() => buildIpnXml(buildOrderXml(minimalOrder), { ...mobilpayAll, error: { code: 1.5, message: '' } }), /integer/);
  });

  it("parses the v1.x documentation's response shape appended to its request", () => {
    const seedMobilpay = `<mobilpay timestamp="20240425020304" crc="XXXXX">
<action>paid</action>
<customer type="person">
<first_name>John</first_name>
<last_name>Doe</last_name>
<address>123 Main St, Bucharest</address>
<email>john.doe@example.com</email>
<mobile_phone>+40712345678</mobile_phone>
</customer>
<purchase>mobilPay_purchase_no</purchase>
<original_amount>10.00</original_amount>
<processed_amount>10.00</processed_amount>
<pan_masked>XXXXXX****YYYY</pan_masked>
<payment_instrument_id>ZZZZZZZ</payment_instrument_id>
<token_id>token_identifier</token_id>
<token_expiration_date>2026-01-31 00:00:00</token_expiration_date>
<error code="0">error_message</error>
</mobilpay>`;
    const request = buildOrderXml({ ...minimalOrder, id: 'ORDER_ID', timestamp: '20240425020304' });
    const { mobilpay } = parseIpnXml(request.replace('</order>', seedMobilpay + '</order>'));
    assert.deepEqual(mobilpay, {
      timestamp: '20240425020304',
      crc: 'XXXXX',
      action: 'paid',
      customer: {
        type: 'person',
        first_name: 'John',
        last_name: 'Doe',
        address: '123 Main St, Bucharest',
        email: 'john.doe@example.com',
        mobile_phone: '+40712345678',
      },
      purchase: 'mobilPay_purchase_no',
      original_amount: '10.00',
      processed_amount: '10.00',
      pan_masked: 'XXXXXX****YYYY',
      payment_instrument_id: 'ZZZZZZZ',
      token_id: 'token_identifier',
      token_expiration_date: '2026-01-31 00:00:00',
      error: { code: 0, message: 'error_message' },
    });
  });

  it('parses a confirmed IPN echoing a PHP-library request (pretty-printed, unknown <service/>)', () => {
    const { order, mobilpay } = parseIpnXml(fixture('ipn-confirmed.xml'));
    assert.equal(order.id, 'INC-2024-000173');
    assert.equal(order.invoice.details, 'Comanda INC-2024-000173 – 3 produse');
    assert.equal(order.invoice.customer_id, 'cust-5521');
    assert.deepEqual(order.invoice.billing, {
      type: 'person',
      first_name: 'Ștefan',
      last_name: 'Țăran',
      address: 'Str. Lalelelor nr. 7, Iași',
      email: 'stefan.taran+shop@example.ro',
      mobile_phone: '0740123456',
    });
    assert.equal(order.invoice.shipping?.type, 'company');
    assert.equal(order.invoice.shipping?.address, 'Bd. Independenței 12, Iași');
    assert.equal(order.ipn_cipher, 'aes-256-cbc');
    assert.deepEqual(order.params, [{ name: 'incasso_payment', value: 'pay_01HRX4T3Q9' }]);
    assert.deepEqual(mobilpay, {
      timestamp: '20240312094733',
      crc: '7c1e0a4fb2d94c5e8a61d0f3b9e2a7c4',
      action: 'confirmed',
      customer: {
        type: 'person',
        first_name: 'Ștefan',
        last_name: 'Țăran',
        address: 'Str. Lalelelor nr. 7, Iași',
        email: 'stefan.taran+shop@example.ro',
        mobile_phone: '0740123456',
      },
      purchase: '48213907',
      original_amount: '249.90',
      processed_amount: '249.90',
      current_payment_count: '1',
      pan_masked: '9****5098',
      rrn: '405212345678',
      payment_instrument_id: '77120',
      token_id: 'MTIzNDU2Nzg5MDEyMzQ1Ng==',
      token_expiration_date: '2027-12-31 00:00:00',
      error: { code: 0, message: 'Tranzactia aprobata' },
    });
  });

  it('parses confirmed_pending with a raw-text (not url-encoded) request echo', () => {
    const { order, mobilpay } = parseIpnXml(fixture('ipn-confirmed-pending.xml'));
    assert.equal(order.invoice.billing?.last_name, 'Mureșan');
    assert.equal(order.invoice.billing?.email, 'ilinca+orders@example.org', 'plain text keeps "+"');
    assert.equal(mobilpay.customer?.email, 'ilinca+orders@example.org', 'CDATA "%2B" decodes to "+"');
    assert.equal(mobilpay.action, 'confirmed_pending');
    assert.deepEqual(mobilpay.error, { code: 0, message: 'In verificare' });
  });

  it('parses full and partial credits as decimal strings', () => {
    const full = parseIpnXml(fixture('ipn-credit-full.xml')).mobilpay;
    assert.equal(full.action, 'credit');
    assert.equal(full.installments, '0');
    assert.deepEqual([full.original_amount, full.processed_amount], ['41.07', '41.07']);
    const partial = parseIpnXml(fixture('ipn-credit-partial.xml')).mobilpay;
    assert.equal(partial.action, 'credit');
    assert.deepEqual([partial.original_amount, partial.processed_amount], ['72.65', '50']);
  });

  it('parses a declined authorization (paid + 35) and keeps malformed url-encoding raw', () => {
    const { mobilpay } = parseIpnXml(fixture('ipn-paid-declined.xml'));
    assert.equal(mobilpay.action, 'paid');
    assert.deepEqual(mobilpay.error, { code: 35, message: '' });
    assert.equal(V1_ERROR_CODES[mobilpay.error.code], 'Transaction declined');
    assert.equal(mobilpay.customer?.address, 'Garda+deSus%2+Strada+Varciorogului+nr+375');
    assert.equal(mobilpay.customer?.last_name, 'Bălan');
  });

  it('parses an expired card (paid + 19)', () => {
    const { order, mobilpay } = parseIpnXml(fixture('ipn-expired-card.xml'));
    assert.equal(order.invoice.details, 'Order no. QFSP-KFWV');
    assert.deepEqual(mobilpay.error, { code: 19, message: 'Card expirat' });
    assert.equal(V1_ERROR_CODES[19], 'Expired card');
    assert.equal(mobilpay.customer?.address, 'Sfântu Gheorghe Str. Șoimului nr. 21.');
  });

  it('parses a converted-currency IPN: invoice USD 33.00, amounts in RON', () => {
    const { order, mobilpay } = parseIpnXml(fixture('ipn-currency-converted.xml'));
    assert.deepEqual([order.invoice.currency, order.invoice.amount], ['USD', '33.00']);
    assert.deepEqual([mobilpay.original_amount, mobilpay.processed_amount], ['132.69', '132.69']);
    assert.equal(mobilpay.customer?.last_name, 'Kovács');
  });
});

describe('NETOPIA v1 XML parsing of hostile input', () => {
  const valid = fixture('ipn-credit-partial.xml');
  const withService = (inner: string): string => valid.replace('<url>', `<service>${inner}</service><url>`);
  const nested = (levels: number): string => '<n>'.repeat(levels) + '</n>'.repeat(levels);
  const hostile: Array<[string, unknown, RegExp]> = [
    ['DOCTYPE', valid.replace('<order', '<!DOCTYPE order [<!ELEMENT order ANY>]>\n<order'), /<!DOCTYPE/],
    [
      'billion laughs',
      `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">]><order type="card">&lol2;</order>`,
      /<!DOCTYPE/,
    ],
    ['external entity', `<?xml version="1.0"?><!DOCTYPE order [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><order type="card">&xxe;</order>`, /<!DOCTYPE/],
    ['ENTITY without DOCTYPE', withService('<!ENTITY x "y">'), /<!ENTITY/],
    ['undefined entity', withService('&nbsp;'), /undefined entity/],
    ['character reference to NUL', withService('&#0;'), /malformed character entity/],
    ['processing instruction', valid.replace('<order', '<?xml-stylesheet href="x.xsl"?><order'), /processing instructions/],
    ['declaration not at the start', '\n' + valid, /processing instructions/],
    ['100-deep nesting', withService(nested(100)), /nested|deeper/],
    ['33 levels', withService(nested(31)), /deeper than 32/],
    ['300 KiB body', withService('x'.repeat(300 * 1024)), /larger than 262144 bytes/],
    ['2001 elements', withService('<i/>'.repeat(2001)), /more than 2000 elements/],
    ['huge attribute', withService(`<i note="${'a'.repeat(5000)}"/>`), /longer than 4096 bytes/],
    ['control character', withService('\u0007'), /characters that XML does not allow/],
    ['garbage', '\u0000\u0001\u0002binary', /XML does not allow/],
    ['plain text', 'hello world', /not well-formed/],
    ['JSON', '{"order":{"type":"card"}}', /not well-formed/],
    ['truncated', valid.slice(0, 300), /not well-formed/],
    ['mismatched tags', valid.replace('</signature>', '</signatur>'), /not well-formed/],
    ['two roots', valid + '<order/>', /not well-formed/],
    ['empty string', '', /not well-formed/],
    ['not a string', null, /must be a string/],
    ['missing mobilpay', buildOrderXml(minimalOrder), /no <mobilpay>/],
    ['unknown action', valid.replace('<action>credit</action>', '<action>refund</action>'), /unknown mobilpay action "refund"/],
    ['missing action', valid.replace('<action>credit</action>', ''), /unknown mobilpay action ""/],
    ['non-numeric error code', valid.replace('<error code="0">', '<error code="N">'), /error code must be an integer/],
    ['fractional error code', valid.replace('<error code="0">', '<error code="3.5">'), /error code must be an integer/],
    ['missing error', valid.replace(/<error[\s\S]*<\/error>/, ''), /error is missing/],
    ['missing crc', valid.replace(/ crc="[0-9a-f]+"/, ''), /crc is required/],
    ['missing purchase', valid.replace(/<purchase>\d+<\/purchase>/, ''), /purchase is required/],
    ['echoed order without signature', valid.replace(/<signature>.*?<\/signature>/, ''), /signature is required/],
  ];

  for (const [label, input, message] of hostile) {
    it(`rejects ${label} with V1XmlError`, () => {
      assert.throws(
        () => parseIpnXml(input as string),
        (e: unknown) => e instanceof V1XmlError && message.test(e.message),
        `${label}: expected V1XmlError matching ${message}`,
      );
    });
  }

  it('accepts the limits themselves: 32 levels, 2000 elements, a 4 KiB attribute, a BOM', () => {
    assert.equal(V1_XML_LIMITS.maxDepth, 32);
    // order > service > 30 × n = 32 levels
    assert.doesNotThrow(() => parseIpnXml(withService(nested(30))));
    const elements = (valid.match(/<[a-z_]+[\s>/]/g) ?? []).length;
    assert.doesNotThrow(() => parseIpnXml(withService('<i/>'.repeat(2000 - elements - 1))));
    assert.doesNotThrow(() => parseIpnXml(withService(`<i note="${'a'.repeat(4096)}"/>`)));
    assert.doesNotThrow(() => parseIpnXml('\uFEFF' + valid));
  });

  it('resolves the predefined entities and character references, and never expands others', () => {
    const ipn = valid.replace('<purchase>1203859</purchase>', '<purchase>&#x31;&#50;&lt;&amp;&gt;&quot;&apos;</purchase>');
    assert.equal(parseIpnXml(ipn).mobilpay.purchase, `12<&>"'`);
  });

  it('hostile input never escapes as another exception type from any parser', () => {
    for (const [, input] of hostile) {
      for (const parse of [parseOrderXml, parseIpnXml]) {
        try {
          parse(input as string);
        } catch (e) {
          assert.ok(e instanceof V1XmlError, `${String(e)}`);
        }
      }
      const reply = parseCrcReply(input as string);
      assert.equal(reply.errorType, CRC_ERROR_TYPE.temporary);
    }
  });
});

describe('NETOPIA v1 merchant crc reply', () => {
  it('builds success and error replies exactly', () => {
    assert.equal(crcSuccess('7c1e0a4fb2d94c5e8a61d0f3b9e2a7c4'), '<?xml version="1.0" encoding="utf-8"?>\n<crc>7c1e0a4fb2d94c5e8a61d0f3b9e2a7c4</crc>');
    assert.equal(crcSuccess('a<b & "c"'), '<?xml version="1.0" encoding="utf-8"?>\n<crc>a&lt;b &amp; &quot;c&quot;</crc>');
    assert.equal(
      crcError(1, 812, 'database unavailable'),
      '<?xml version="1.0" encoding="utf-8"?>\n<crc error_type="1" error_code="812">database unavailable</crc>',
    );
    assert.equal(
      crcError(2, 0x300000f6, 'invalid action <x>'),
      '<?xml version="1.0" encoding="utf-8"?>\n<crc error_type="2" error_code="805306614">invalid action &lt;x&gt;</crc>',
    );
    assert.throws(() => crcError(3 as 1, 1, 'x'), V1XmlError);
    assert.throws(() => crcError(1, 1.5, 'x'), V1XmlError);
  });

  it('reads back what it builds', () => {
    assert.deepEqual(parseCrcReply(crcSuccess('abc & <d>')), { errorType: 0, errorCode: 0, message: 'abc & <d>' });
    assert.deepEqual(parseCrcReply(crcError(1, 812, 'retry later')), { errorType: 1, errorCode: 812, message: 'retry later' });
    assert.deepEqual(parseCrcReply(crcError(2, 7, 'gone')), { errorType: 2, errorCode: 7, message: 'gone' });
  });

  it('reads replies written by other libraries', () => {
    assert.deepEqual(parseCrcReply('<?xml version="1.0" encoding="utf-8"?><crc><![CDATA[d4d2527836cf]]></crc>'), {
      errorType: 0,
      errorCode: 0,
      message: 'd4d2527836cf',
    });
    assert.deepEqual(parseCrcReply('<crc error_type="0" error_code="0">ok</crc>'), { errorType: 0, errorCode: 0, message: 'ok' });
    // error_code without error_type (netopia-card v1 on declines) is a success by the protocol's rules
    assert.deepEqual(parseCrcReply('<crc error_code="35">declined</crc>'), { errorType: 0, errorCode: 35, message: 'declined' });
    assert.deepEqual(parseCrcReply('<crc/>'), { errorType: 0, errorCode: 0, message: '' });
  });

  it('treats empty, HTML, non-crc and invalid replies as temporary errors that say why', () => {
    const cases: Array<[string, RegExp]> = [
      ['', /empty body/],
      ['   \n', /empty body/],
      ['<!DOCTYPE html><html><body><h1>500 Internal Server Error</h1></body></html>', /<!DOCTYPE/],
      ['<html><body><h1>502 Bad Gateway</h1><hr></body></html>', /not well-formed/],
      ['<html><body>OK</body></html>', /root element is <html>/],
      ['OK', /not well-formed/],
      ['<crc error_type="3" error_code="1">x</crc>', /invalid error_type "3"/],
      ['<crc error_type="1" error_code="abc">x</crc>', /invalid error_code "abc"/],
      ['\n<?xml version="1.0" encoding="utf-8"?>\n<crc>x</crc>', /processing instructions/],
    ];
    for (const [body, message] of cases) {
      const reply = parseCrcReply(body);
      assert.equal(reply.errorType, CRC_ERROR_TYPE.temporary, body);
      assert.equal(reply.errorCode, 0, body);
      assert.match(reply.message, message, body);
    }
  });
});

describe('NETOPIA v1 IPN error codes', () => {
  it('catalogues every documented code', () => {
    assert.deepEqual(
      Object.keys(V1_ERROR_CODES).map(Number),
      [0, 16, 17, 18, 19, 20, 21, 22, 32, 33, 34, 35, 36, 37, 38, 48, 49, 50, 51, 52, 53, 54, 55, 56, 99],
    );
    assert.equal(V1_ERROR_CODES[0], 'Approved');
    assert.equal(V1_ERROR_CODES[99], 'Generic error');
  });
});
