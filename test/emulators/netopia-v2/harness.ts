// Test harness for the NETOPIA v2 emulator: a Fastify app with the emulator mounted on a real port, an API
// client that speaks NETOPIA v2 the way its SDKs do (raw API key in Authorization, JSON bodies), and a
// merchant server that receives IPNs as raw bytes, verifies their Verification-token with the published
// platform key, and answers what the test scripts. Everything is observed over HTTP, as a merchant would.
import type http from 'node:http';
import { createHash, createPublicKey } from 'node:crypto';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import type { Store } from '../../../src/store/store.js';
import { registerNetopiaV2Emulator, type NetopiaV2EmulatorOptions } from '../../../emulators/netopia-v2/index.js';
import { jsonOrUndefined, MerchantServer, newOrderId, serveEmulator, type ServedEmulator } from '../../support/emulator-harness.js';

export { eventually, newOrderId, postForm } from '../../support/emulator-harness.js';

export const PREFIX = '/sandbox/netopia/v2';

/** Short delays so that retries happen within a test. */
export const FAST_RETRY = { baseDelayMs: 50, pollMs: 20, timeoutMs: 2000, maxAttempts: 20 };

export interface Emulator extends ServedEmulator {
  /** http://127.0.0.1:port/sandbox/netopia/v2 — the API base a client is configured with. */
  base: string;
}

export async function startEmulator(store: Store, ipnRetry: NetopiaV2EmulatorOptions['ipnRetry'] = FAST_RETRY): Promise<Emulator> {
  const served = await serveEmulator((app, publicUrl) => registerNetopiaV2Emulator(app, { db: store.db, publicUrl, ipnRetry }));
  return { ...served, base: served.origin + PREFIX };
}

export interface Account {
  api_key: string;
  pos_signature: string;
  notify_public_key_pem: string;
  name: string;
}

