// Test harness for the Volt emulator: a Fastify app with the emulator on a real port, and a merchant server
// that checks each notification with the Volt connector (as the hub would) and answers what the test
// scripts. Everything the emulator does is observed over HTTP, as a merchant would.
import type http from 'node:http';
import { volt } from '../../../src/connectors/volt/connector.js';
import type { ConnectionConfig, NotificationVerdict } from '../../../src/connectors/types.js';
import type { VoltCredentials, VoltSettings } from '../../../src/connectors/volt/config.js';
import type { Store } from '../../../src/store/store.js';
import { registerVoltEmulator, type VoltEmulatorOptions } from '../../../emulators/volt/index.js';
import { eventually, jsonOrUndefined, MerchantServer, postForm, serveEmulator, type ServedEmulator } from '../../support/emulator-harness.js';

export const PREFIX = '/sandbox/volt';
/** Volt's schedule, in milliseconds instead of minutes. */
export const FAST_RETRY = { delaysMs: [30, 60, 90, 120, 150], pollMs: 20, timeoutMs: 2000 };

export interface Emulator extends ServedEmulator {
  /** http://127.0.0.1:port/sandbox/volt */
  base: string;
}

export async function startEmulator(store: Store, options: Partial<Omit<VoltEmulatorOptions, 'db' | 'publicUrl'>> = {}): Promise<Emulator> {
  const served = await serveEmulator((app, publicUrl) => registerVoltEmulator(app, { db: store.db, publicUrl, notificationRetry: FAST_RETRY, ...options }));
  return { ...served, base: served.origin + PREFIX };
}

export interface Account {
  name: string;
  client_id: string;
  client_secret: string;
  username: string;
  password: string;
  notification_secret: string;
  notification_url: string | null;
  api_url: string;
}

