// Shared pieces of the resilience tests (test/resilience): databases that outlive a hub process, the hub's
// environment, retries across crashes, a seeded random source, and the merchant set-up on an external emulator.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { apiClient, type ApiResponse } from './hub.js';
import type { EmulatorServer } from './netopia-emulator-server.js';
import { TEST_STORE } from './store.js';

export const ON_POSTGRES = TEST_STORE === 'postgres';
export const NEEDS_POSTGRES = ON_POSTGRES ? false : 'needs PostgreSQL';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got ${raw}`);
  return n;
}

/** mulberry32: a small seeded generator, so a failing run can be replayed with INCASSO_RESILIENCE_SEED. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function testSeed(): number {
  const fromEnv = process.env.INCASSO_RESILIENCE_SEED;
  return fromEnv ? Number(fromEnv) : randomBytes(4).readUInt32BE(0);
}

export const TEST_DATABASE_URL = process.env.INCASSO_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A connection string that selects `schema` (libpq's `options=-c search_path=…`, which node-postgres passes on). */
export function withSearchPath(databaseUrl: string, schema: string): string {
  const url = new URL(databaseUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return url.toString();
}

/** A new, empty schema in the test run's PostgreSQL database, for one hub installation (or one emulator). */
export async function createPgSchema(prefix: string): Promise<{ schema: string; url: string; drop(): Promise<void> }> {
  const schema = `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA ${schema}`);
  } finally {
    await client.end();
  }
  return {
    schema,
    url: withSearchPath(TEST_DATABASE_URL, schema),
    async drop() {
      const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await c.connect();
      try {
        await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await c.end();
      }
    },
  };
}

/** A durable database for a hub that is killed and restarted: a PostgreSQL schema, or a PGlite data directory. */
export async function durableHubDatabase(prefix: string): Promise<{ env: Record<string, string>; pgUrl?: string; describe: string; drop(): Promise<void> }> {
  if (ON_POSTGRES) {
    const s = await createPgSchema(prefix);
    return { env: { DATABASE_URL: s.url }, pgUrl: s.url, describe: `PostgreSQL schema ${s.schema}`, drop: s.drop };
  }
  const dir = mkdtempSync(join(tmpdir(), `incasso-${prefix}-`));
  return { env: { INCASSO_DATA_DIR: dir }, describe: `PGlite data directory ${dir}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
}

/** Store options for the external emulator's own database. */
export async function emulatorDatabase(prefix: string): Promise<{ storeOptions: { databaseUrl?: string; schema?: string }; drop(): Promise<void> }> {
  if (ON_POSTGRES) {
    const schema = `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
    return {
      storeOptions: { databaseUrl: TEST_DATABASE_URL, schema },
      async drop() {
        const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
        await c.connect();
        try {
          await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        } finally {
          await c.end();
        }
      },
    };
  }
  return { storeOptions: {}, drop: async () => {} };
}

export const FIXED_KEYS = {
  INCASSO_ADMIN_KEY: `adm_${randomBytes(24).toString('base64url')}`,
  INCASSO_MASTER_KEY: randomBytes(32).toString('hex'),
};

/** The environment of a hub child process (everything through readConfig, as in production). */
export function hubEnv(options: {
  port: number;
  publicUrl?: string;
  database: Record<string, string>;
  extra?: Record<string, string>;
}): Record<string, string> {
  return {
    HOST: '127.0.0.1',
    PORT: String(options.port),
    INCASSO_PUBLIC_URL: options.publicUrl ?? `http://127.0.0.1:${options.port}`,
    ...FIXED_KEYS,
    INCASSO_EMULATORS: '1',
    // The merchant's webhook receivers and the NETOPIA emulator run beside the hubs on 127.0.0.1.
    INCASSO_OUTBOUND_ALLOW: '127.0.0.1',
    INCASSO_WORKER_POLL_MS: '50',
    INCASSO_WEBHOOK_RETRY_SCALE: '0.0002',
    INCASSO_DB_POOL_SIZE: '5',
    LOG_LEVEL: 'warn',
    ...options.database,
    ...options.extra,
  };
}

