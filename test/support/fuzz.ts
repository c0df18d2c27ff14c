// Shared machinery for the hostile-input suites (test/hostile/): run counts and seeds, a keep-alive HTTP client
// that sends exactly the bytes a case describes, a small promise pool, a runner that fires thousands of
// generated HTTP cases and groups what went wrong, and arbitraries for the nastier corners of text and HTTP.
import http from 'node:http';
import fc from 'fast-check';
import type { TestHub } from './hub.js';

/** Cases per fuzzed surface; `INCASSO_FUZZ_RUNS=100000` for a long soak, `=200` while editing a suite. */
export const FUZZ_RUNS = Number(process.env.INCASSO_FUZZ_RUNS ?? 10000);

/**
 * Cases per fuzzed HTTP surface (a hub answering real requests, most of them reaching its database): fewer by
 * default than a pure property's, as each costs milliseconds, not microseconds, and every run of the suite sends
 * them on both stores under a fresh seed, so the cases explored keep adding up. `INCASSO_FUZZ_RUNS` sets both.
 */
export const FUZZ_HTTP_RUNS = Number(process.env.INCASSO_FUZZ_RUNS ?? 3000);

/**
 * One seed per process, printed with every failure: `INCASSO_FUZZ_SEED=<seed>` replays the same cases. Each run
 * picks a fresh seed so that the suites keep exploring instead of replaying one fixed sample forever.
 */
export const FUZZ_SEED = process.env.INCASSO_FUZZ_SEED !== undefined ? Number(process.env.INCASSO_FUZZ_SEED) : Math.floor(Math.random() * 0x7fffffff);

/** fast-check parameters for a pure property. */
export function fuzzParameters(numRuns = FUZZ_RUNS): fc.Parameters<unknown> {
  return { numRuns, seed: FUZZ_SEED };
}

// ---------------------------------------------------------------------------------------------------
// HTTP

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** Set when no HTTP response came back (connection reset, timeout). */
  error?: string;
}

export interface RawRequest {
  method: string;
  /** Sent as is: must already be percent-encoded (Node refuses spaces and characters above U+00FF). */
  path: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** Send the body in two writes without Content-Length (Transfer-Encoding: chunked). */
  chunked?: boolean;
}

/** Keep-alive HTTP/1.1 client on node:http: far cheaper per request than fetch, and it sends odd bytes as given. */
export function rawHttpClient(baseUrl: string, maxSockets = 16) {
  const url = new URL(baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets });
  function request(r: RawRequest, timeoutMs = 30_000): Promise<RawResponse> {
    return new Promise((resolve) => {
      const body = r.body === undefined ? undefined : Buffer.isBuffer(r.body) ? r.body : Buffer.from(r.body, 'utf8');
      const headers: Record<string, string | number> = { ...(r.headers ?? {}) };
      if (body !== undefined && !r.chunked) headers['content-length'] = body.length;
      let req: http.ClientRequest;
      try {
        req = http.request({ host: url.hostname, port: url.port, method: r.method, path: r.path, headers, agent });
      } catch (e) {
        // The case itself is malformed for Node's client (a test bug, not a hub bug): say so loudly.
        throw new Error(`the HTTP client refused the case ${JSON.stringify({ ...r, body: undefined }).slice(0, 300)}: ${(e as Error).message}`);
      }
      const timer = setTimeout(() => req.destroy(new Error(`no response within ${timeoutMs} ms`)), timeoutMs);
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', (e) => {
          clearTimeout(timer);
          resolve({ status: 0, headers: {}, text: '', error: e.message });
        });
      });
      req.on('error', (e) => {
        clearTimeout(timer);
        resolve({ status: 0, headers: {}, text: '', error: e.message });
      });
      if (body !== undefined && r.chunked && body.length > 1) {
        const half = Math.floor(body.length / 2);
        req.write(body.subarray(0, half));
        req.end(body.subarray(half));
      } else {
        req.end(body);
      }
    });
  }
  return { request, close: () => agent.destroy() };
}

/** Runs `fn` over `items` with at most `concurrency` calls in flight. */
export async function forEachConcurrently<T>(items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i]!, i);
      }
    }),
  );
}

export interface FuzzFailure<C> {
  index: number;
  input: C;
  problem: string;
  response: RawResponse;
}

