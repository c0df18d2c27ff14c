// Test harness for the MultiSafepay emulator: a Fastify app with the emulator mounted on a real port, and a
// merchant webhook endpoint that verifies each notification with the connector's own verifyNotification and
// answers what the test scripts. Everything the emulator does is observed over HTTP, as a merchant would.
import type http from 'node:http';
import { multisafepay } from '../../../src/connectors/multisafepay/connector.js';
import type { NotificationVerdict, VerifiedNotification } from '../../../src/connectors/types.js';
import type { Store } from '../../../src/store/store.js';
import { registerMultisafepayEmulator, type MultisafepayEmulatorOptions } from '../../../emulators/multisafepay/index.js';
import { futureExpiry, MerchantServer, newOrderId, postForm, serveEmulator, type ServedEmulator } from '../../support/emulator-harness.js';
import { Secret } from '../../../src/security/secret.js';

export { eventually, futureExpiry, newOrderId, postForm } from '../../support/emulator-harness.js';

export const PREFIX = '/sandbox/multisafepay';
export const FAST_RETRY = { baseDelayMs: 50, backoffFactor: 1, pollMs: 20, timeoutMs: 2000, maxAttempts: 4 };

export interface Emulator extends ServedEmulator {
  /** http://127.0.0.1:port/sandbox/multisafepay */
  base: string;
  /** The JSON API base: base + /v1/json */
  api: string;
}

export async function startEmulator(store: Store, options: Partial<Omit<MultisafepayEmulatorOptions, 'db' | 'publicUrl'>> = {}): Promise<Emulator> {
  const served = await serveEmulator((app, publicUrl) =>
    registerMultisafepayEmulator(app, { db: store.db, publicUrl, notificationRetry: FAST_RETRY, reviewDelayMs: 300, ...options }),
  );
  return { ...served, base: served.origin + PREFIX, api: served.origin + PREFIX + '/v1/json' };
}

export async function createAccount(emulator: Emulator, name = 'Test webshop'): Promise<{ api_key: string; name: string }> {
  const response = await fetch(`${emulator.base}/accounts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  if (response.status !== 201) throw new Error(`account creation answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as { api_key: string; name: string };
}

export interface ApiAnswer {
  status: number;
  json: { success: boolean; data: Record<string, any>; error_code?: number; error_info?: string };
}

export async function api(emulator: Emulator, method: string, path: string, apiKey: string | undefined, body?: unknown): Promise<ApiAnswer> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (apiKey !== undefined) headers.api_key = apiKey;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(emulator.api + path, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as ApiAnswer['json'] };
}

export type ScriptedReply = 'ok' | 'multisafepay_ok' | 'http500' | 'not_ok' | 'hang';

export interface Received {
  method: string;
  query: URLSearchParams;
  auth: string | undefined;
  body: string;
  verdict: NotificationVerdict | undefined;
  reply: ScriptedReply;
  at: number;
}

/**
 * The merchant's side: `/webhook` verifies every notification with multisafepay.verifyNotification under the
 * API keys it knows and answers the reply scripted for that order (default OK); `/return` and `/cancel` are
 * the pages the customer's browser lands on.
 */
export class Merchant extends MerchantServer<Received> {
  private readonly keys: string[] = [];
  private readonly scripts = new Map<string, ScriptedReply[]>();

  get webhookUrl(): string {
    return `${this.url}/webhook`;
  }

  addKey(apiKey: string): void {
    this.keys.push(apiKey);
  }

  script(orderId: string, replies: ScriptedReply[]): void {
    this.scripts.set(orderId, [...replies]);
  }

  for(orderId: string): Received[] {
    return this.received.filter((r) => r.query.get('transactionid') === orderId);
  }

  verified(orderId: string): VerifiedNotification[] {
    return this.for(orderId).flatMap((r) => (r.verdict?.ok ? [r.verdict] : []));
  }