export async function createAccount(emulator: Emulator, body: Record<string, unknown> = {}): Promise<Account> {
  const response = await fetch(`${emulator.base}/accounts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (response.status !== 201) throw new Error(`account creation answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as Account;
}

export interface ApiAnswer {
  status: number;
  json: any;
  text: string;
  contentType: string;
}

/** One NETOPIA v2 API call: POST JSON with `Authorization: <api key>` (or the header given). */
export async function api(emulator: Emulator, path: string, body: unknown, auth: string | undefined, headers: Record<string, string> = {}): Promise<ApiAnswer> {
  const response = await fetch(emulator.base + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(auth === undefined ? {} : { authorization: auth }), ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  const json = jsonOrUndefined(text);
  return { status: response.status, json, text, contentType: response.headers.get('content-type') ?? '' };
}

/** What the merchant answers to one IPN. */
export type ScriptedReply = 'ok' | 'legacy-ok' | 'temporary' | 'permanent' | 'http500' | 'unreadable' | 'hang';

export interface ReceivedIpn {
  raw: Buffer;
  headers: http.IncomingHttpHeaders;
  body: any;
  /** Outcome of verifying the Verification-token with the platform key the emulator publishes. */
  verified: { ok: true; claims: Record<string, unknown>; header: Record<string, unknown> } | { ok: false; reason: string };
  reply: ScriptedReply;
}

/**
 * The merchant's side. `POST /ipn` records each IPN raw, verifies it (RS512 pinned, iss, aud = the POS
 * signature, sub = base64(SHA-512(raw body))) and answers the reply scripted for that orderID (default `ok`:
 * `{"errorType":0,"errorCode":null,"errorMessage":""}`). `POST /back` is the 3-D Secure backUrl and records
 * the posted form; `GET` anything is the shop's return page.
 */
export class Merchant extends MerchantServer<ReceivedIpn> {
  readonly backPosts: Array<Record<string, string>> = [];
  private readonly scripts = new Map<string, ScriptedReply[]>();
  private platformKeyPem = '';
  private posSignatures: string[] = [];

  get notifyUrl(): string {
    return `${this.url}/ipn`;
  }

  /** The key IPNs are verified with and the POS signatures accepted as audience. */
  trust(platformKeyPem: string, posSignature: string): void {
    this.platformKeyPem = platformKeyPem;
    this.posSignatures.push(posSignature);
  }

  /** The replies to the next IPNs of `orderId`, in turn; after them, `ok`. */
  script(orderId: string, replies: ScriptedReply[]): void {
    this.scripts.set(orderId, [...replies]);
  }

  ipnsFor(orderId: string): ReceivedIpn[] {
    return this.received.filter((r) => r.body?.order?.orderID === orderId);
  }

  /** Resolves once `orderId` has `count` IPNs (event-driven, with a deadline). */
  async waitForIpns(orderId: string, count: number, timeoutMs = 10_000): Promise<ReceivedIpn[]> {
    await this.until(
      () => this.ipnsFor(orderId).length >= count,
      timeoutMs,
      () => `expected ${count} IPNs for ${orderId}, got ${this.ipnsFor(orderId).length} within ${timeoutMs} ms`,
    );
    return this.ipnsFor(orderId);
  }

  private async verify(raw: Buffer, token: string | undefined): Promise<ReceivedIpn['verified']> {
    if (!token) return { ok: false, reason: 'no Verification-token' };
    try {
      const key = createPublicKey(this.platformKeyPem);
      const { payload, protectedHeader } = await jwtVerify(token, key, { algorithms: ['RS512'], issuer: 'NETOPIA Payments', audience: this.posSignatures });
      const sub = createHash('sha512').update(raw).digest('base64');
      if (payload.sub !== sub) return { ok: false, reason: `sub ${payload.sub} is not base64(SHA-512(body)) ${sub}` };
      return { ok: true, claims: payload as Record<string, unknown>, header: { ...decodeProtectedHeader(token), ...protectedHeader } };
    } catch (err) {
      return { ok: false, reason: err instanceof Error ? err.message : String(err) };
    }
  }

  protected async receive(request: http.IncomingMessage, raw: Buffer, response: http.ServerResponse): Promise<void> {
    if (request.url?.startsWith('/back')) {
      this.backPosts.push(Object.fromEntries(new URLSearchParams(raw.toString('utf8'))));
      response
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
        .end('<!doctype html><title>Authenticated</title><h1>Back at the shop after 3-D Secure</h1>');
      return;
    }
    const body = jsonOrUndefined(raw.toString('utf8'));
    const verified = await this.verify(raw, request.headers['verification-token'] as string | undefined);
    const reply = this.scripts.get(body?.order?.orderID)?.shift() ?? 'ok';
    this.record({ raw, headers: request.headers, body, verified, reply });
    const json = (status: number, value: unknown) => response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
    switch (reply) {
      case 'ok':
        return void json(200, { errorType: 0, errorCode: null, errorMessage: '' });
      case 'legacy-ok':
        return void json(200, { errorCode: 0 });
      case 'temporary':
        return void json(200, { errorType: 1, errorCode: 42, errorMessage: 'database busy' });
      case 'permanent':
        // Some merchants answer their refusal with a 4xx; errorType 2 is what counts.
        return void json(400, { errorType: 2, errorCode: 0x10000102, errorMessage: 'signature mismatch' });
      case 'http500':
        return void response.writeHead(500, { 'content-type': 'text/html' }).end('<h1>Internal Server Error</h1>');
      case 'unreadable':
        return void response.writeHead(200, { 'content-type': 'text/plain' }).end('OK');
      case 'hang':
        return; // never answers; close() ends it
    }
  }
}

export interface StartOptions {
  orderId?: string;
  amount?: unknown;
  currency?: string;
  card?: { account: string; expMonth: number; expYear: number; secretCode: string };
  token?: string;
  data?: Record<string, string>;
  language?: string;
}

/** A start request as NETOPIA's SDKs build it (docs §2.4), hosted unless card data or a token is given. */
export function startBody(account: Account, merchant: Merchant, options: StartOptions = {}): Record<string, any> {
  const instrument = options.card ? { type: 'card', ...options.card } : options.token ? { type: 'card', token: options.token } : { type: 'card' };
  return {
    config: {
      emailTemplate: '',
      emailSubject: '',
      cancelUrl: '',
      notifyUrl: merchant.notifyUrl,
      redirectUrl: `${merchant.url}/return?shop=1`,
      language: options.language ?? 'ro',
    },
    payment: { options: { installments: 0, bonus: 0 }, instrument, data: { BROWSER_USER_AGENT: 'test', IP_ADDRESS: '127.0.0.1' } },
    order: {
      ntpID: '',
      posSignature: account.pos_signature,
      dateTime: new Date().toISOString(),
      description: 'Comanda test: ceai & biscuiți',
      orderID: options.orderId ?? newOrderId(),
      amount: options.amount ?? 25,
      currency: options.currency ?? 'RON',
      billing: {
        email: 'ana+test@example.ro',
        phone: '0722000000',
        firstName: 'Ana',
        lastName: 'Pop',
        city: 'Cluj-Napoca',
        country: 642,
        countryName: 'Romania',
        state: 'Cluj',
        postalCode: '400001',
        details: 'Str. Lungă 1',
      },
      products: [{ name: 'Ceai', code: 'C1', category: 'bauturi', price: 25, vat: 19 }],
      installments: { selected: 0, available: [0] },
      data: options.data ?? { shop: 'ceainaria' },
    },
  };
}

/** An expiry comfortably in the future. */
export function futureExpiry(): { expMonth: number; expYear: number; text: string } {
  const year = new Date().getUTCFullYear() + 3;
  return { expMonth: 12, expYear: year, text: `12/${String(year % 100).padStart(2, '0')}` };
}

export function card(account: string, secretCode = '111', expiry = futureExpiry()): StartOptions['card'] {
  return { account, expMonth: expiry.expMonth, expYear: expiry.expYear, secretCode };
}

/** The hidden fields of each form on a page, with the form's action (enough for the emulator's own pages). */
export function formsOf(page: string): Array<{ action: string; fields: Record<string, string>; button: string }> {
  const unescape = (s: string) =>
    s
      .replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'")
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&amp;/g, '&');
  return [...page.matchAll(/<form[^>]*action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/g)].map((m) => ({
    action: unescape(m[1]!),
    fields: Object.fromEntries([...m[2]!.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)].map((f) => [unescape(f[1]!), unescape(f[2]!)])),
    button: unescape(/<button[^>]*>([^<]*)<\/button>/.exec(m[2]!)?.[1] ?? ''),
  }));
}

export interface DeliveryView {
  id: string;
  payment_status: number;
  code: string;
  body: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  log: Array<{
    attempt: number;
    http_status: number | null;
    reply: string | null;
    outcome: string;
    error: string | null;
    next_retry_at: string | null;
    started_at: string;
  }>;
}

/** The order's delivery log, read with the API key of the account that owns the order. */
export async function orderView(emulator: Emulator, ntpId: string, apiKey: string): Promise<{ order: any; deliveries: DeliveryView[] }> {
  const response = await fetch(`${emulator.base}/orders/${ntpId}`, { headers: { authorization: apiKey } });
  if (response.status !== 200) throw new Error(`order view answered ${response.status}`);
  return (await response.json()) as { order: any; deliveries: DeliveryView[] };
}