export interface HttpFuzzResult<C> {
  cases: number;
  failures: FuzzFailure<C>[];
  /** How many answers each HTTP status got (shows the cases reached the interesting paths). */
  statuses: Record<string, number>;
}

/**
 * Generates `runs` cases from `arbitrary` (deterministically from `seed`), sends them `concurrency` at a time and
 * asks `check` about each answer (a string names what is wrong, undefined means fine). Cases are generated and
 * sent in chunks so that ten thousand of them never sit in memory at once.
 */
export async function fuzzHttp<C>(options: {
  arbitrary: fc.Arbitrary<C>;
  send: (input: C) => Promise<RawResponse>;
  check: (input: C, response: RawResponse) => string | undefined;
  runs?: number;
  seed?: number;
  concurrency?: number;
}): Promise<HttpFuzzResult<C>> {
  const runs = options.runs ?? FUZZ_HTTP_RUNS;
  const seed = options.seed ?? FUZZ_SEED;
  const failures: FuzzFailure<C>[] = [];
  const statuses: Record<string, number> = {};
  const chunk = 1000;
  for (let start = 0, n = 0; start < runs; start += chunk, n++) {
    const inputs = fc.sample(options.arbitrary, { numRuns: Math.min(chunk, runs - start), seed: (seed + n * 7919) | 0 });
    await forEachConcurrently(inputs, options.concurrency ?? 16, async (input, i) => {
      const response = await options.send(input);
      const key = response.error ? 'no response' : String(response.status);
      statuses[key] = (statuses[key] ?? 0) + 1;
      let problem: string | undefined;
      try {
        problem = options.check(input, response);
      } catch (e) {
        problem = `check threw: ${(e as Error).message}`;
      }
      if (problem !== undefined) failures.push({ index: start + i, input, problem, response });
    });
  }
  return { cases: runs, failures, statuses };
}

/** Renders an input for a failure message (Buffers as base64, long strings cut). */
export function show(value: unknown, max = 600): string {
  const text = JSON.stringify(value, (_k, v) => {
    if (v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data)) {
      return `<Buffer ${Buffer.from((v as { data: number[] }).data)
        .toString('base64')
        .slice(0, 200)}>`;
    }
    if (v instanceof Uint8Array) return `<bytes ${Buffer.from(v).toString('base64').slice(0, 200)}>`;
    if (typeof v === 'string' && v.length > 300) return `${v.slice(0, 300)}…(${v.length} chars)`;
    return v;
  });
  return text === undefined ? String(value) : text.length > max ? `${text.slice(0, max)}…` : text;
}

/** One line per kind of problem, with how often it happened and the first example. */
export function describeFailures<C>(name: string, result: HttpFuzzResult<C>): string {
  const groups = new Map<string, FuzzFailure<C>[]>();
  for (const f of result.failures) groups.set(f.problem, [...(groups.get(f.problem) ?? []), f]);
  const lines = [...groups.entries()]
    .sort((a, b) => b[1].length - a[1].length)
    .slice(0, 12)
    .map(([problem, fs]) => {
      const first = fs.sort((a, b) => a.index - b.index)[0]!;
      return `  • ${problem} — ${fs.length}× (case #${first.index}); e.g. input ${show(first.input)}\n    → ${first.response.status} ${String(first.response.headers['content-type'] ?? '')} ${first.response.text.slice(0, 240)}`;
    });
  return `${name}: ${result.failures.length} of ${result.cases} cases failed (INCASSO_FUZZ_SEED=${FUZZ_SEED}; statuses ${JSON.stringify(result.statuses)})\n${lines.join('\n')}`;
}

// ---------------------------------------------------------------------------------------------------
// Logs

/** Log lines at error level or above (pino: 50 error, 60 fatal) written since `from`, not `allowed`. */
export function errorLogLines(hub: TestHub, from: number, allowed: (line: Record<string, unknown>) => boolean = () => false): Array<Record<string, unknown>> {
  return hub.logs.slice(from).filter((l) => (typeof l.level === 'number' ? l.level >= 50 : true) && !allowed(l));
}

