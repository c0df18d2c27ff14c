// Test harness for the NETOPIA v1 emulator: a Fastify app with the emulator mounted on a real port, and a
// merchant confirm server that opens IPNs with the account's private key and answers crc replies the test
// scripts. Everything the emulator does is observed over HTTP, as a merchant would.
import type http from 'node:http';
import type { KeyObject } from 'node:crypto';
import { crcError, crcSuccess } from '../../../src/connectors/netopia-v1/crc-reply.js';
import { loadPrivateKey, loadPublicKey, openEnvelope, sealEnvelope, type EnvelopeCipher } from '../../../src/connectors/netopia-v1/envelope.js';
import { parseIpnXml, type V1Ipn } from '../../../src/connectors/netopia-v1/ipn-xml.js';
import { buildOrderXml, formatTimestamp, type V1Order } from '../../../src/connectors/netopia-v1/order-xml.js';
import type { Store } from '../../../src/store/store.js';
import { registerNetopiaV1Emulator, type NetopiaV1EmulatorOptions } from '../../../emulators/netopia-v1/index.js';
import { futureExpiry, MerchantServer, newOrderId, postForm, serveEmulator, type ServedEmulator } from '../../support/emulator-harness.js';

export { eventually, futureExpiry, newOrderId, postForm } from '../../support/emulator-harness.js';

export const PREFIX = '/sandbox/netopia/v1';

/** Short delays so that retries happen within a test. */
export const FAST_RETRY = { baseDelayMs: 50, pollMs: 20, timeoutMs: 2000, maxAttempts: 20 };

export interface Emulator extends ServedEmulator {
  /** http://127.0.0.1:port/sandbox/netopia/v1 */
  base: string;
  /** The signature of the account that owns a purchase (read from the emulator's table: a test's shortcut). */
  ownerOf(purchase: string): Promise<string | undefined>;
}

export async function startEmulator(store: Store, ipnRetry: NetopiaV1EmulatorOptions['ipnRetry'] = FAST_RETRY): Promise<Emulator> {
  const served = await serveEmulator((app, publicUrl) => registerNetopiaV1Emulator(app, { db: store.db, publicUrl, ipnRetry }));
  const ownerOf = async (purchase: string) =>
    /^\d{1,15}$/.test(purchase)
      ? ((await (store.db as any).selectFrom('emu_netopia_v1_orders').select('signature').where('purchase', '=', purchase).executeTakeFirst())?.signature as
          | string
          | undefined)
      : undefined;
  return { ...served, base: served.origin + PREFIX, ownerOf };
}

/** Every account the harness opened, by signature: their back-office logins. */
const opened = new Map<string, Account>();

/** `Authorization: Basic` with an account's back-office login, as a script logs in. */
export function backOfficeAuth(account: Pick<Account, 'back_office'>): string {
  return `Basic ${Buffer.from(`${account.back_office.login}:${account.back_office.password}`).toString('base64')}`;
}

/** The back-office login a script uses for a purchase: `as`, or the harness's account that owns the order. */
async function loginFor(emulator: Emulator, purchase: string, as?: Account): Promise<Record<string, string>> {
  const account = as ?? opened.get((await emulator.ownerOf(purchase)) ?? '');
  return account ? { authorization: backOfficeAuth(account) } : {};
}

export interface Account {
  signature: string;
  name: string;
  capture: 'auto' | 'manual';
  certificate: string;
  private_key: string;
  payment_url: string;
  /** The back office's login: the signature and a password shown once. */
  back_office: { url: string; login: string; password: string };
}

