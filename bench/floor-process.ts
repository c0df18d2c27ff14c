// Baseline C, the floor: the least the hub's two measured requests can do and still be correct about durability,
// on the same machine, store and load as the hub. node:http (no framework), one durable INSERT for all the
// requests that became ready in the same event-loop turn (group commit; the store's durable settings stay on),
// and nothing else: no ledger reads or updates, no outbox, no metrics, no logging. Strictly less work than the hub
// must do, so its throughput is an upper bound for any design of this shape on this machine, which the issue's
// ratio targets can be read against.
//
// - POST /ipn (NETOPIA v1 IPN): the body goes to one verification thread per core (floor-worker.ts: form parse,
//   envelope opened, IPN XML parsed, with the hub's own code); then (order id, crc, raw body) is inserted; then
//   `<crc>` out.
// - POST /v1/payments: API key checked (SHA-256 against the one key, in memory), JSON parsed and its fields
//   checked, the NETOPIA v1 request sealed with the hub's own connector (order XML + RSA/AES envelope); then the
//   payment is inserted with its Idempotency-Key (unique); then 201 with the payment, as the hub answers.
//
// Same IPC protocol as hub-process.ts (ready, sql, close).
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { netopiaV1 } from '../src/connectors/netopia-v1/connector.js';
import type { Party } from '../src/connectors/types.js';
import { TurnQueue } from '../src/store/turn-batch.js';
import type { FloorResponse } from './floor-worker.js';
import { sandboxCredentials, VANILO_KEY } from './netopia.js';

const apiKeyHash = process.env.BENCH_FLOOR_API_KEY_SHA256;
if (!apiKeyHash) throw new Error('BENCH_FLOOR_API_KEY_SHA256 is required');

// ---- the store: PostgreSQL through pg, or PGlite in this process
const SCHEMA = [
  'CREATE TABLE IF NOT EXISTS floor_inbox (id bigserial PRIMARY KEY, order_id text NOT NULL, crc text NOT NULL, body text NOT NULL, received_at timestamptz NOT NULL DEFAULT now())',
  'CREATE TABLE IF NOT EXISTS floor_payments (id text PRIMARY KEY, idempotency_key text NOT NULL UNIQUE, order_id text NOT NULL, amount bigint NOT NULL, currency text NOT NULL, redirect jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now())',
];
const INSERT_IPNS = 'INSERT INTO floor_inbox (order_id, crc, body) SELECT * FROM unnest($1::text[], $2::text[], $3::text[])';
const INSERT_PAYMENTS =
  'INSERT INTO floor_payments (id, idempotency_key, order_id, amount, currency, redirect) SELECT id, k, o, a, c, r::jsonb FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[]) AS u(id, k, o, a, c, r) ON CONFLICT (idempotency_key) DO NOTHING';
type Query = (text: string, values?: unknown[], name?: string) => Promise<unknown[]>;
let query: Query;
let closeStore: () => Promise<void>;
if (process.env.BENCH_FLOOR_DATABASE_URL) {
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({ connectionString: process.env.BENCH_FLOOR_DATABASE_URL, max: Number(process.env.BENCH_HUB_POOL_SIZE ?? 10) });
  query = async (text, values, name) => (await pool.query({ text, values, name })).rows;
  closeStore = () => pool.end();
} else {
  const { PGlite } = await import('@electric-sql/pglite');
  const dir = process.env.BENCH_FLOOR_DATA_DIR;
  if (!dir) throw new Error('BENCH_FLOOR_DATABASE_URL or BENCH_FLOOR_DATA_DIR is required');
  const db = new PGlite(dir);
  query = async (text, values) => (await db.query(text, values)).rows;
  closeStore = () => db.close();
}
for (const statement of SCHEMA) await query(statement);

/**
 * Group commit with the hub's own TurnQueue: the rows asked for in one event-loop turn go out as one INSERT of
 * column arrays (`unnest`); every caller learns that INSERT's fate.
 */
function groupInsert(text: string, name: string, columns: number): (row: unknown[]) => Promise<void> {
  const queue = new TurnQueue<unknown[], void>({
    batch: async (rows) => {
      await query(
        text,
        Array.from({ length: columns }, (_, c) => rows.map((row) => row[c])),
        name,
      );
      return rows.map(() => undefined);
    },
    maxBatch: Infinity,
  });
  return (row) => queue.push(row);
}
const storeIpn = groupInsert(INSERT_IPNS, 'floor-ipns', 3);
const storePayment = groupInsert(INSERT_PAYMENTS, 'floor-payments', 6);

// ---- verification threads, least busy first
const threads = Array.from({ length: Number(process.env.BENCH_FLOOR_THREADS || availableParallelism()) }, () => ({
  worker: new Worker(new URL('./floor-worker-boot.mjs', import.meta.url), { workerData: { keyPem: VANILO_KEY } }),
  inFlight: 0,
}));
const pending = new Map<number, (r: FloorResponse) => void>();
let nextId = 1;
for (const t of threads) {
  t.worker.on('message', (r: FloorResponse) => {
    t.inFlight--;
    const p = pending.get(r.id);
    pending.delete(r.id);
    p?.(r);
  });
}
function verify(body: string): Promise<FloorResponse> {
  let t = threads[0]!;
  for (const c of threads) if (c.inFlight < t.inFlight) t = c;
  const id = nextId++;
  t.inFlight++;
  return new Promise((resolve) => {
    pending.set(id, resolve);
    t.worker.postMessage({ id, body });
  });
}

