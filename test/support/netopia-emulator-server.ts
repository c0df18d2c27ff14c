// The NETOPIA v1 emulator on its own small Fastify server and its own database, outside any hub process: it
// plays the processor that keeps sending (and retrying) IPNs while hubs are killed, restarted, scaled out or
// cut off from their database.
import Fastify, { type FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { registerNetopiaV1Emulator, type NetopiaV1EmulatorOptions } from '../../emulators/netopia-v1/index.js';
import { openStore, type Store } from '../../src/store/store.js';
import { freePort } from './hub.js';

export const EMULATOR_PREFIX = '/sandbox/netopia/v1';

export interface EmulatorOrderView {
  order: { purchase: string; order_id: string; status: string; amount: string; captured_ron: string; credited_ron: string; error_code: number | null };
  deliveries: Array<{
    id: string;
    action: string;
    error_code: number;
    crc: string;
    status: 'pending' | 'delivered' | 'failed';
    attempts: number;
    next_attempt_at: string | null;
    mobilpay: { processed_amount: string; original_amount: string; purchase: string };
    log: Array<{
      attempt: number;
      started_at: string;
      duration_ms: number;
      http_status: number | null;
      reply: string | null;
      outcome: string;
      error: string | null;
    }>;
  }>;
}

export interface EmulatorServer {
  app: FastifyInstance;
  store: Store;
  /** The server's origin, e.g. http://127.0.0.1:41234. */
  origin: string;
  /** Where merchants post sealed payment requests: origin + /sandbox/netopia/v1 (a connection's settings.endpoint). */
  endpoint: string;
  /** Opens a seller account (what NETOPIA's console hands out): the credentials a connection needs. */
  openAccount(name?: string): Promise<{ signature: string; certificate: string; private_key: string }>;
  /** The back office's JSON view of one order: its state and every IPN with its delivery log. */
  order(purchase: string | number): Promise<EmulatorOrderView>;
  /** Runs a back-office operation (credit, capture, cancel, resend) as the order's account would (its back-office login). */
  operate(purchase: string | number, operation: 'credit' | 'capture' | 'cancel' | 'resend', amount?: string): Promise<{ status: number; body: any }>;
  /** IPN deliveries not yet finished (pending), across all orders. */
  pendingDeliveries(): Promise<number>;
  close(): Promise<void>;
}

/**
 * Starts the emulator. `storeOptions` picks its database: a PostgreSQL schema of its own, or (default) an
 * in-memory PGlite that lives as long as this process.
 */
export async function startEmulatorServer(options: {
  storeOptions?: { databaseUrl?: string; schema?: string };
  ipnRetry?: NetopiaV1EmulatorOptions['ipnRetry'];
  port?: number;
}): Promise<EmulatorServer> {
  const store = await openStore({ ...(options.storeOptions ?? {}), migrate: false, poolSize: 5 });
  const port = options.port ?? (await freePort());
  const origin = `http://127.0.0.1:${port}`;
  const server = Fastify({ logger: false });
  const emulator = await registerNetopiaV1Emulator(server, { db: store.db, publicUrl: origin, ipnRetry: options.ipnRetry });
  await server.listen({ host: '127.0.0.1', port });
  const endpoint = origin + EMULATOR_PREFIX;

  // Back-office logins of the accounts opened here, by signature: order() and operate() log in as the owner.
  const logins = new Map<string, string>();
  const ownerLogin = async (purchase: string | number): Promise<Record<string, string>> => {
    const row = /^\d{1,15}$/.test(String(purchase))
      ? await sql<{ signature: string }>`SELECT signature FROM emu_netopia_v1_orders WHERE purchase = ${String(purchase)}`.execute(store.db)
      : undefined;
    const login = row?.rows[0] && logins.get(row.rows[0].signature);
    return login ? { authorization: login } : {};
  };
  const json = async (method: string, path: string, body?: string, contentType?: string, extra: Record<string, string> = {}) => {
    const response = await fetch(endpoint + path, {
      method,
      headers: { accept: 'application/json', ...(contentType ? { 'content-type': contentType } : {}), ...extra },
      body,
    });
    const text = await response.text();
    let parsed: any = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // keep text
    }
    return { status: response.status, body: parsed };
  };

  return {
    app: server,
    store,
    origin,
    endpoint,
    async openAccount(name = 'Resilience seller') {
      const r = await json('POST', '/accounts', JSON.stringify({ name }), 'application/json');
      if (r.status !== 201) throw new Error(`the emulator refused to open an account: ${r.status} ${JSON.stringify(r.body)}`);
      logins.set(r.body.signature, `Basic ${Buffer.from(`${r.body.back_office.login}:${r.body.back_office.password}`).toString('base64')}`);
      return { signature: r.body.signature, certificate: r.body.certificate, private_key: r.body.private_key };
    },
    async order(purchase) {
      const r = await json('GET', `/orders/${purchase}`, undefined, undefined, await ownerLogin(purchase));
      if (r.status !== 200) throw new Error(`no emulator order ${purchase}: ${r.status}`);
      return r.body as EmulatorOrderView;
    },
    async operate(purchase, operation, amount) {
      return json(
        'POST',
        `/orders/${purchase}/${operation}`,
        amount === undefined ? '' : new URLSearchParams({ amount }).toString(),
        'application/x-www-form-urlencoded',
        await ownerLogin(purchase),
      );
    },
    async pendingDeliveries() {
      const r = await sql<{ n: string }>`SELECT count(*) AS n FROM emu_netopia_v1_ipn_deliveries WHERE status = 'pending'`.execute(store.db);
      return Number(r.rows[0]!.n);
    },
    async close() {
      await emulator.stop();
      await server.close();
      await store.close();
    },
  };
}
