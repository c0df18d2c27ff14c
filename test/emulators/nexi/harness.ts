// Test harness for the Nexi emulator: a Fastify app with the emulator on a real port, and a merchant server
// whose urlpost records every result (raw body) and answers what the test scripts. Everything is observed
// over HTTP, as a merchant would.
import type http from 'node:http';
import type { Store } from '../../../src/store/store.js';
import { registerNexiEmulator, type NexiEmulatorOptions } from '../../../emulators/nexi/index.js';
import { computeMac, payMailMacPairs } from '../../../src/connectors/nexi/mac.js';
import { MerchantServer, serveEmulator, type ServedEmulator } from '../../support/emulator-harness.js';

export { eventually, futureExpiry, postForm } from '../../support/emulator-harness.js';

export const PREFIX = '/sandbox/nexi';
export const FAST_RETRY = { baseDelayMs: 50, pollMs: 20, timeoutMs: 2000, maxAttempts: 5 };

export interface Emulator extends ServedEmulator {
  /** http://127.0.0.1:port/sandbox/nexi: XPay's host for clients. */
  base: string;
}

export async function startEmulator(store: Store, notifyRetry: NexiEmulatorOptions['notifyRetry'] = FAST_RETRY, lateAnswerMs?: number): Promise<Emulator> {
  const served = await serveEmulator((app, publicUrl) =>
    registerNexiEmulator(app, { db: store.db, publicUrl, notifyRetry, ...(lateAnswerMs !== undefined ? { lateAnswerMs } : {}) }),
  );
  return { ...served, base: served.origin + PREFIX };
}

export interface Account {
  alias: string;
  mac_key: string;
  name: string;
}

export async function createAccount(emulator: Emulator, name = 'Bottega Test'): Promise<Account> {
  const response = await fetch(`${emulator.base}/accounts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  if (response.status !== 201) throw new Error(`account creation answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as Account;
}

export type ScriptedReply = 200 | 500 | 404 | 'hang';

export interface Received {
  body: string;
  fields: Record<string, string>;
  reply: ScriptedReply;
}

/** The merchant: POST /notify records results and answers the scripted reply (default 200); GET is the shop's page. */
export class Merchant extends MerchantServer<Received> {
  private readonly scripts = new Map<string, ScriptedReply[]>();

  /** The replies to the next results for codTrans `codTrans`, in turn; after them, 200. */
  script(codTrans: string, replies: ScriptedReply[]): void {
    this.scripts.set(codTrans, [...replies]);
  }

  resultsFor(codTrans: string): Received[] {
    return this.received.filter((r) => r.fields.codTrans === codTrans);
  }

  async waitFor(check: () => boolean, timeoutMs = 10_000): Promise<void> {
    await this.until(check, timeoutMs, () => `timed out; received ${this.received.length} results`);
  }

  protected receive(_request: http.IncomingMessage, raw: Buffer, response: http.ServerResponse): void {
    const body = raw.toString('utf8');
    const fields = Object.fromEntries(new URLSearchParams(body));
    const reply = this.scripts.get(fields.codTrans ?? '')?.shift() ?? 200;
    this.record({ body, fields, reply });
    if (reply === 'hang') return; // never answers; close() ends it
    response.writeHead(reply, { 'content-type': 'text/plain' }).end(reply === 200 ? 'OK' : 'error');
  }
}

let counter = 0;
/** A fresh codTrans (≤ 30 characters), unique across runs sharing a database. */
export function newCodTrans(label = 'T'): string {
  return `${label}${Date.now().toString(36)}${(++counter).toString(36)}`.slice(0, 30);
}

/** A richiestaPayMail body as Nexi's PHP sample builds it, plus parametriAggiuntivi. */
export function payMailRequest(
  account: Account,
  merchant: Merchant,
  overrides: Record<string, unknown> = {},
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const codiceTransazione = (overrides.codiceTransazione as string) ?? newCodTrans();
  const importo = (overrides.importo as number) ?? 5000;
  const timeStamp = (overrides.timeStamp as number) ?? Date.now();
  return {
    apiKey: account.alias,
    codiceTransazione,
    importo,
    timeout: 4,
    url: `${merchant.url}/esito?shop=1`,
    timeStamp,
    mac: computeMac(payMailMacPairs({ apiKey: (overrides.apiKey as string) ?? account.alias, codiceTransazione, importo, timeStamp }), account.mac_key),
    parametriAggiuntivi: {
      urlpost: `${merchant.url}/notify`,
      url_back: `${merchant.url}/annullo`,
      mail: 'mario.rossi@example.it',
      descrizione: 'Ordine di prova',
      ...extra,
    },
    ...overrides,
  };
}

export async function postJson(url: string, body: unknown): Promise<{ status: number; json: Record<string, any> }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as Record<string, any> };
}

export interface LinkView {
  link: { cod_trans: string; status: string; tries: number; importo: number; divisa: string };
  payments: Array<{ esito: string; codice_esito: string; brand: string | null; pan: string | null }>;
  notifications: Array<{
    id: number;
    status: string;
    attempts: number;
    fields: Record<string, string>;
    log: Array<{ attempt: number; http_status: number | null; outcome: string; error: string | null }>;
  }>;
}

/** The back office's view of a link, read with the terminal's alias and MAC key. */
export async function linkView(emulator: Emulator, account: Account, codTrans: string): Promise<LinkView> {
  const authorization = `Basic ${Buffer.from(`${account.alias}:${account.mac_key}`).toString('base64')}`;
  const r = await fetch(`${emulator.base}/back-office/links/${account.alias}/${codTrans}`, { headers: { authorization } });
  if (r.status !== 200) throw new Error(`link view answered ${r.status}`);
  return (await r.json()) as LinkView;
}
