import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatOnpayDate } from '../../src/services/onpay/values.js';
import { apiClient, startTestHub, type TestHub } from '../support/hub.js';
import {
  anyString,
  contentType,
  describeFailures,
  describeLogLines,
  errorLogLines,
  extraHeaders,
  FUZZ_HTTP_RUNS,
  FUZZ_SEED,
  fuzzHttp,
  percentEncode,
  rawHttpClient,
  type RawResponse,
} from '../support/fuzz.js';

/**
 * The OnPay-compatible partner API (`POST /api/<call>/`, `POST /test/api/<call>/`) under fire: FUZZ_HTTP_RUNS requests to
 * the five calls on both prefixes with arbitrary field maps — documented names in any case, unknown names, empty,
 * huge, NUL and unicode values, the partner's real key and the acquirers' real test credentials mixed with garbage —
 * sent form-urlencoded, as multipart (well-formed and broken), as JSON, as raw bytes, with any Content-Type.
 * Every answer must be JSON, never a 5xx or an HTML page: `success: "false"` with the message in `error`
 * (get_link, with `link: null`) or `errors`, or, where the input happens to be valid, `success: "true"` in the
 * call's documented shape.
 */

let hub: TestHub;
let client: ReturnType<typeof rawHttpClient>;
let key = '';
const activationKeys: string[] = [];
/** Each acquirer's test account on the built-in emulator: the fields a partner sends for it. */
const gatewayFields: Record<string, Record<string, string>> = {};