export async function createAccount(emulator: Emulator, body: Record<string, unknown> = {}): Promise<Account> {
  const response = await fetch(`${emulator.base}/accounts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (response.status !== 201) throw new Error(`account creation answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as Account;
}

/** The connection the hub would hold for this account, pointed at the emulator. */
export function connection(emulator: Emulator, account: Account): ConnectionConfig<VoltCredentials, VoltSettings> {
  return {
    credentials: volt.parseCredentials(volt.emulator!.credentialsFrom(account)),
    settings: volt.parseSettings({}),
    environment: 'emulator',
    endpoint: volt.defaultEndpoint('emulator', emulator.origin),
  };
}

/** An access token, fetched with the password grant exactly as the connector builds the request. */
export async function accessToken(emulator: Emulator, account: Account): Promise<string> {
  const request = volt.authenticate!.request(connection(emulator, account));
  const response = await fetch(request.url, { method: request.method, headers: request.headers, body: request.body });
  const token = volt.authenticate!.response(connection(emulator, account), { status: response.status, headers: {}, body: await response.text() }, new Date());
  if ('kind' in token) throw new Error(token.message);
  return token.token;
}

export async function api(
  emulator: Emulator,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; json: any; text: string }> {
  const response = await fetch(`${emulator.base}${path}`, {
    method,
    headers: {
      accept: 'application/json',
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
    body: options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body),
  });
  const text = await response.text();
  const json = jsonOrUndefined(text);
  return { status: response.status, json, text };
}

let counter = 0;
/** A hub-like attempt id, unique across runs sharing a database. */
export function newReference(): string {
  return `att_${Date.now().toString(36)}${(++counter).toString(36).padStart(4, '0')}${Math.random().toString(36).slice(2, 10)}`;
}

export type ScriptedReply = 'connector' | 'http500' | 'hang';

export interface ReceivedNotification {
  body: string;
  headers: http.IncomingHttpHeaders;
  verdict: NotificationVerdict;
  replied: number | 'none';
}

/**
 * The merchant's side: `POST /notify/<client_id>` checks the notification with the Volt connector for that
 * account and answers with the connector's reply (or what the test scripted); `GET /…` is a landing page.
 */
export class Merchant extends MerchantServer<ReceivedNotification> {
  readonly landings: URL[] = [];
  private readonly configs = new Map<string, ConnectionConfig<VoltCredentials, VoltSettings>>();
  private readonly scripts: Array<{ match: (body: string) => boolean; replies: ScriptedReply[] }> = [];

  trust(emulator: Emulator, account: Account): void {
    this.configs.set(account.client_id, connection(emulator, account));
  }

  notifyUrl(account: Account): string {
    return `${this.url}/notify/${account.client_id}`;
  }

  /**
   * The replies to the next notifications whose body contains every one of `parts`, in turn; after them
   * (and for every other notification), the connector's own reply.
   */
  script(parts: string[], replies: ScriptedReply[]): void {
    this.scripts.push({ match: (body) => parts.every((p) => body.includes(p)), replies: [...replies] });
  }

  about(paymentId: string): ReceivedNotification[] {
    return this.received.filter((r) => r.body.includes(paymentId));
  }

  /**
   * Polls rather than waking on arrivals: an entry's `replied` is filled in after it is recorded, and checks
   * may look at it.
   */
  async waitFor<T>(check: () => T | undefined, what: string, timeoutMs = 10_000): Promise<T> {
    return eventually(async () => check(), timeoutMs, what);
  }

  protected override land(request: http.IncomingMessage, response: http.ServerResponse): void {
    this.landings.push(new URL(request.url ?? '/', this.url));
    super.land(request, response);
  }

  protected receive(request: http.IncomingMessage, body: Buffer, response: http.ServerResponse): void {
    const clientId = /^\/notify\/([^/?]+)/.exec(request.url ?? '')?.[1] ?? '';
    const config = this.configs.get(clientId);
    const verdict: NotificationVerdict = config
      ? volt.verifyNotification(config, {
          body,
          headers: request.headers as Record<string, string | string[] | undefined>,
          contentType: request.headers['content-type'],
        })
      : { ok: false, permanent: true, code: 0, reason: 'unknown account' };
    const text = body.toString('utf8');
    const script = this.scripts.find((s) => s.replies.length > 0 && s.match(text))?.replies.shift() ?? 'connector';
    const entry: ReceivedNotification = { body: body.toString('latin1'), headers: request.headers, verdict, replied: 'none' };
    this.record(entry);
    if (script === 'hang') return; // never answers; close() ends it
    if (script === 'http500') {
      entry.replied = 500;
      response.writeHead(500, { 'content-type': 'text/plain' }).end('busy');
      return;
    }
    const reply = volt.replyToNotification(
      verdict.ok ? { kind: 'recorded', verdict } : { kind: 'permanent_error', code: verdict.code, message: verdict.reason },
    );
    entry.replied = reply.statusCode;
    response.writeHead(reply.statusCode, { 'content-type': reply.contentType }).end(reply.body);
  }
}

/** A payment as the connector opens it, for `reference`, with the merchant's URLs. */
export async function openPayment(
  emulator: Emulator,
  account: Account,
  merchant: Merchant,
  token: string,
  overrides: { reference?: string; amount?: number; orderId?: string } = {},
) {
  const reference = overrides.reference ?? newReference();
  const request = volt.start!.request(
    connection(emulator, account),
    {
      reference,
      amount: overrides.amount ?? 2500,
      currency: 'EUR',
      description: 'Order',
      billing: { first_name: 'Ana', last_name: 'Pop', email: 'ana@example.com' },
      metadata: {},
      ...(overrides.orderId !== undefined ? { merchantOrderId: overrides.orderId } : {}),
      urls: {
        notify: merchant.notifyUrl(account),
        return: `${merchant.url}/return?order=${reference}`,
        cancel: `${merchant.url}/cancelled?order=${reference}`,
      },
      now: new Date(),
    },
    token,
  );
  const response = await fetch(request.url, { method: request.method, headers: request.headers, body: request.body });
  const text = await response.text();
  if (response.status !== 201) throw new Error(`POST /v2/payments answered ${response.status}: ${text}`);
  const created = JSON.parse(text) as { id: string; checkoutUrl: string };
  return { reference, ...created };
}

/** The payer's journey without a browser: choose a bank on the checkout, then decide at the bank. */
export async function payOverHttp(
  checkoutUrl: string,
  bankId: string,
  decision: 'authorise' | 'refuse' | 'cancel' | 'abandon',
): Promise<{ status: number; location: string }> {
  const url = new URL(checkoutUrl);
  const auth = url.searchParams.get('auth') ?? '';
  const chosen = await postForm(`${url.origin}${url.pathname}`, { auth, bank: bankId });
  if (chosen.status !== 303) throw new Error(`choosing a bank answered ${chosen.status}: ${await chosen.text()}`);
  const bankUrl = new URL(chosen.headers.get('location')!);
  const decided = await postForm(`${bankUrl.origin}${bankUrl.pathname}`, { auth, decision });
  return { status: decided.status, location: decided.headers.get('location') ?? '' };
}
