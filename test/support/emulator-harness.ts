// What the emulator test harnesses share: an emulator mounted on a Fastify app listening on a real port, a
// merchant server that records what the emulator sends it, and the small client helpers every harness used.
// Everything is observed over HTTP, as a merchant would.
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';

export interface ServedEmulator {
  app: FastifyInstance;
  /** http://127.0.0.1:port */
  origin: string;
  stop(): Promise<void>;
}

/**
 * Node closes idle keep-alive sockets after 5 s, and a loaded test machine can hand fetch (or the emulator's
 * notifier) such a socket just as it closes (ECONNRESET). Sockets stay open instead; close() ends them all.
 */
async function listenOnFreePort(server: http.Server): Promise<string> {
  server.keepAliveTimeout = 0;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function closeServer(server: http.Server): Promise<void> {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

/**
 * A Fastify app on a free port of 127.0.0.1 with one emulator registered on it. The emulator needs its public
 * URL when it is registered, i.e. before Fastify is ready, so the server is made here and put on port 0 first;
 * Fastify serves through it once ready. stop() stops the emulator's workers before the app and the sockets.
 */
export async function serveEmulator(register: (app: FastifyInstance, origin: string) => Promise<{ stop(): Promise<void> }>): Promise<ServedEmulator> {
  let server: http.Server | undefined;
  const app = Fastify({
    serverFactory: (handler) => {
      server = http.createServer(handler);
      return server;
    },
  });
  const listening = server!;
  const origin = await listenOnFreePort(listening);
  const emulator = await register(app, origin);
  await app.ready();
  return {
    app,
    origin,
    stop: async () => {
      await emulator.stop();
      await app.close();
      await closeServer(listening);
    },
  };
}

/**
 * The merchant's side of an emulator test: a server on a free port that records every notification (one
 * `Entry` each) and answers what the test scripted. Requests that are not notifications (by default every GET)
 * get the shop's landing page.
 */
export abstract class MerchantServer<Entry> {
  readonly received: Entry[] = [];
  url = '';
  private readonly server = http.createServer((request, response) => this.handle(request, response));
  private readonly waiters: Array<{ check: () => boolean; resolve: () => void }> = [];

  static async start<M extends MerchantServer<unknown>>(this: new () => M): Promise<M> {
    const merchant = new this();
    await merchant.listen();
    return merchant;
  }

  async close(): Promise<void> {
    await closeServer(this.server);
  }

  /** Handles one notification, whose body has been read; it must answer (or deliberately never answer). */
  protected abstract receive(request: http.IncomingMessage, body: Buffer, response: http.ServerResponse): void | Promise<void>;

  protected isNotification(request: http.IncomingMessage): boolean {
    return request.method !== 'GET';
  }

  /** Where the customer's browser lands (return and cancel URLs). */
  protected land(_request: http.IncomingMessage, response: http.ServerResponse): void {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<!doctype html><title>Thank you</title><h1>Back at the shop</h1>');
  }

  /** Keeps `entry` and wakes the waits it satisfies. */
  protected record(entry: Entry): void {
    this.received.push(entry);
    for (const waiter of this.waiters.filter((w) => w.check())) {
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  }

  /** Resolves once `check` holds after an arrival (event-driven); rejects with `failure()` after `timeoutMs`. */
  protected async until(check: () => boolean, timeoutMs: number, failure: () => string): Promise<void> {
    if (check()) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => this.waiters.push({ check, resolve })),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(failure())), timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
  }

  private async listen(): Promise<void> {
    this.url = await listenOnFreePort(this.server);
  }

  private handle(request: http.IncomingMessage, response: http.ServerResponse): void {
    if (!this.isNotification(request)) return this.land(request, response);
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => void this.receive(request, Buffer.concat(chunks), response));
  }
}

export { eventually } from './eventually.js';

/** `text` parsed as JSON, or undefined when it is not JSON (tests then look at the text itself). */
export function jsonOrUndefined(text: string): any {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A form as a browser posts it; redirects are returned, not followed. */
export async function postForm(url: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(fields).toString(),
  });
}

/** A card expiry comfortably in the future, MM/YY. */
export function futureExpiry(): string {
  return `12/${String((new Date().getUTCFullYear() + 3) % 100).padStart(2, '0')}`;
}

let orderCounter = 0;

/** A fresh merchant order id, unique across runs sharing a database. */
export function newOrderId(label = 'order'): string {
  return `${label}-${Date.now().toString(36)}-${++orderCounter}`;
}