async function emulatorAccount(gateway: string): Promise<Record<string, string>> {
  const r = await fetch(`${hub.url}/sandbox/${gateway}/accounts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: `Fuzz ${gateway}` }),
  });
  assert.equal(r.status, 201);
  return r.json();
}

before(async () => {
  hub = await startTestHub({ emulators: true, logLevel: 'error' });
  client = rawHttpClient(hub.url, 16);
  const admin = apiClient(hub.url, hub.adminKey);
  for (let i = 0; i < 4; i++) {
    const partner = await admin('POST', '/v1/onpay/partners', { name: `Fuzz partner ${i}` });
    assert.equal(partner.status, 201, JSON.stringify(partner.body));
    activationKeys.push(partner.body.activation_key);
  }
  const activated = await client.request({
    method: 'POST',
    path: '/test/api/get_onpay_key/',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `key=${activationKeys.shift()}`,
  });
  key = JSON.parse(activated.text).onpaykey;
  assert.match(key, /^opk_/);
  const msp = await emulatorAccount('multisafepay');
  const nexi = await emulatorAccount('nexi');
  const volt = await emulatorAccount('volt');
  gatewayFields.multisafepay = { gatewayApiKey: msp.api_key!, gatewaySecretKey: '', gatewayUsername: '', gatewayPassword: '', gatewayNotificationKey: '' };
  gatewayFields.nexi = { gatewayApiKey: nexi.alias!, gatewaySecretKey: nexi.mac_key!, gatewayUsername: '', gatewayPassword: '', gatewayNotificationKey: '' };
  gatewayFields.volt = {
    gatewayApiKey: volt.client_id!,
    gatewaySecretKey: volt.client_secret!,
    gatewayUsername: volt.username!,
    gatewayPassword: volt.password!,
    gatewayNotificationKey: volt.notification_secret!,
  };
});

after(async () => {
  client?.close();
  await hub?.close();
});

const CALLS = ['get_link', 'get_notifications', 'get_users', 'get_payment_method', 'get_onpay_key'] as const;
const FIELDS = [
  'key',
  'gateway',
  'gatewayApiKey',
  'gatewaySecretKey',
  'gatewayUsername',
  'gatewayPassword',
  'gatewayNotificationKey',
  'extId',
  'orderAmount',
  'orderCurrency',
  'orderDescription',
  'expDate',
  'completedUrl',
  'canceledUrl',
  'date',
  'allnotifications',
  'datefrom',
  'dateto',
] as const;

/** Placeholders resolved when the case is sent: the partner's key, an activation key, the acquirer's credentials, dates. */
const GW = (field: string) => fc.constant(`$GW:${field}`);
const nasty = fc.oneof(
  { arbitrary: anyString(60), weight: 6 },
  { arbitrary: fc.constantFrom('x'.repeat(501), 'é'.repeat(9000), 'a\u0000b', '\u0000', '\ud800', ' ', '%00', '<html>', '{"a":1}'), weight: 1 },
);
const VALUES: Record<(typeof FIELDS)[number], fc.Arbitrary<string>> = {
  key: fc.constantFrom('$KEY', '$KEY', '$KEY', '$KEY', '$ACTIVATION', 'opk_nope', '$KEY '),
  gateway: fc.constantFrom('multisafepay', 'nexi', 'volt', 'NEXI', ' volt ', 'paypal', ''),
  gatewayApiKey: GW('gatewayApiKey'),
  gatewaySecretKey: GW('gatewaySecretKey'),
  gatewayUsername: GW('gatewayUsername'),
  gatewayPassword: GW('gatewayPassword'),
  gatewayNotificationKey: GW('gatewayNotificationKey'),
  extId: fc.oneof(fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 30 }), fc.constantFrom('ORD-1', '')),
  orderAmount: fc.oneof(
    fc.integer({ min: 1, max: 10_000_000 }).map(String),
    fc.constantFrom('100,50', '-1', '0', '1e3', '999999999999999', '9999999999999999', ' 100 ', '1.5'),
  ),
  orderCurrency: fc.constantFrom('EUR', 'EUR', 'GBP', 'JPY', 'eur', 'XXX', '', 'EURO'),
  orderDescription: fc.constantFrom('testIOS', '', 'Ordine 42 - Rossi', 'caffè <b>', 'a'.repeat(201), "l'ordine (n. 5), 10/2"),
  expDate: fc.constantFrom(
    '$TOMORROW',
    '$TOMORROW',
    '$TOMORROW 12:00:00',
    '2021-10-25',
    '30/09/2022',
    '2030-02-30',
    '$TOMORROW 25:00:00',
    '9999-12-31 23:59:59',
    '2030-01-01T10:00',
  ),
  completedUrl: fc.constantFrom('', 'https://shop.example/ok', 'javascript:alert(1)', 'http://', 'ftp://x'),
  canceledUrl: fc.constantFrom('', 'https://shop.example/ko', 'not a url'),
  date: fc.constantFrom('$TODAY', '$TOMORROW', '2024-01-01 00:00:00', '', '2024-13-01', '1969-12-31'),
  allnotifications: fc.constantFrom('true', 'false', '1', '0', 'TRUE', 'yes', ''),
  datefrom: fc.constantFrom('$TODAY', '2024-01-01', '2024-01-01 00:00:00', '', '2024-02-30', '0000-01-01'),
  dateto: fc.constantFrom('$TOMORROW', '2024-01-01', '9999-12-31 23:59:59', '', 'tomorrow'),
};

/** A documented name in any case (the seed writes `gatewayusername`), or another name. */
const fieldName = (name: string) =>
  fc.oneof(
    { arbitrary: fc.constant(name), weight: 6 },
    { arbitrary: fc.constantFrom(name.toLowerCase(), name.toUpperCase(), `${name}[]`, ` ${name}`), weight: 1 },
  );

const field: fc.Arbitrary<[string, string]> = fc.oneof(
  {
    arbitrary: fc
      .constantFrom(...FIELDS)
      .chain((name) => fc.tuple(fieldName(name), fc.oneof({ arbitrary: VALUES[name], weight: 5 }, { arbitrary: nasty, weight: 1 }))),
    weight: 12,
  },
  { arbitrary: fc.tuple(fc.oneof(anyString(12), fc.constantFrom('__proto__', 'constructor', 'success', 'key', '')), nasty), weight: 1 },
);

type Broken = 'none' | 'truncated' | 'wrong-boundary' | 'no-boundary' | 'no-disposition' | 'file-part' | 'huge-field' | 'many-parts';

interface Case {
  method: string;
  prefix: '/api' | '/test/api';
  call: string;
  slash: boolean;
  encoding: 'form' | 'multipart' | 'json' | 'raw' | 'none';
  broken: Broken;
  contentType: string | undefined;
  raw: Buffer;
  /** Start from a complete, valid request of the call (then `fields` adds to it or spoils it). */
  complete: boolean;
  gateway: 'multisafepay' | 'nexi' | 'volt';
  fields: Array<[string, string]>;
  headers: Record<string, string>;
}

const cases: fc.Arbitrary<Case> = fc.record({
  method: fc.oneof({ arbitrary: fc.constant('POST'), weight: 20 }, { arbitrary: fc.constantFrom('GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'), weight: 1 }),
  prefix: fc.constantFrom('/api' as const, '/test/api' as const, '/test/api' as const),
  call: fc.oneof(
    { arbitrary: fc.constantFrom(...CALLS), weight: 20 },
    { arbitrary: fc.constantFrom('GET_LINK', 'get_everything', 'get_link/x', '', 'get_link%00', '..%2Fget_link'), weight: 1 },
  ),
  slash: fc.boolean(),
  encoding: fc.constantFrom('form', 'form', 'form', 'multipart', 'multipart', 'json', 'raw', 'none'),
  broken: fc.oneof(
    { arbitrary: fc.constant('none' as const), weight: 8 },
    { arbitrary: fc.constantFrom<Broken>('truncated', 'wrong-boundary', 'no-boundary', 'no-disposition', 'file-part', 'huge-field', 'many-parts'), weight: 2 },
  ),
  contentType: fc.option(contentType(['application/x-www-form-urlencoded', 'multipart/form-data; boundary=----fuzz']), { nil: undefined, freq: 4 }),
  raw: fc.uint8Array({ maxLength: 600 }).map((b) => Buffer.from(b)),
  complete: fc.boolean(),
  gateway: fc.constantFrom('multisafepay' as const, 'nexi' as const, 'volt' as const),
  fields: fc.array(field, { maxLength: 8 }),
  headers: extraHeaders(2),
});

const today = () => formatOnpayDate(new Date()).slice(0, 10);
const tomorrow = () => formatOnpayDate(new Date(Date.now() + 86_400_000)).slice(0, 10);

/**
 * Resolves the placeholders. Production (`/api`) get_link never gets the partner's key: a valid request there opens
 * the link at the acquirer's live API, which a test must not call.
 */
let extIds = 0;

/** A complete, valid request of each call, in placeholders. */
function completeFields(c: Case): Array<[string, string]> {
  const gw: Array<[string, string]> = [
    ['gateway', c.gateway],
    ...['gatewayApiKey', 'gatewaySecretKey', 'gatewayUsername', 'gatewayPassword', 'gatewayNotificationKey'].map((n): [string, string] => [n, `$GW:${n}`]),
  ];
  switch (c.call) {
    case 'get_link':
      return [
        ['key', '$KEY'],
        ...gw,
        ['extId', `FZ-${FUZZ_SEED}-${extIds++}`],
        ['orderAmount', '2500'],
        ['orderCurrency', 'EUR'],
        ['orderDescription', 'Ordine 42'],
        ['expDate', '$TOMORROW'],
      ];
    case 'get_notifications':
      return [['key', '$KEY'], ...gw.slice(0, 3), ['allnotifications', 'true']];
    case 'get_users':
      return [
        ['key', '$KEY'],
        ['datefrom', '$TODAY'],
        ['dateto', '$TOMORROW'],
      ];
    case 'get_payment_method':
      return [['key', '$KEY']];
    case 'get_onpay_key':
      return [['key', '$ACTIVATION']];
    default:
      return [['key', '$KEY']];
  }
}

function resolve(c: Case): Array<[string, string]> {
  const fields = c.complete ? [...completeFields(c), ...c.fields] : c.fields;
  // The last value of a repeated name wins (as PHP reads a form): the acquirer whose credentials are sent.
  const gatewayValue =
    fields
      .filter(([n]) => n.toLowerCase() === 'gateway')
      .at(-1)?.[1]
      .trim()
      .toLowerCase() ?? 'multisafepay';
  const creds = gatewayFields[gatewayValue] ?? gatewayFields.multisafepay!;
  const liveLink = c.prefix === '/api' && c.call === 'get_link';
  return fields.map(([n, v]) => {
    let value = v.replace('$TOMORROW', tomorrow()).replace('$TODAY', today());
    if (value.startsWith('$KEY')) value = liveLink ? 'opk_not_for_live_links' : value.replace('$KEY', key);
    if (value === '$ACTIVATION') value = activationKeys[n.length % activationKeys.length] ?? 'opa_none';
    if (value.startsWith('$GW:')) value = creds[value.slice(4)] ?? '';
    return [n, value];
  });
}

const BOUNDARY = '----fuzzBoundary7MA4YWxkTrZu0gW';

function multipart(fields: Array<[string, string]>, broken: Broken): { body: Buffer; type: string } {
  const parts = fields.map(([n, v]) =>
    broken === 'no-disposition'
      ? `--${BOUNDARY}\r\nContent-Type: text/plain\r\n\r\n${v}\r\n`
      : `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${n.replace(/["\r\n]/g, '_')}"\r\n\r\n${v}\r\n`,
  );
  if (broken === 'file-part')
    parts.push(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="key"; filename="key.txt"\r\nContent-Type: text/plain\r\n\r\n${key}\r\n`);
  if (broken === 'huge-field') parts.push(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="orderDescription"\r\n\r\n${'a'.repeat(9000)}\r\n`);
  if (broken === 'many-parts') for (let i = 0; i < 70; i++) parts.push(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="f${i}"\r\n\r\nx\r\n`);
  let text = `${parts.join('')}--${BOUNDARY}--\r\n`;
  if (broken === 'truncated') text = text.slice(0, Math.floor(text.length / 2));
  const type =
    broken === 'wrong-boundary'
      ? 'multipart/form-data; boundary=other'
      : broken === 'no-boundary'
        ? 'multipart/form-data'
        : `multipart/form-data; boundary=${BOUNDARY}`;
  return { body: Buffer.from(text, 'utf8'), type };
}

function request(c: Case) {
  const fields = resolve(c);
  let body: Buffer | undefined;
  let type: string | undefined;
  switch (c.encoding) {
    case 'form':
      body = Buffer.from(fields.map(([n, v]) => `${percentEncode(n)}=${percentEncode(v)}`).join('&'));
      type = 'application/x-www-form-urlencoded';
      break;
    case 'multipart':
      ({ body, type } = multipart(fields, c.broken));
      break;
    case 'json':
      body = Buffer.from(JSON.stringify(Object.fromEntries(fields)));
      type = 'application/json';
      break;
    case 'raw':
      body = c.raw;
      break;
    case 'none':
      break;
  }
  // Mostly the encoding's own type; sometimes another one (a form sent as multipart, garbage, none at all).
  const headers: Record<string, string> = {
    ...c.headers,
    ...(c.contentType !== undefined ? { 'content-type': c.contentType } : type ? { 'content-type': type } : {}),
  };
  return client.request({ method: c.method, path: `${c.prefix}/${c.call}${c.slash ? '/' : ''}`, headers, body: c.method === 'GET' ? undefined : body });
}

const isString = (v: unknown) => typeof v === 'string';

/** Always JSON; a refusal in the call's field, or a success in the call's documented shape. */
function check(c: Case, r: RawResponse): string | undefined {
  if (r.error) return `no HTTP response (${r.error})`;
  if (r.status >= 500) return `HTTP ${r.status}`;
  const type = String(r.headers['content-type'] ?? '');
  if (!/^application\/json/.test(type)) return `HTTP ${r.status} with ${type || 'no Content-Type'}${/<html/i.test(r.text) ? ' (an HTML page)' : ''}`;
  let a: Record<string, unknown>;
  try {
    a = JSON.parse(r.text);
  } catch {
    return 'the answer is not JSON';
  }
  if (a.success === 'false') {
    if (r.status >= 300 && r.status < 400) return `HTTP ${r.status} refusal`;
    // get_link answers its refusals in `error` with `link: null`; the others (and unknown routes) in `errors`.
    const message = a.error ?? a.errors;
    if (!isString(message) || message === '') return `a refusal without its message (${Object.keys(a).join()})`;
    if (c.call === 'get_link' && c.method === 'POST' && (!('error' in a) || a.link !== null)) return 'a get_link refusal without error and link: null';
    if (r.status === 200 && c.call !== 'get_link' && 'error' in a) return `a ${c.call} refusal in error, not errors`;
    return undefined;
  }
  if (a.success !== 'true') return `success is ${JSON.stringify(a.success)}`;
  if (r.status !== 200) return `success with HTTP ${r.status}`;
  if (c.method !== 'POST') return `success for ${c.method}`;
  switch (c.call) {
    case 'get_link':
      return isString(a.extId) && isString(a.orderId) && a.orderId !== '' && isString(a.link) && /^https?:\/\//.test(a.link as string)
        ? undefined
        : `get_link success shape ${r.text.slice(0, 100)}`;
    case 'get_notifications':
      return Array.isArray(a.notifications) ? undefined : 'get_notifications success without notifications';
    case 'get_users':
      return Array.isArray(a.userslist) && a.status === 'true' ? undefined : 'get_users success shape';
    case 'get_payment_method': {
      const list = a.payment_method_list as Array<Record<string, unknown>>;
      return Array.isArray(list) && list.every((m) => isString(m.code_number) && isString(m.code_description) && isString(m.code_number_merged))
        ? undefined
        : 'get_payment_method success shape';
    }
    case 'get_onpay_key':
      return isString(a.onpaykey) && /^opk_/.test(a.onpaykey as string) ? undefined : 'get_onpay_key success shape';
    default:
      return `success for an unknown call ${c.call}`;
  }
}

describe('the OnPay API (/api and /test/api): always JSON, success "false" with the message or a documented success, never a 5xx', () => {
  it(`${FUZZ_HTTP_RUNS} generated calls (five calls × two prefixes; arbitrary fields, names in any case, encodings and Content-Types)`, async (t) => {
    const logsFrom = hub.logs.length;
    const successes: Record<string, number> = {};
    const result = await fuzzHttp({
      arbitrary: cases,
      send: request,
      check: (c, r) => {
        const problem = check(c, r);
        if (!problem && r.text.includes('"success":"true"')) successes[`${c.prefix}/${c.call}`] = (successes[`${c.prefix}/${c.call}`] ?? 0) + 1;
        return problem;
      },
    });
    t.diagnostic(
      `${result.cases} cases, INCASSO_FUZZ_SEED=${FUZZ_SEED}, answers by HTTP status ${JSON.stringify(result.statuses)}; successes ${JSON.stringify(successes)}`,
    );
    const errors = errorLogLines(hub, logsFrom);
    assert.equal(result.failures.length, 0, `${describeFailures('OnPay API', result)}\nerror log lines:\n${describeLogLines(errors)}`);
    assert.equal(errors.length, 0, `the fuzz made the hub log ${errors.length} error lines:\n${describeLogLines(errors)}`);
    // The valid paths were reached (every read call succeeded somewhere), and a one-time key worked at most once.
    if (FUZZ_HTTP_RUNS >= 2000)
      for (const call of ['get_link', 'get_notifications', 'get_users', 'get_payment_method'])
        assert.ok((successes[`/test/api/${call}`] ?? 0) > 0, `no successful ${call}: ${JSON.stringify(successes)}`);
    assert.ok((successes['/test/api/get_onpay_key'] ?? 0) + (successes['/api/get_onpay_key'] ?? 0) <= 3, JSON.stringify(successes));
    assert.equal(successes['/api/get_link'] ?? 0, 0, 'no live link was opened');
  });
});

describe('header values and methods the router sees first: still JSON', () => {
  it('a Content-Type the parser cannot read, an undecodable path, a method or path the router does not match', async () => {
    const wrong: string[] = [];
    for (const [method, path, headers] of [
      ['POST', '/test/api/get_link/', { 'content-type': 'multipart/form-data; boundary=' }],
      ['POST', '/test/api/get_link/', { 'content-type': 'application/x-www-form-urlencoded; charset=utf-16' }],
      ['POST', '/test/api/%zz/', {}],
      ['POST', '/api/get_link/%C0%80', {}],
      ['POST', `/test/api/${'x'.repeat(2000)}/`, {}],
      // found by the fuzz: a route the router does not match, with a body only the native API's parsers read
      ['POST', '/test/api/', { 'content-type': 'garbage' }],
      ['POST', '/test/api/get_link%00', { 'content-type': 'text/x-fuzz' }],
      ['OPTIONS', '/api/get_payment_method', { 'content-type': 'application/json' }],
      ['PUT', '/test/api/get_users/', { 'content-type': 'application/json' }],
    ] as const) {
      const r = await client.request({ method, path, headers: { ...headers }, body: 'key=x' });
      const call = /^\/(?:test\/)?api\/(get_link)\/$/.exec(path)?.[1] ?? '';
      const problem = check(
        {
          method,
          prefix: '/test/api',
          call,
          slash: true,
          encoding: 'raw',
          broken: 'none',
          contentType: undefined,
          raw: Buffer.alloc(0),
          complete: false,
          gateway: 'nexi',
          fields: [],
          headers: {},
        },
        r,
      );
      if (problem) wrong.push(`${method} ${path.slice(0, 40)}: ${problem} ${r.text.slice(0, 100)}`);
    }
    assert.deepEqual(wrong, []);
  });
});