// ---- the two routes
const netopia = {
  credentials: netopiaV1.parseCredentials(sandboxCredentials()),
  settings: netopiaV1.parseSettings({}),
  environment: 'sandbox' as const,
  endpoint: netopiaV1.defaultEndpoint('sandbox', 'http://127.0.0.1'),
};

function send(res: ServerResponse, status: number, contentType: string, body: string) {
  res.writeHead(status, { 'content-type': contentType });
  res.end(body);
}
const crc = (res: ServerResponse, inner: string, attributes = '') =>
  send(res, 200, 'application/xml; charset=utf-8', `<?xml version="1.0" encoding="utf-8"?>\n<crc${attributes}>${inner}</crc>`);
const problem = (res: ServerResponse, status: number, detail: string) => send(res, status, 'application/problem+json', JSON.stringify({ status, detail }));

async function ipn(body: string, res: ServerResponse) {
  const verdict = await verify(body);
  if ('error' in verdict) return crc(res, verdict.error.replace(/[<&]/g, '?'), ' error_type="2" error_code="1"');
  try {
    await storeIpn([verdict.orderId, verdict.crc, body]);
  } catch {
    return crc(res, 'temporary failure', ' error_type="1" error_code="2"');
  }
  crc(res, verdict.crc);
}

async function createPayment(req: IncomingMessage, body: string, res: ServerResponse) {
  const auth = req.headers.authorization;
  if (!auth?.startsWith('Bearer ') || createHash('sha256').update(auth.slice(7)).digest('hex') !== apiKeyHash) return problem(res, 401, 'unknown API key');
  const key = req.headers['idempotency-key'];
  if (typeof key !== 'string' || !key) return problem(res, 400, 'Idempotency-Key is required');
  let input: { order_id?: unknown; amount?: unknown; currency?: unknown; description?: unknown; billing?: Party };
  try {
    input = JSON.parse(body);
  } catch {
    return problem(res, 400, 'the body is not JSON');
  }
  const billing = input.billing;
  if (
    typeof input.order_id !== 'string' ||
    !Number.isSafeInteger(input.amount) ||
    (input.amount as number) <= 0 ||
    typeof input.currency !== 'string' ||
    !/^[A-Z]{3}$/.test(input.currency)
  ) {
    return problem(res, 422, 'order_id, amount or currency is invalid');
  }
  if (typeof billing?.first_name !== 'string' || typeof billing.last_name !== 'string' || typeof billing.email !== 'string' || !billing.email.includes('@')) {
    return problem(res, 422, 'billing needs first_name, last_name and email');
  }
  const id = `pay_${randomUUID().replace(/-/g, '')}`;
  const attemptId = `att_${randomUUID().replace(/-/g, '')}`;
  const redirect = netopiaV1.createRedirect!(netopia, {
    reference: attemptId,
    amount: input.amount as number,
    currency: input.currency,
    description: typeof input.description === 'string' ? input.description : '',
    billing,
    metadata: {},
    urls: { notify: 'http://127.0.0.1/notify/netopia-v1/con_floor', return: `http://127.0.0.1/pay/${id}/return` },
    now: new Date(),
  });
  const redirectJson = JSON.stringify(redirect);
  try {
    await storePayment([id, key, input.order_id, input.amount, input.currency, redirectJson]);
  } catch {
    return problem(res, 503, 'could not store the payment');
  }
  send(
    res,
    201,
    'application/json',
    `{"id":"${id}","status":"pending","amount":${input.amount},"currency":"${input.currency}","attempts":[{"id":"${attemptId}","redirect":${redirectJson}}]}`,
  );
}

async function handle(req: IncomingMessage, res: ServerResponse) {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks).toString(req.url === '/ipn' ? 'latin1' : 'utf8');
  if (req.method === 'POST' && req.url === '/ipn') return ipn(body, res);
  if (req.method === 'POST' && req.url === '/v1/payments') return createPayment(req, body, res);
  problem(res, 404, 'no such route');
}

const server = createServer((req, res) => void handle(req, res).catch(() => problem(res, 503, 'temporary failure')));
server.keepAliveTimeout = 60_000;
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const address = server.address();
const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

let closing: Promise<void> | undefined;
const shutdown = (code: number) => {
  closing ??= (async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await Promise.all(threads.map((t) => t.worker.terminate()));
    await closeStore();
    process.exit(code);
  })().catch(() => process.exit(1));
  return closing;
};
process.on('SIGTERM', () => void shutdown(0));
process.on('SIGINT', () => void shutdown(0));
process.on('disconnect', () => void shutdown(0));
process.on('message', (raw) => {
  const m = raw as { type?: string; id?: number; text?: string };
  if (m.type === 'close') void shutdown(0);
  else if (m.type === 'sql') {
    query(m.text ?? '').then(
      (rows) => process.send?.({ type: 'sql', id: m.id, rows }),
      (e: Error) => process.send?.({ type: 'sql', id: m.id, error: e.message }),
    );
  }
});

process.stdout.write(`floor listening on ${url} (pid ${process.pid}, ${process.env.BENCH_FLOOR_DATABASE_URL ? 'postgres' : 'pglite'})\n`);
process.send?.({ type: 'ready', url, pid: process.pid });