export function describeLogLines(lines: Array<Record<string, unknown>>, max = 8): string {
  const groups = new Map<string, number>();
  for (const l of lines) {
    const err = l.err as { type?: string; message?: string } | undefined;
    const key = `${String(l.msg ?? l.unparsed ?? '')}${err ? ` [${err.type}: ${err.message}]` : ''}`;
    groups.set(key, (groups.get(key) ?? 0) + 1);
  }
  return [...groups.entries()]
    .slice(0, max)
    .map(([k, n]) => `  • ${n}× ${k.slice(0, 300)}`)
    .join('\n');
}

// ---------------------------------------------------------------------------------------------------
// Arbitraries

/** Strings that break naive code: NUL, lone surrogates, non-characters, bidi overrides, markup, escapes, numbers. */
export const NASTY_STRINGS: readonly string[] = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udfff',
  'a\ud83db',
  '\uffff',
  '\ufffe',
  '\ufeffBOM',
  '\u202egnp.exe',
  '\u2028',
  '💳💸',
  'ȘȚăîâ',
  '%00',
  '%',
  '%zz',
  '%C0%80',
  '+',
  '../../etc/passwd',
  "'; DROP TABLE payments; --",
  '" OR 1=1 --',
  '<script>alert(1)</script>',
  ']]>',
  '<![CDATA[',
  '&amp;',
  '&lol9;',
  '${jndi:ldap://x/a}',
  '{{7*7}}',
  '\r\n',
  '\t',
  '\u0001\u0002\u001f',
  'null',
  'undefined',
  'NaN',
  '-0',
  '1e309',
  '0x10',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'x'.repeat(1000),
  'é'.repeat(300),
];

/** Any string: arbitrary UTF-16 code units (lone surrogates included), graphemes, ASCII, and the nasty list. */
export const anyString = (maxLength = 60): fc.Arbitrary<string> =>
  fc.oneof(
    { arbitrary: fc.constantFrom(...NASTY_STRINGS), weight: 3 },
    { arbitrary: fc.string({ unit: 'binary', maxLength }), weight: 2 },
    { arbitrary: fc.string({ unit: 'grapheme', maxLength }), weight: 2 },
    { arbitrary: fc.string({ maxLength }), weight: 2 },
    { arbitrary: fc.string({ unit: fc.constantFrom('\u0000', '\ud800', '\udc00', 'a', '%', '&', '<', '\\', '"'), maxLength }), weight: 1 },
  );

const TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".split('');

/** An HTTP token (header name, media type part). */
export const httpToken = (maxLength = 20): fc.Arbitrary<string> => fc.string({ unit: fc.constantFrom(...TCHARS), minLength: 1, maxLength });

/** Headers a fuzz case must not set: they frame the message, and the client owns them. */
const FRAMING_HEADERS = new Set([
  'content-length',
  'transfer-encoding',
  'connection',
  'host',
  'expect',
  'upgrade',
  'keep-alive',
  'te',
  'trailer',
  'proxy-connection',
  'http2-settings',
  'content-type',
  'authorization',
]);

/** A header value Node will send: tab, printable ASCII and obs-text (bytes 0x80–0xFF, read as latin1). */
export const headerValue = (maxLength = 120): fc.Arbitrary<string> =>
  fc.oneof(
    fc.string({
      unit: fc.oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0x80, max: 0xff }), fc.constant(0x09)).map((c) => String.fromCharCode(c)),
      maxLength,
    }),
    fc.constantFrom(
      '',
      ' ',
      '\xff\xfe',
      'gzip',
      'br, deflate',
      '*/*',
      'application/json',
      '-1',
      '0',
      '99999999999999999999',
      'x'.repeat(4000),
      '%00',
      '\\u0000',
      'ÿ'.repeat(64),
    ),
  );

/** A few arbitrary extra headers (never the framing ones, nor Content-Type and Authorization, which cases set themselves). */
export const extraHeaders = (maxKeys = 5): fc.Arbitrary<Record<string, string>> =>
  fc
    .array(
      fc.tuple(
        fc.oneof(
          httpToken(),
          fc.constantFrom(
            'accept',
            'accept-language',
            'content-encoding',
            'x-forwarded-for',
            'x-forwarded-proto',
            'x-forwarded-host',
            'forwarded',
            'cookie',
            'user-agent',
            'origin',
            'referer',
            'x-real-ip',
            'incasso-merchant',
            'idempotency-key',
            'verification-token',
            'webhook-signature',
            'range',
            'if-none-match',
            'x-http-method-override',
          ),
        ),
        headerValue(),
      ),
      { maxLength: maxKeys },
    )
    .map((pairs) => Object.fromEntries(pairs.filter(([k]) => !FRAMING_HEADERS.has(k.toLowerCase()))));