/** Whether a response means "the hub is not there right now" (killed, restarting, or failing): retry it. */
function transient(r: ApiResponse): boolean {
  if (r.status >= 500) return true;
  return r.status === 422 && /in progress/.test(JSON.stringify(r.body ?? ''));
}

/**
 * Calls the hub until it answers something other than a network error or a 5xx (a merchant's integration
 * retrying through a crash). POSTs that create must carry an Idempotency-Key to be safe to retry.
 */
export async function retryingCall<T = any>(
  call: ReturnType<typeof apiClient>,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
  deadlineMs = 90_000,
): Promise<ApiResponse<T>> {
  const deadline = Date.now() + deadlineMs;
  let last: unknown;
  for (let i = 0; ; i++) {
    try {
      const r = await call<T>(method, path, body, headers);
      if (!transient(r)) return r;
      last = new Error(`HTTP ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`${method} ${path} kept failing: ${(last as Error)?.message}`);
    await sleep(Math.min(100 * (i + 1), 500));
  }
}

/** Retries any async step through hub crashes (network errors and thrown errors) until it resolves. */
export async function retrying<T>(what: string, step: () => Promise<T>, deadlineMs = 90_000): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (let i = 0; ; i++) {
    try {
      return await step();
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`${what} kept failing: ${(e as Error).message}`);
      await sleep(Math.min(100 * (i + 1), 500));
    }
  }
}

export interface MerchantSetup {
  api: ReturnType<typeof apiClient>;
  apiKey: string;
  merchantId: string;
  connectionId: string;
  endpointId: string;
  secret: string;
}

/**
 * A merchant with a NETOPIA v1 connection to the external emulator (environment `sandbox`, settings.endpoint
 * = the emulator, credentials from its console) and one webhook endpoint.
 */
export async function setUpMerchant(hubUrl: string, emulator: EmulatorServer, webhookUrl: string, name = 'Resilience Shop SRL'): Promise<MerchantSetup> {
  const admin = apiClient(hubUrl, FIXED_KEYS.INCASSO_ADMIN_KEY);
  const merchant = await retryingCall(admin, 'POST', '/v1/merchants', { name });
  if (merchant.status !== 201) throw new Error(`merchant: ${merchant.status} ${JSON.stringify(merchant.body)}`);
  const api = apiClient(hubUrl, merchant.body.api_key);
  const credentials = await emulator.openAccount(name);
  const connection = await retryingCall(api, 'POST', '/v1/connections', {
    code: 'netopia',
    provider: 'netopia-v1',
    environment: 'sandbox',
    credentials,
    settings: { endpoint: emulator.endpoint },
  });
  if (connection.status !== 201) throw new Error(`connection: ${connection.status} ${JSON.stringify(connection.body)}`);
  const endpoint = await retryingCall(api, 'POST', '/v1/webhook-endpoints', { url: webhookUrl });
  if (endpoint.status !== 201) throw new Error(`webhook endpoint: ${endpoint.status} ${JSON.stringify(endpoint.body)}`);
  return {
    api,
    apiKey: merchant.body.api_key,
    merchantId: merchant.body.id,
    connectionId: connection.body.id,
    endpointId: endpoint.body.id,
    secret: endpoint.body.secret,
  };
}

export function paymentInput(orderId: string, amount: number, returnUrl: string) {
  return {
    connection: 'netopia',
    order_id: orderId,
    amount,
    currency: 'RON',
    description: `Comanda ${orderId}`,
    billing: {
      first_name: 'Ioana',
      last_name: 'Dumitrescu',
      email: 'ioana@example.ro',
      phone: '0722000111',
      address: 'Str. Lungă 5',
      city: 'Brașov',
      country: 'RO',
    },
    return_url: returnUrl,
  };
}

/** RON minor units from the emulator's "12.34". */
export function ronMinor(text: string): number {
  const [units, cents = ''] = text.split('.');
  return Number(units) * 100 + Number((cents + '00').slice(0, 2));
}