  /** Resolves once `count` notifications of `orderId` have arrived (with a deadline). */
  async waitFor(orderId: string, count: number, timeoutMs = 10_000): Promise<Received[]> {
    await this.until(
      () => this.for(orderId).length >= count,
      timeoutMs,
      () => `expected ${count} notifications for ${orderId}, got ${this.for(orderId).length}`,
    );
    return this.for(orderId);
  }

  private verify(body: Buffer, headers: http.IncomingHttpHeaders): NotificationVerdict | undefined {
    let last: NotificationVerdict | undefined;
    for (const api_key of this.keys) {
      last = multisafepay.verifyNotification(
        { credentials: { api_key: new Secret(api_key) }, settings: { locale: 'en_US' }, environment: 'emulator', endpoint: '' },
        { body, contentType: headers['content-type'], headers: headers as Record<string, string | string[] | undefined> },
      );
      if (last.ok) return last;
    }
    return last;
  }

  /** Notifications come to `/webhook`, by POST or (notification_method GET) by GET; every other path is a page. */
  protected override isNotification(request: http.IncomingMessage): boolean {
    return new URL(request.url ?? '/', this.url).pathname === '/webhook';
  }

  protected receive(request: http.IncomingMessage, body: Buffer, response: http.ServerResponse): void {
    const url = new URL(request.url ?? '/', this.url);
    const orderId = url.searchParams.get('transactionid') ?? '';
    const reply = this.scripts.get(orderId)?.shift() ?? 'ok';
    const auth = typeof request.headers.auth === 'string' ? request.headers.auth : undefined;
    this.record({
      method: request.method ?? '',
      query: url.searchParams,
      auth,
      body: body.toString('utf8'),
      verdict: request.method === 'POST' ? this.verify(body, request.headers) : undefined,
      reply,
      at: Date.now(),
    });
    const text = (status: number, t: string) => response.writeHead(status, { 'content-type': 'text/plain' }).end(t);
    switch (reply) {
      case 'ok':
        return void text(200, 'OK');
      case 'multisafepay_ok':
        return void text(200, 'notification stored. MULTISAFEPAY_OK');
      case 'http500':
        return void text(500, 'OK but the server failed');
      case 'not_ok':
        return void text(200, 'received, thanks');
      case 'hang':
        return; // never answers; close() ends it
    }
  }
}

/** A create-order body as a merchant sends it. */
export function orderBody(merchant: Merchant, overrides: Record<string, unknown> = {}): Record<string, any> {
  return {
    type: 'paymentlink',
    order_id: newOrderId(),
    currency: 'EUR',
    amount: 2500,
    description: 'Cappuccino & cornetto',
    payment_options: {
      notification_url: merchant.webhookUrl,
      notification_method: 'POST',
      redirect_url: `${merchant.url}/return`,
      cancel_url: `${merchant.url}/cancel`,
      close_window: false,
    },
    customer: { locale: 'it_IT', first_name: 'Mario', last_name: 'Rossi', email: 'mario@example.it' },
    ...overrides,
  };
}

export async function createOrder(
  emulator: Emulator,
  apiKey: string,
  body: Record<string, unknown>,
): Promise<{ order_id: string; payment_url: string; session_id: string }> {
  const answer = await api(emulator, 'POST', '/orders', apiKey, body);
  if (answer.status !== 200 || !answer.json.success) throw new Error(`create order answered ${answer.status}: ${JSON.stringify(answer.json)}`);
  return answer.json.data as { order_id: string; payment_url: string; session_id: string };
}

/** Pays on the hosted page without a browser: the card form as a browser posts it. */
export async function pay(paymentUrl: string, brand: string, pan: string, extra: Record<string, string> = {}): Promise<Response> {
  const pageUrl = paymentUrl.replace(/\?.*$/, '');
  return postForm(`${pageUrl}pay`, {
    brand,
    card_number: pan,
    holder: 'Mario Rossi',
    expiry: futureExpiry(),
    cvv: brand === 'AMEX' ? '1234' : '123',
    ...extra,
  });
}