/** A Content-Type header: the expected ones, their odd spellings, and garbage; undefined means no header. */
export const contentType = (expected: readonly string[]): fc.Arbitrary<string | undefined> =>
  fc.oneof(
    { arbitrary: fc.constantFrom(...expected), weight: 10 },
    {
      arbitrary: fc.constantFrom(
        undefined,
        '',
        'application/x-www-form-urlencoded; charset=ISO-8859-2',
        'APPLICATION/X-WWW-FORM-URLENCODED',
        'application/json',
        'application/json; charset=utf-16',
        'application/merge-patch+json',
        'text/xml',
        'application/xml; charset=utf-8',
        'text/plain',
        'multipart/form-data; boundary=----fuzz',
        'application/octet-stream',
        '*/*',
        'application/*',
        ';',
        'application/json;;;',
        'text/html; charset="utf-8"',
        'application/x-www-form-urlencoded; charset',
        'application/x-www-form-urlencoded, application/json',
      ),
      weight: 3,
    },
    {
      arbitrary: fc
        .tuple(httpToken(), httpToken(), fc.option(headerValue(40), { nil: undefined }))
        .map(([a, b, p]) => `${a}/${b}${p === undefined ? '' : `; ${p}`}`),
      weight: 1,
    },
    { arbitrary: headerValue(80), weight: 1 },
  );

/** Percent-encodes every UTF-8 byte of a string that is not unreserved; lone surrogates become %EF%BF%BD like any UTF-8 encoder would. */
export function percentEncode(s: string): string {
  return [...Buffer.from(s, 'utf8')]
    .map((b) => (/[A-Za-z0-9\-._~]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`))
    .join('');
}

/** A path segment as a client could send it: well-formed percent-encoding of any string, or raw path characters. */
export const pathSegment = (maxLength = 60): fc.Arbitrary<string> =>
  fc.oneof(
    { arbitrary: anyString(maxLength).map(percentEncode), weight: 4 },
    { arbitrary: fc.string({ unit: fc.constantFrom(..."abcxyzABC0189-._~!$&'()*+,;=:@".split('')), maxLength }), weight: 2 },
    { arbitrary: fc.constantFrom('%00', '%2F', '%2e%2e', '..', '.', '%20', '%25', '%3Cscript%3E', '%E2%80%AE', '%EF%BF%BD', '%F0%9F%92%B3'), weight: 1 },
  );

// ---------------------------------------------------------------------------------------------------
// Damaged base64 (envelope fields)

/** Damage done to a base64 field (plain data, so that counterexamples print readably). */
export type Damage =
  | { op: 'xor'; at: number; with: number }
  | { op: 'truncate'; at: number }
  | { op: 'insert'; at: number; text: string }
  | { op: 'unpad' | 'urlsafe' | 'wrap' | 'double' };

export const damageBase64: fc.Arbitrary<Damage> = fc.oneof(
  fc.record({ op: fc.constant('xor' as const), at: fc.nat(), with: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), text: fc.constantFrom(' ', '+', '-', '_', '=', '\r\n', '\t', '%2B', '\u0000', 'é') }),
  fc.record({ op: fc.constantFrom('unpad' as const, 'urlsafe' as const, 'wrap' as const, 'double' as const) }),
);

export function damage(b64: string, d: Damage): string {
  switch (d.op) {
    case 'xor': {
      const b = Buffer.from(b64, 'base64');
      if (b.length > 0) b[d.at % b.length] ^= d.with;
      return b.toString('base64');
    }
    case 'truncate':
      return b64.slice(0, d.at % (b64.length + 1));
    case 'insert': {
      const i = d.at % (b64.length + 1);
      return b64.slice(0, i) + d.text + b64.slice(i);
    }
    case 'unpad':
      return b64.replace(/=+$/, '');
    case 'urlsafe':
      return b64.replace(/\+/g, '-').replace(/\//g, '_');
    case 'wrap':
      return b64.replace(/(.{76})/g, '$1\r\n');
    case 'double':
      return b64 + b64;
  }
}