export async function createAccount(emulator: Emulator, body: Record<string, unknown> = {}): Promise<Account> {
  const response = await fetch(`${emulator.base}/accounts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (response.status !== 201) throw new Error(`account creation answered ${response.status}: ${await response.text()}`);
  const account = (await response.json()) as Account;
  opened.set(account.signature, account);
  return account;
}

/** What the merchant answers to one IPN. */
export type ScriptedReply = 'ok' | 'temporary' | 'permanent' | 'hang' | 'http500' | 'unreadable';

export interface ReceivedIpn {
  ipn: V1Ipn;
  cipher: string | undefined;
  iv: string | undefined;
  reply: ScriptedReply;
}

/**
 * The merchant's side: `POST /confirm` opens each IPN with the private keys it knows, records it, and answers
 * with the reply scripted for that order (default `ok`, a plain `<crc>` echoing the crc). `GET /return…` is
 * the page the customer's browser lands on.
 */
export class Merchant extends MerchantServer<ReceivedIpn> {
  /** Bodies that no known key could open; a correct emulator never produces one. */
  readonly unreadable: string[] = [];
  private readonly scripts = new Map<string, ScriptedReply[]>();
  private readonly keys: KeyObject[] = [];

  get confirmUrl(): string {
    return `${this.url}/confirm`;
  }

  /** The replies to the next IPNs of merchant order `orderId`, in turn; after them, `ok`. */
  script(orderId: string, replies: ScriptedReply[]): void {
    this.scripts.set(orderId, [...replies]);
  }

  addKey(privateKeyPem: string): void {
    this.keys.push(loadPrivateKey(privateKeyPem));
  }

  /** IPNs for one merchant order id, in arrival order. */
  ipnsFor(orderId: string): ReceivedIpn[] {
    return this.received.filter((r) => r.ipn.order.id === orderId);
  }

  /** Resolves once `count` IPNs in total have arrived (event-driven, with a deadline). */
  async waitForIpns(count: number, timeoutMs = 10_000): Promise<void> {
    await this.until(
      () => this.received.length >= count,
      timeoutMs,
      () => `expected ${count} IPNs, got ${this.received.length} within ${timeoutMs} ms`,
    );
  }

  private open(fields: URLSearchParams): V1Ipn | undefined {
    for (const key of this.keys) {
      try {
        const xml = openEnvelope(
          {
            env_key: fields.get('env_key') ?? undefined,
            data: fields.get('data') ?? undefined,
            cipher: fields.get('cipher') ?? undefined,
            iv: fields.get('iv') ?? undefined,
          },
          key,
        );
        return parseIpnXml(xml.toString('utf8'));
      } catch {
        // Another account's key; try the next one.
      }
    }
    return undefined;
  }

  protected receive(_request: http.IncomingMessage, raw: Buffer, response: http.ServerResponse): void {
    const body = raw.toString('latin1');
    const fields = new URLSearchParams(body);
    const ipn = this.open(fields);
    if (!ipn) {
      this.unreadable.push(body);
      response.writeHead(200, { 'content-type': 'application/xml' }).end(crcError(2, 1, 'cannot open'));
      return;
    }
    const reply = this.scripts.get(ipn.order.id)?.shift() ?? 'ok';
    this.record({ ipn, cipher: fields.get('cipher') ?? undefined, iv: fields.get('iv') ?? undefined, reply });
    const xml = (text: string) => response.writeHead(200, { 'content-type': 'application/xml' }).end(text);
    switch (reply) {
      case 'ok':
        return void xml(crcSuccess(ipn.mobilpay.crc));
      case 'temporary':
        return void xml(crcError(1, 42, 'database busy'));
      case 'permanent':
        return void xml(crcError(2, 43, 'unknown order'));
      case 'http500':
        return void response.writeHead(500, { 'content-type': 'text/html' }).end('<h1>Internal Server Error</h1>');
      case 'unreadable':
        return void response.writeHead(200, { 'content-type': 'text/plain' }).end('OK');
      case 'hang':
        return; // never answers; close() ends it
    }
  }
}

/** An order as a third-party client builds it (NETOPIA's PHP library layout). */
export type OrderOverrides = Partial<Omit<V1Order, 'invoice'>> & { invoice?: Partial<V1Order['invoice']> };

export function order(account: Account, merchant: Merchant, overrides: OrderOverrides = {}): V1Order {
  const { invoice, ...rest } = overrides;
  return {
    id: newOrderId(),
    timestamp: formatTimestamp(new Date()),
    signature: account.signature,
    url: { return: `${merchant.url}/return?shop=1`, confirm: merchant.confirmUrl },
    ...rest,
    invoice: {
      currency: 'RON',
      amount: '25.00',
      details: 'Comanda test: ceai & biscuiți',
      billing: { type: 'person', first_name: 'Ana', last_name: 'Pop', email: 'ana+test@example.ro', address: 'Str. Lungă 1', mobile_phone: '0722000000' },
      ...invoice,
    },
  };
}

/** The form fields a merchant's page posts: the order sealed with the account's certificate. */
export function sealOrder(account: Account, v1Order: V1Order, cipher: EnvelopeCipher = 'aes-256-cbc'): Record<string, string> {
  return sealXml(account, buildOrderXml(v1Order), cipher);
}

export function sealXml(account: Account, xml: string, cipher: EnvelopeCipher = 'aes-256-cbc'): Record<string, string> {
  const sealed = sealEnvelope(xml, loadPublicKey(account.certificate), cipher);
  const fields: Record<string, string> = { env_key: sealed.env_key, data: sealed.data, cipher: sealed.cipher };
  if (sealed.iv) fields.iv = sealed.iv;
  return fields;
}

/**
 * Pays an order the way a browser would, without one: post the sealed form, then the card form. Returns the
 * final redirect (the return URL) and the purchase id.
 */
export async function payOverHttp(
  emulator: Emulator,
  fields: Record<string, string>,
  pan: string,
  cvv = '111',
): Promise<{ purchase: string; location: string; status: number }> {
  const start = await postForm(emulator.base + '/', fields);
  if (start.status !== 303) throw new Error(`payment request answered ${start.status}: ${await start.text()}`);
  const cardUrl = start.headers.get('location')!;
  const purchase = /\/card\/(\d+)(\?|$)/.exec(cardUrl)?.[1];
  if (!purchase) throw new Error(`unexpected redirect ${cardUrl}`);
  const paid = await postForm(cardUrl, { card_number: pan, expiry: futureExpiry(), cvv });
  return { purchase, location: paid.headers.get('location') ?? '', status: paid.status };
}

export interface OrderView {
  order: {
    purchase: string;
    status: string;
    order_id: string;
    amount_ron: string;
    captured_ron: string;
    credited_ron: string;
    error_code: number | null;
    pan_masked: string | null;
  };
  deliveries: Array<{
    id: string;
    action: string;
    error_code: number;
    crc: string;
    status: 'pending' | 'delivered' | 'failed';
    attempts: number;
    next_attempt_at: string | null;
    mobilpay: V1Ipn['mobilpay'];
    log: Array<{
      attempt: number;
      http_status: number | null;
      reply: string | null;
      outcome: string;
      error: string | null;
      next_retry_at: string | null;
      started_at: string;
    }>;
  }>;
}

export interface BackOfficeBrowser {
  /** `name=value` of the session cookie. */
  cookie: string;
  /** The session's CSRF token, as its pages embed it. */
  csrf: string;
  get(path: string): Promise<Response>;
  /** Posts a form as the page would, with the session's CSRF token unless `fields` sets `_csrf` itself. */
  post(path: string, fields: Record<string, string>): Promise<Response>;
}

export function setCookie(response: Response, name: string): string | undefined {
  return response.headers.getSetCookie().find((c) => c.startsWith(`${name}=`));
}

const hiddenCsrf = (page: string) => /name="_csrf" value="([^"]+)"/.exec(page)?.[1];

/** Logs in to the back office as a browser does (login form, then its session cookie). */
export async function logIn(emulator: Emulator, account: Account): Promise<BackOfficeBrowser> {
  const form = await fetch(`${emulator.base}/login`);
  const formCookie = setCookie(form, 'sandbox_netopia_v1_login')?.split(';')[0];
  const formToken = hiddenCsrf(await form.text());
  if (!formCookie || !formToken) throw new Error('the login page has no form token');
  const answer = await postForm(
    `${emulator.base}/login`,
    { _csrf: formToken, login: account.back_office.login, password: account.back_office.password, next: `${PREFIX}/orders` },
    { cookie: formCookie },
  );
  const cookie = setCookie(answer, 'sandbox_netopia_v1_session')?.split(';')[0];
  if (answer.status !== 303 || !cookie) throw new Error(`login answered ${answer.status}`);
  const csrf = hiddenCsrf(await (await fetch(`${emulator.base}/orders`, { headers: { cookie } })).text());
  if (!csrf) throw new Error('the orders page has no CSRF token');
  return {
    cookie,
    csrf,
    get: (path) => fetch(emulator.base + path, { headers: { cookie } }),
    post: (path, fields) => postForm(emulator.base + path, { _csrf: csrf, ...fields }, { cookie }),
  };
}

/** The back office's JSON view of an order, logged in as `as` (default: the account that owns it). */
export async function orderView(emulator: Emulator, purchase: string, as?: Account): Promise<OrderView> {
  const response = await fetch(`${emulator.base}/orders/${purchase}`, { headers: { accept: 'application/json', ...(await loginFor(emulator, purchase, as)) } });
  if (response.status !== 200) throw new Error(`order view answered ${response.status}`);
  return (await response.json()) as OrderView;
}

/** A back-office operation as a script calls it, logged in as `as` (default: the account that owns the order). */
export async function operate(
  emulator: Emulator,
  purchase: string,
  operation: string,
  body: Record<string, unknown> = {},
  as?: Account,
): Promise<{ status: number; json: { ok: boolean; error?: { code: number; message: string }; ipn?: string } }> {
  const response = await fetch(`${emulator.base}/orders/${purchase}/${operation}`, {
    method: 'POST',
    headers: { accept: 'application/json', 'content-type': 'application/json', ...(await loginFor(emulator, purchase, as)) },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as { ok: boolean; error?: { code: number; message: string }; ipn?: string } };
}
